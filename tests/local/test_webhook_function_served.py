"""functions/notify served through functions-framework's test client, wired to the real adapters: the
keyset is fetched over HTTP from the simulator (a loopback socket), hence this tier."""

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
from helper.webhooks import WEBHOOK_SECRET, write_participant_index
from tests.webhook_support import SECRET, body_of, local_settings, notification

pytestmark = pytest.mark.webhook
ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "functions/notify/main.py"


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
    write_participant_index(store)  # what enrolment does: notify reads the index, never a grant
    save_grant(store, ParticipantGrant("p3", "1//refresh", ("s",), "3000000000000000003", None,
                                       datetime(2026, 11, 1, tzinfo=timezone.utc)))  # enrolled after the index
    client = functions_framework.create_app("notify", str(MAIN), "http").test_client()
    return client, settings, hid, live.sim.webhooks.keys


def _queued_units(settings: Settings) -> list[Unit]:
    queue = compose.adapters(settings).queue
    units = []
    while (delivery := queue.pop_ready()) is not None:
        queue.ack(delivery)  # the durable queue keeps a delivery until its handler acknowledges it
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




def test_a_participant_missing_from_the_index_is_recorded_as_unknown_and_not_fetched(served):
    client, settings, _, keys = served
    body = body_of(notification("3000000000000000003", "steps"))
    assert client.post("/", data=body, headers={"GOOGLE-HEALTH-API-SIGNATURE": keys.sign(body)}).status_code == 204
    assert _queued_units(settings) == []
    assert list((settings.raw_dir / "objects" / "errors" / "webhooks" / "unknown-user").rglob("*.json"))


def test_claims_land_in_the_claims_store_not_in_the_raw_bucket(served):
    client, settings, hid, keys = served
    body = body_of(notification(hid, "steps"))
    assert client.post("/", data=body, headers={"GOOGLE-HEALTH-API-SIGNATURE": keys.sign(body)}).status_code == 204
    assert list((settings.claims_dir / "objects" / "webhooks" / "claims").rglob("*"))
    assert not (settings.raw_dir / "objects" / "webhooks").exists()
