"""Secret stores and the typed grant records: the local 0600 file and the grants it holds.

``SecretManagerStore`` is covered over a fake of its REST API on loopback in tests/local/test_secret_manager.py.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from fitbit.errors import ReconsentNeeded
from fitbit.oauth import OAuthClientConfig
from helper.secrets import (
    InsecureSecretFile,
    LocalSecretStore,
    ParticipantGrant,
    enrolled_participants,
    load_grant,
    load_oauth_client,
    save_grant,
    save_oauth_client,
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


def test_deleting_one_name_leaves_the_others_and_the_file_mode_intact(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put("participant-user1", "one")
    store.put("participant-user2", "two")
    assert store.delete("participant-user1") is True
    assert store.delete("participant-user1") is False  # withdrawal run twice
    assert store.names() == ["participant-user2"] and store.get("participant-user2") == "two"
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600


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
