"""Where refresh tokens and the OAuth client live: a narrow ``SecretStore`` and two implementations.

- ``LocalSecretStore``: one JSON file for the local runtime (``.state/secrets.json``), created 0600,
  written atomically (temp file + ``os.replace``) under an exclusive lock, refused when group/world
  accessible.
- ``SecretManagerStore``: Google Secret Manager, one secret per name, labelled ``app=fitbit-pipeline``;
  ``put`` adds a version (creating the secret first if needed), ``get`` reads ``latest``.

Records kept in a store (one JSON document each):

- ``participant-<id>``: ``ParticipantGrant`` (refresh token, granted scopes, healthUserId, time zone,
  when it was granted and, for 7-day "Testing" grants, when it expires);
- ``oauth-client``: ``client_id, client_secret, auth_uri, token_uri, revoke_uri``.

Secret Manager facts (REST v1, checked 2026-11-23): secret ids are 1-255 chars of ``[A-Za-z0-9_-]``;
payloads carry an optional CRC32C that we send and verify; ``versions/latest`` is the newest enabled one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import google_crc32c
from google.api_core import exceptions as api_exceptions

from fitbit.errors import NetworkError, ReconsentNeeded
from fitbit.oauth import OAuthClientConfig

__all__ = [
    "APP_LABEL",
    "OAUTH_CLIENT_SECRET",
    "PARTICIPANT_PREFIX",
    "InsecureSecretFile",
    "check_participant_id",
    "LocalSecretStore",
    "ParticipantGrant",
    "SecretManagerStore",
    "SecretStore",
    "enrolled_participants",
    "load_grant",
    "load_oauth_client",
    "save_grant",
    "save_oauth_client",
    "secret_id",
]

APP_LABEL = ("app", "fitbit-pipeline")
PARTICIPANT_PREFIX = "participant-"
OAUTH_CLIENT_SECRET = "oauth-client"
_PARTICIPANT_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def check_participant_id(participant_id: str) -> str:
    """Return ``participant_id`` if it is usable in a secret name (``[A-Za-z0-9_-]``, 1-200 chars).

    Raises:
        ValueError: it is not.
    """
    if not isinstance(participant_id, str) or not _PARTICIPANT_ID.match(participant_id):
        raise ValueError(f"participant id {participant_id!r} must be 1-200 characters of [A-Za-z0-9_-]")
    return participant_id


class SecretStore(Protocol):
    """The three operations the pipeline needs from a secret backend."""

    def get(self, name: str) -> str | None: ...

    def put(self, name: str, value: str) -> None: ...

    def names(self, prefix: str = "") -> list[str]: ...


class InsecureSecretFile(PermissionError):
    """The local secrets file can be read by other users."""


def _check_value(name: str, value: str) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError("a secret needs a non-empty name")
    if not isinstance(value, str):
        raise TypeError(f"secret {name!r}: values are strings (serialise JSON first)")


class LocalSecretStore:
    """All secrets in one 0600 JSON object file (``{name: value}``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, str]:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return {}
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InsecureSecretFile(
                    f"{self.path} is accessible to other users (mode {stat.S_IMODE(mode):04o}); it holds refresh "
                    f"tokens: run `chmod 600 {self.path}` (and consider whether the tokens were exposed)"
                )
            try:
                data = json.load(handle)
            except ValueError:
                raise ValueError(f"{self.path} is not valid JSON; restore it or delete it and re-authorise") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{self.path} must hold one JSON object of string values")
        return data

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        finally:
            os.close(lock)

    def get(self, name: str) -> str | None:
        return self._read().get(name)

    def put(self, name: str, value: str) -> None:
        """Set ``name`` atomically; other names are left exactly as they were."""
        _check_value(name, value)
        with self._locked():
            data = self._read()
            data[name] = value
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # created 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle, indent=2, sort_keys=True)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise

    def names(self, prefix: str = "") -> list[str]:
        return sorted(n for n in self._read() if n.startswith(prefix))


def secret_id(name: str) -> str:
    """A Secret Manager secret id for ``name``: characters outside ``[A-Za-z0-9_-]`` become ``_``."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:255]
    if not cleaned:
        raise ValueError("a secret needs a non-empty name")
    return cleaned


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
        _check_value(name, value)
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

    def names(self, prefix: str = "") -> list[str]:
        """Secret ids labelled ``app=fitbit-pipeline`` that start with ``secret_id(prefix)``."""
        wanted = secret_id(prefix) if prefix else ""
        request = {"parent": f"projects/{self.project}", "filter": f"labels.{APP_LABEL[0]}={APP_LABEL[1]}"}
        ids = (secret.name.rsplit("/", 1)[-1] for secret in self.client.list_secrets(request=request))
        return sorted(i for i in ids if i.startswith(wanted))


# --- typed records --------------------------------------------------------------------------------


def _aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


@dataclass(frozen=True)
class ParticipantGrant:
    """One participant's consent as stored under ``participant-<id>``. The token is hidden from ``repr``."""

    participant_id: str
    refresh_token: str = field(repr=False)
    scopes: tuple[str, ...]
    health_user_id: str | None
    time_zone: str | None
    granted_at: datetime
    refresh_token_expires_at: datetime | None = None

    def __post_init__(self) -> None:
        check_participant_id(self.participant_id)
        if not isinstance(self.refresh_token, str) or not self.refresh_token:
            raise ValueError(f"participant {self.participant_id}: the grant has no refresh token")
        object.__setattr__(self, "scopes", tuple(self.scopes))
        _aware(self.granted_at, "granted_at")
        if self.refresh_token_expires_at is not None:
            _aware(self.refresh_token_expires_at, "refresh_token_expires_at")

    @property
    def secret_name(self) -> str:
        return PARTICIPANT_PREFIX + self.participant_id

    def to_json(self) -> str:
        expires = self.refresh_token_expires_at
        return json.dumps({
            "participant_id": self.participant_id,
            "refresh_token": self.refresh_token,
            "scopes": list(self.scopes),
            "health_user_id": self.health_user_id,
            "time_zone": self.time_zone,
            "granted_at": self.granted_at.isoformat(),
            "refresh_token_expires_at": expires.isoformat() if expires else None,
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ParticipantGrant:
        """Parse a stored grant.

        Raises:
            ValueError: not JSON, a missing key or a wrongly typed value (the message names the key,
                never the token).
        """
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("a stored participant grant is not valid JSON") from None
        if not isinstance(data, dict):
            raise ValueError("a stored participant grant must be a JSON object")
        required = ("participant_id", "refresh_token", "scopes", "granted_at")
        missing = [k for k in required if k not in data]
        if missing:
            raise ValueError(f"a stored participant grant lacks {missing}")
        scopes = data["scopes"]
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("a stored participant grant's 'scopes' must be a list of strings")
        for key in ("participant_id", "refresh_token", "granted_at"):
            if not isinstance(data[key], str):
                raise ValueError(f"a stored participant grant's {key!r} must be a string")
        for key in ("health_user_id", "time_zone", "refresh_token_expires_at"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"a stored participant grant's {key!r} must be a string or null")
        expires = data.get("refresh_token_expires_at")
        try:
            granted_at = datetime.fromisoformat(data["granted_at"])
            expires_at = datetime.fromisoformat(expires) if expires else None
        except ValueError:
            raise ValueError("a stored participant grant has a malformed timestamp") from None
        return cls(data["participant_id"], data["refresh_token"], tuple(scopes), data.get("health_user_id"),
                   data.get("time_zone"), granted_at, expires_at)


def save_grant(store: SecretStore, grant: ParticipantGrant) -> None:
    """Store (or replace) one participant's grant; other participants are untouched."""
    store.put(grant.secret_name, grant.to_json())


def load_grant(store: SecretStore, participant_id: str) -> ParticipantGrant:
    """The stored grant of ``participant_id``.

    Raises:
        ReconsentNeeded: no grant is stored for that participant (the fix is to run the consent script).
        ValueError: the stored record is malformed.
    """
    text = store.get(PARTICIPANT_PREFIX + participant_id)
    if text is None:
        raise ReconsentNeeded(
            f"no grant is stored for participant {participant_id}",
            fix=f"run `python scripts/authorise.py --participant {participant_id}`",
        )
    grant = ParticipantGrant.from_json(text)
    if grant.participant_id != participant_id:
        raise ValueError(f"the grant stored for participant {participant_id} names another participant")
    return grant


def enrolled_participants(store: SecretStore) -> list[str]:
    """Ids of every participant with a stored grant, sorted."""
    return sorted(name[len(PARTICIPANT_PREFIX):] for name in store.names(PARTICIPANT_PREFIX))


def save_oauth_client(store: SecretStore, config: OAuthClientConfig) -> None:
    store.put(OAUTH_CLIENT_SECRET, json.dumps({
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "auth_uri": config.auth_uri,
        "token_uri": config.token_uri,
        "revoke_uri": config.revoke_uri,
    }, sort_keys=True))


def load_oauth_client(store: SecretStore) -> OAuthClientConfig | None:
    """The OAuth client stored under ``oauth-client``, or None when there is none.

    Raises:
        ValueError: the stored record is malformed.
    """
    text = store.get(OAUTH_CLIENT_SECRET)
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError(f"secret {OAUTH_CLIENT_SECRET!r} is not valid JSON") from None
    keys = ("client_id", "client_secret", "auth_uri", "token_uri", "revoke_uri")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys[:2]):
        raise ValueError(f"secret {OAUTH_CLIENT_SECRET!r} needs string client_id and client_secret")
    return OAuthClientConfig(**{k: data[k] for k in keys if isinstance(data.get(k), str)})
