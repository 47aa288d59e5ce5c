"""functions/notify: thin, HTTP, no I/O at import; its settings and the participant index it reads.

Served end to end (keyset fetched over HTTP): tests/local/test_webhook_function_served.py.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import functions_framework
import pytest

from fitbit.webhooks.participants import Enrolled
from helper import compose
from helper.secrets import LocalSecretStore, ParticipantGrant, save_grant
from helper.settings import Settings
from helper.webhooks import PARTICIPANT_INDEX, indexed_users, parse_secrets, write_participant_index
from tests.webhook_support import local_settings

pytestmark = pytest.mark.webhook
ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "functions/notify/main.py"


def test_the_notify_entry_point_stays_thin():
    assert len(MAIN.read_text().splitlines()) < 50


def test_notify_registers_as_an_http_function_without_io_at_import():
    compose._adapters.cache_clear()
    app = functions_framework.create_app("notify", str(MAIN), "http")
    assert app is not None
    assert compose._adapters.cache_info().currsize == 0, "importing the function built adapters"


def test_the_settings_carry_the_webhook_options_through_the_environment(tmp_path):
    settings = local_settings(tmp_path, "http://127.0.0.1:9/", WEBHOOK_COALESCE_S="15",
                              WEBHOOK_REQUIRE_AUTHORIZATION="true")
    assert settings.webhook_keyset_url == "http://127.0.0.1:9/webhooks/public_keyset.json"
    assert (settings.webhook_coalesce_s, settings.webhook_require_authorization) == (15.0, True)
    assert Settings.from_env(settings.to_env()) == settings


def test_the_stored_secret_may_list_an_old_and_a_new_value_while_rotating():
    assert parse_secrets(None) == ()
    assert parse_secrets("Bearer a") == ("Bearer a",)
    assert parse_secrets('["Bearer new", "Bearer old"]') == ("Bearer new", "Bearer old")
    with pytest.raises(ValueError):
        parse_secrets('["Bearer new", 3]')


def test_the_participant_index_lists_who_and_in_which_zone_but_never_a_token(tmp_path):
    store = LocalSecretStore(tmp_path / "secrets.json")
    granted = datetime(2026, 11, 1, tzinfo=timezone.utc)
    save_grant(store, ParticipantGrant("p2", "1//refresh-two", ("s",), "222", "Europe/London", granted))
    save_grant(store, ParticipantGrant("p1", "1//refresh-one", ("s",), "111", None, granted))
    assert indexed_users(store) == [], "no index yet: nobody is known to notify"
    assert write_participant_index(store) == 2
    text = store.get(PARTICIPANT_INDEX)
    assert "refresh" not in text and "1//" not in text
    assert indexed_users(store) == [Enrolled("p1", "111", None), Enrolled("p2", "222", "Europe/London")]


def test_a_broken_index_names_the_command_that_rebuilds_it(tmp_path):
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put(PARTICIPANT_INDEX, '{"not": "a list"}')
    with pytest.raises(ValueError, match="scripts/webhooks.py index"):
        indexed_users(store)


def test_claims_are_kept_apart_from_the_raw_objects_so_they_fire_no_transform(tmp_path):
    settings = local_settings(tmp_path, "http://127.0.0.1:9/")
    claims = compose.notify_context(settings).claims._store  # noqa: SLF001 - the store it claims in
    assert (claims.bucket, settings.claims_bucket) == ("fitbit-raw-claims", "fitbit-raw-claims")
    assert claims.on_finalize is None and settings.claims_dir != settings.raw_dir
