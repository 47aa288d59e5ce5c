"""Secrets in Google Secret Manager: one secret per name, labelled ``app=fitbit-pipeline``.

``put`` adds a version (creating the labelled secret first if needed); ``get`` reads ``latest``.

Secret Manager facts (REST v1, checked 2026-11-23): secret ids are 1-255 chars of ``[A-Za-z0-9_-]``;
payloads carry an optional CRC32C that we send and verify; ``versions/latest`` is the newest enabled one.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import google_crc32c
from google.api_core import exceptions as api_exceptions

from fitbit.errors import NetworkError
from helper.secrets.store import check_secret

APP_LABEL = ("app", "fitbit-pipeline")


_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_MAPPED = "--x"  # marks an id derived from a name Secret Manager cannot spell; valid names never hold it


def secret_id(name: str) -> str:
    """The Secret Manager secret id for ``name``, one-to-one.

    A name that is already a valid id (every name the pipeline makes: participant ids are checked to
    ``[A-Za-z0-9_-]``) is its own id. Any other name gets a readable prefix plus a hash of the whole
    name, so ``user.1`` and ``user_1`` can never share a secret (the old mapping sent both to ``user_1``).

    Raises:
        ValueError: the name is empty, or is a valid id that holds the reserved marker ``--x``.
    """
    if not isinstance(name, str) or not name:
        raise ValueError("a secret needs a non-empty name")
    if _SECRET_ID.match(name):
        if _MAPPED in name:
            raise ValueError(f"secret names may not contain {_MAPPED!r} (reserved for mapped names)")
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    readable = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:200]
    return f"{readable}{_MAPPED}{digest}"


class SecretManagerStore:
    """Secrets in Google Secret Manager (``projects/<project>/secrets/<secret_id(name)>``).

    Args:
        project: the Cloud project id or number.
        client: a ``secretmanager.SecretManagerServiceClient``; built lazily on first use when omitted
            (building one resolves credentials, which is I/O).
    """

    def __init__(self, project: str, client: Any | None = None) -> None:
        if not project:
            raise ValueError("SecretManagerStore needs a project")
        self.project = project
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.cloud import secretmanager

            self._client = secretmanager.SecretManagerServiceClient()
        return self._client

    def _secret(self, name: str) -> str:
        return f"projects/{self.project}/secrets/{secret_id(name)}"

    def get(self, name: str) -> str | None:
        """The latest version's value, or None when the secret (or any version of it) does not exist.

        Raises:
            NetworkError: the payload's checksum does not match (corrupted in transit).
        """
        try:
            response = self.client.access_secret_version(name=f"{self._secret(name)}/versions/latest")
        except api_exceptions.NotFound:
            return None
        data = response.payload.data
        expected = response.payload.data_crc32c
        if expected is not None and google_crc32c.value(data) != int(expected):
            raise NetworkError(f"Secret Manager: checksum mismatch reading secret {secret_id(name)}; retried")
        return data.decode("utf-8")

    def put(self, name: str, value: str) -> None:
        """Add a new version holding ``value``, creating the labelled secret first if it is missing."""
        check_secret(name, value)
        data = value.encode("utf-8")
        payload = {"data": data, "data_crc32c": google_crc32c.value(data)}
        try:
            self.client.add_secret_version(parent=self._secret(name), payload=payload)
            return
        except api_exceptions.NotFound:
            pass
        try:
            self.client.create_secret(
                parent=f"projects/{self.project}",
                secret_id=secret_id(name),
                secret={"replication": {"automatic": {}}, "labels": dict([APP_LABEL])},
            )
        except api_exceptions.AlreadyExists:
            pass  # created concurrently: fine
        self.client.add_secret_version(parent=self._secret(name), payload=payload)

    def delete(self, name: str) -> bool:
        """Delete the secret and every version of it (consent withdrawal); False when it did not exist."""
        try:
            self.client.delete_secret(name=self._secret(name))
        except api_exceptions.NotFound:
            return False
        return True

    def names(self, prefix: str = "") -> list[str]:
        """Secret ids labelled ``app=fitbit-pipeline`` that start with ``prefix``.

        Raises:
            ValueError: ``prefix`` is not itself a valid secret id (a mapped name has no usable prefix).
        """
        if prefix and not _SECRET_ID.match(prefix):
            raise ValueError(f"list prefix {prefix!r} must be characters of [A-Za-z0-9_-]")
        wanted = prefix
        request = {"parent": f"projects/{self.project}", "filter": f"labels.{APP_LABEL[0]}={APP_LABEL[1]}"}
        ids = (secret.name.rsplit("/", 1)[-1] for secret in self.client.list_secrets(request=request))
        return sorted(i for i in ids if i.startswith(wanted))
