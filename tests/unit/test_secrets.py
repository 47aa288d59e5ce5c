"""Secret stores and the typed grant records.

``SecretManagerStore`` runs the real ``SecretManagerServiceClient`` over its REST transport against a
small fake of the Secret Manager v1 REST API on loopback, so request shapes (ids, labels, CRC32C,
``versions/latest``, paging) are exercised end to end without patching anything.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import google_crc32c
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager
from google.cloud.secretmanager_v1.services.secret_manager_service.transports.rest import (
    SecretManagerServiceRestTransport,
)

from fitbit.errors import NetworkError, ReconsentNeeded
from fitbit.oauth import OAuthClientConfig
from helper.secrets import (
    InsecureSecretFile,
    LocalSecretStore,
    ParticipantGrant,
    SecretManagerStore,
    enrolled_participants,
    load_grant,
    load_oauth_client,
    save_grant,
    save_oauth_client,
    secret_id,
)

GRANTED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def grant(pid: str = "user1", token: str = "1//REFRESH-SECRET-1", **changes: Any) -> ParticipantGrant:
    values: dict[str, Any] = {
        "participant_id": pid, "refresh_token": token,
        "scopes": ("https://www.googleapis.com/auth/googlehealth.sleep.readonly",),
        "health_user_id": "2210458839101187653", "time_zone": "Europe/Berlin", "granted_at": GRANTED,
        "refresh_token_expires_at": None,
    }
    values.update(changes)
    return ParticipantGrant(**values)


# --- LocalSecretStore ------------------------------------------------------------------------------


def test_the_local_file_is_created_private_and_round_trips(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "state" / "secrets.json")
    store.put("participant-user1", "v1")
    assert store.get("participant-user1") == "v1"
    assert stat.S_IMODE(os.stat(tmp_path / "state" / "secrets.json").st_mode) == 0o600


def test_putting_one_name_leaves_the_others_intact(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put("participant-user1", "one")
    store.put("participant-user2", "two")
    store.put("participant-user2", "two-again")
    assert (store.get("participant-user1"), store.get("participant-user2")) == ("one", "two-again")


def test_a_missing_file_or_name_reads_as_none(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "nothing.json")
    assert store.get("x") is None and store.names() == []


def test_names_are_filtered_by_prefix_and_sorted(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    for name in ("participant-b", "oauth-client", "participant-a"):
        store.put(name, "v")
    assert store.names("participant-") == ["participant-a", "participant-b"]
    assert len(store.names()) == 3


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_file_other_users_can_access_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "secrets.json"
    LocalSecretStore(path).put("a", "b")
    path.chmod(mode)
    with pytest.raises(InsecureSecretFile, match="chmod 600"):
        LocalSecretStore(path).get("a")


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put("a", "1")
    store.put("b", "2")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("secrets.json", "secrets.json.lock")]
    assert leftovers == []
    assert json.loads((tmp_path / "secrets.json").read_text()) == {"a": "1", "b": "2"}


def test_concurrent_puts_of_different_names_all_survive(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    threads = [threading.Thread(target=LocalSecretStore(path).put, args=(f"n{i}", str(i))) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert LocalSecretStore(path).names() == sorted(f"n{i}" for i in range(12))


def test_a_corrupt_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="not valid JSON"):
        LocalSecretStore(path).put("a", "b")
    assert path.read_text() == "{not json"


def test_values_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        LocalSecretStore(tmp_path / "s.json").put("a", {"b": 1})  # type: ignore[arg-type]


# --- typed records -------------------------------------------------------------------------------


def test_a_grant_round_trips_through_json_with_the_documented_keys() -> None:
    original = grant(refresh_token_expires_at=GRANTED + timedelta(days=7))
    data = json.loads(original.to_json())
    assert set(data) == {"participant_id", "refresh_token", "scopes", "health_user_id", "time_zone", "granted_at",
                         "refresh_token_expires_at"}
    assert isinstance(data["scopes"], list) and data["granted_at"] == "2026-11-23T10:00:00+00:00"
    assert ParticipantGrant.from_json(original.to_json()) == original


def test_a_production_grant_stores_a_null_expiry() -> None:
    assert json.loads(grant().to_json())["refresh_token_expires_at"] is None


def test_the_refresh_token_stays_out_of_repr_and_parse_errors() -> None:
    assert "REFRESH-SECRET" not in repr(grant())
    broken = json.loads(grant().to_json())
    del broken["granted_at"]
    with pytest.raises(ValueError, match="granted_at") as caught:
        ParticipantGrant.from_json(json.dumps(broken))
    assert "REFRESH-SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    "change",
    [{"scopes": "a b"}, {"granted_at": "yesterday"}, {"health_user_id": 5}, {"participant_id": "a/b"}],
    ids=["scopes-string", "bad-time", "id-number", "bad-participant"],
)
def test_malformed_stored_grants_are_refused(change: dict[str, Any]) -> None:
    data = {**json.loads(grant().to_json()), **change}
    with pytest.raises(ValueError):
        ParticipantGrant.from_json(json.dumps(data))


def test_grant_times_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        grant(granted_at=datetime(2026, 11, 23))
    assert grant(granted_at=datetime(2026, 11, 23, tzinfo=timezone(timedelta(hours=1)))).granted_at.utcoffset()


def test_grants_of_several_participants_live_side_by_side(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    save_grant(store, grant("user1", "1//ONE"))
    save_grant(store, grant("user2", "1//TWO"))
    assert load_grant(store, "user1").refresh_token == "1//ONE"
    assert load_grant(store, "user2").refresh_token == "1//TWO"
    assert enrolled_participants(store) == ["user1", "user2"]


def test_a_participant_without_a_grant_needs_the_consent_script(tmp_path: Path) -> None:
    with pytest.raises(ReconsentNeeded) as caught:
        load_grant(LocalSecretStore(tmp_path / "s.json"), "user9")
    assert "authorise.py --participant user9" in caught.value.fix


def test_the_oauth_client_round_trips_and_is_absent_until_saved(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "s.json")
    assert load_oauth_client(store) is None
    config = OAuthClientConfig.for_base_url("http://127.0.0.1:8080/")
    save_oauth_client(store, config)
    assert load_oauth_client(store) == config
    assert set(json.loads(store.get("oauth-client") or "")) == {
        "client_id", "client_secret", "auth_uri", "token_uri", "revoke_uri"}


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

        do_GET = do_POST = _serve

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


def test_secret_ids_are_sanitised_consistently(secret_manager: Any) -> None:
    fake, store = secret_manager
    store.put("participant-jane.doe@x", "v")
    assert "projects/proj-1/secrets/participant-jane_doe_x" in fake.secrets
    assert store.get("participant-jane.doe@x") == "v"
    assert secret_id("a b/c") == "a_b_c"


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
