"""functions/notify through functions-framework: thin, HTTP, no I/O at import, and wired to the real adapters."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import functions_framework
import pytest

from fitbit.messages import Unit, decode
from helper import compose
from helper.cloudevents import message_from_pubsub_event
from helper.secrets import LocalSecretStore, ParticipantGrant, save_grant
from helper.settings import Settings
from helper.webhooks import WEBHOOK_SECRET, parse_secrets
from tests.webhook_support import SECRET, body_of, local_settings, notification

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


@pytest.fixture
def served(tmp_path, live, monkeypatch):  # noqa: ANN001, ANN201
    settings = local_settings(tmp_path, live.base_url)
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    store = LocalSecretStore(settings.secrets_file)
    store.put(WEBHOOK_SECRET, SECRET)
    hid = live.sim.cohort.by_label("user2").health_user_id
    save_grant(store, ParticipantGrant("p2", "1//refresh", ("s",), hid, "America/New_York",
                                       datetime(2026, 11, 1, tzinfo=timezone.utc)))
    client = functions_framework.create_app("notify", str(MAIN), "http").test_client()
    return client, settings, hid, live.sim.webhooks.keys


def _queued_units(settings: Settings) -> list[Unit]:
    queue = compose.adapters(settings).queue
    units = []
    while (delivery := queue.pop_ready()) is not None:
        if "message" in delivery.data:
            units.append(decode(message_from_pubsub_event(delivery.data)))
    return units


def test_a_signed_notification_is_answered_204_and_its_units_reach_the_units_queue(served):
    client, settings, hid, keys = served
    body = body_of(notification(hid, "steps", "2026-11-04T10:00:00", "2026-11-04T10:15:00"))
    response = client.post("/", data=body, headers={"GOOGLE-HEALTH-API-SIGNATURE": keys.sign(body),
                                                    "Content-Type": "application/json"})
    assert response.status_code == 204 and response.data == b""
    units = _queued_units(settings)
    assert {(u.participant, u.data_type, u.method, str(u.start)) for u in units} == {
        ("p2", "steps", "reconcile", "2026-11-04"), ("p2", "steps", "dailyRollUp", "2026-11-04")}


def test_the_handshake_and_refusals_through_the_function(served):
    client, settings, hid, keys = served
    verification = json.dumps({"type": "verification"})
    assert client.post("/", data=verification, headers={"Authorization": SECRET}).status_code == 201
    assert client.post("/", data=verification).status_code == 401
    body = body_of(notification(hid))
    assert client.post("/", data=body).status_code == 401
    assert client.post("/", data=body, headers={"X-HEALTHAPI-SIGNATURE": keys.sign(body + b"x")}).status_code == 401
    huge = b"[" + b" " * (2 * 1024 * 1024) + b"]"
    assert client.post("/", data=huge, headers={"X-HEALTHAPI-SIGNATURE": keys.sign(huge)}).status_code == 413
    assert _queued_units(settings) == []


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
