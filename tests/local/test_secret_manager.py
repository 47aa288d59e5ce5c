"""``SecretManagerStore`` runs the real ``SecretManagerServiceClient`` over its REST transport against a
small fake of the Secret Manager v1 REST API on loopback, so request shapes (ids, labels, CRC32C,
``versions/latest``, paging) are exercised end to end without patching anything.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google_crc32c
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager
from google.cloud.secretmanager_v1.services.secret_manager_service.transports.rest import (
    SecretManagerServiceRestTransport,
)

from fitbit.errors import NetworkError
from helper.secrets import ParticipantGrant, SecretManagerStore, enrolled_participants, load_grant, save_grant, secret_id


def grant(pid: str, token: str = "1//REFRESH-SECRET-1") -> ParticipantGrant:
    return ParticipantGrant(pid, token, ("https://www.googleapis.com/auth/googlehealth.sleep.readonly",),
                            "2210458839101187653", "Europe/Berlin", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


# --- SecretManagerStore over a fake Secret Manager REST API ---------------------------------------


class FakeSecretManager:
    """Just enough of Secret Manager v1 REST: create, addVersion, access latest, list with filter and pages."""

    def __init__(self) -> None:
        self.secrets: dict[str, dict[str, Any]] = {}  # full secret name -> {"labels", "versions": [payload]}
        self.corrupt = False
        self.list_filters: list[str] = []

    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> tuple[int, dict]:
        if method == "POST" and path.endswith(":addVersion"):
            name = path.removesuffix(":addVersion")
            if name not in self.secrets:
                return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Secret not found"}}
            data = base64.b64decode(body["payload"]["data"])
            assert int(body["payload"]["dataCrc32c"]) == google_crc32c.value(data)
            self.secrets[name]["versions"].append(data)
            return 200, {"name": f"{name}/versions/{len(self.secrets[name]['versions'])}", "state": "ENABLED"}
        if method == "POST" and path.endswith("/secrets"):
            name = f"{path}/{query['secretId']}"
            if name in self.secrets:
                return 409, {"error": {"code": 409, "status": "ALREADY_EXISTS", "message": "exists"}}
            assert body["replication"] == {"automatic": {}}
            self.secrets[name] = {"labels": body.get("labels", {}), "versions": []}
            return 200, {"name": name, "labels": body.get("labels", {})}
        if method == "GET" and path.endswith("/versions/latest:access"):
            name = path.removesuffix("/versions/latest:access")
            versions = self.secrets.get(name, {}).get("versions")
            if not versions:
                return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "no version"}}
            data = versions[-1]
            crc = google_crc32c.value(data) + (1 if self.corrupt else 0)
            return 200, {"name": f"{name}/versions/{len(versions)}",
                         "payload": {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)}}
        if method == "DELETE" and "/secrets/" in path:
            if self.secrets.pop(path, None) is None:
                return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": "Secret not found"}}
            return 200, {}
        if method == "GET" and path.endswith("/secrets"):
            self.list_filters.append(query.get("filter", ""))
            key, _, value = query.get("filter", "").removeprefix("labels.").partition("=")
            names = sorted(n for n in self.secrets if not key or self.secrets[n]["labels"].get(key) == value)
            start = int(query.get("pageToken") or 0)
            chunk = names[start:start + 2]  # tiny pages, so paging is exercised
            more = start + 2 < len(names)
            return 200, {"secrets": [{"name": n} for n in chunk], **({"nextPageToken": str(start + 2)} if more else {})}
        return 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": f"no route {method} {path}"}}


@pytest.fixture
def secret_manager() -> Iterator[tuple[FakeSecretManager, SecretManagerStore]]:
    fake = FakeSecretManager()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = fake.handle(self.command, url.path.removeprefix("/v1/"), query, body)
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    transport = SecretManagerServiceRestTransport(host=f"127.0.0.1:{server.server_address[1]}", url_scheme="http",
                                                  credentials=AnonymousCredentials())
    client = secretmanager.SecretManagerServiceClient(transport=transport)
    try:
        yield fake, SecretManagerStore("proj-1", client)
    finally:
        server.shutdown()
        server.server_close()


def test_put_creates_a_labelled_secret_then_adds_versions(secret_manager: Any) -> None:
    fake, store = secret_manager
    store.put("participant-user1", "v1")
    store.put("participant-user1", "v2")
    secret = fake.secrets["projects/proj-1/secrets/participant-user1"]
    assert secret["labels"] == {"app": "fitbit-pipeline"} and secret["versions"] == [b"v1", b"v2"]
    assert store.get("participant-user1") == "v2"


def test_a_missing_secret_reads_as_none(secret_manager: Any) -> None:
    _, store = secret_manager
    assert store.get("participant-nobody") is None


def test_names_list_only_our_labelled_secrets_by_prefix_across_pages(secret_manager: Any) -> None:
    fake, store = secret_manager
    for name in ("participant-a", "participant-b", "participant-c", "oauth-client"):
        store.put(name, "x")
    fake.secrets["projects/proj-1/secrets/participant-foreign"] = {"labels": {}, "versions": [b"x"]}
    assert store.names("participant-") == ["participant-a", "participant-b", "participant-c"]
    assert fake.list_filters[0] == "labels.app=fitbit-pipeline"
    assert enrolled_participants(store) == ["a", "b", "c"]


def test_secret_ids_are_one_to_one_so_names_that_clean_alike_keep_their_own_secrets(secret_manager: Any) -> None:
    fake, store = secret_manager
    store.put("user.1", "dotted")
    store.put("user_1", "underscored")
    assert store.get("user.1") == "dotted" and store.get("user_1") == "underscored"
    assert "projects/proj-1/secrets/user_1" in fake.secrets  # a valid id is its own id
    assert len(fake.secrets) == 2
    mapped = secret_id("a b/c")
    assert mapped.startswith("a_b_c--x") and mapped != secret_id("a_b/c") != secret_id("a b_c")
    assert len(secret_id("é" * 400)) <= 255
    with pytest.raises(ValueError):
        secret_id("plain--xname")  # the marker is reserved: a valid name can never collide with a mapped one
    with pytest.raises(ValueError):
        store.names("participant.")


def test_a_checksum_mismatch_is_a_transient_error(secret_manager: Any) -> None:
    fake, store = secret_manager
    store.put("oauth-client", "{}")
    fake.corrupt = True
    with pytest.raises(NetworkError):
        store.get("oauth-client")


def test_grants_round_trip_through_secret_manager(secret_manager: Any) -> None:
    _, store = secret_manager
    save_grant(store, grant("user1"))
    save_grant(store, grant("user2", "1//TWO"))
    assert load_grant(store, "user1") == grant("user1")
    assert load_grant(store, "user2").refresh_token == "1//TWO"


def test_delete_removes_the_secret_with_its_versions_once(secret_manager: Any) -> None:
    fake, store = secret_manager
    save_grant(store, grant("p1"))
    save_grant(store, grant("p2"))
    assert store.delete("participant-p1") is True
    assert store.get("participant-p1") is None and enrolled_participants(store) == ["p2"]
    assert "projects/proj-1/secrets/participant-p1" not in fake.secrets
    assert store.delete("participant-p1") is False  # withdrawal run twice: nothing to delete
