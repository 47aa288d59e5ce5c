"""The simulator's webhook side over real HTTP: subscribers, the handshake, signed pushes, retries and the modes."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
import requests

from fitbit.webhooks.notification import parse_body
from fitbit.webhooks.signature import KeysetCache, SignatureRejected, verify
from tools.webhook_subscriptions import EndpointVerificationFailed, Subscriptions, subscription_id_for, webhook_types
from helper.webhooks import keyset_fetcher
from simulator import running_simulator
from tests.webhook_support import KEYSET_PATH, SECRET, recording_endpoint
from tools.webhook_subscriptions import simulator_admin_client as admin_client

pytestmark = pytest.mark.webhook
PROJECT = "123456789012"
DAY = date(2026, 11, 5)


@pytest.fixture
def sim():  # noqa: ANN201
    with running_simulator(users=3, days=3, seed=5, sleep_processing_seconds=3600) as running:
        yield running


@pytest.fixture
def endpoint():  # noqa: ANN201
    with recording_endpoint() as receiving:
        yield receiving


@pytest.fixture
def subs(sim, endpoint) -> Subscriptions:
    manager = Subscriptions(admin_client(sim.base_url + "/"), PROJECT, "fitbit-pipeline")
    assert manager.ensure_subscriber(endpoint.url, SECRET) == "created"
    return manager


def _hid(sim, user: str) -> str:  # noqa: ANN001
    return sim.sim.cohort.by_label(user).health_user_id


def _emit(sim, **doc) -> None:  # noqa: ANN001, ANN003
    requests.post(f"{sim.base_url}/_admin/webhooks/emit", json={"day": DAY.isoformat(), **doc},
                  timeout=10).raise_for_status()
    assert sim.sim.webhooks.wait_idle(20)


def _modes(sim, **modes) -> None:  # noqa: ANN001, ANN003
    requests.post(f"{sim.base_url}/_admin/webhooks/modes", json=modes, timeout=10).raise_for_status()


def test_creating_a_subscriber_runs_the_verification_handshake_and_refuses_an_endpoint_that_fails_it(sim, subs):
    assert subs.subscriber()["state"] == "ACTIVE"
    assert subs.ensure_subscriber(subs.subscriber()["endpointUri"], SECRET) == "unchanged"
    with recording_endpoint(secret="Bearer something-else") as wrong:
        other = Subscriptions(admin_client(sim.base_url + "/"), PROJECT, "second-one")
        with pytest.raises(EndpointVerificationFailed):
            other.ensure_subscriber(wrong.url, SECRET)
    assert other.subscriber() is None


def test_subscriber_calls_need_the_project_number_and_a_cloud_platform_token(sim):
    client = admin_client(sim.base_url + "/")
    with pytest.raises(ValueError, match="project number"):
        Subscriptions(client, "my-project", "fitbit-pipeline")
    token = sim.token("user1")["access_token"]
    plain = requests.get(f"{sim.base_url}/v4/projects/{PROJECT}/subscribers",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert plain.status_code == 403
    by_id = requests.get(f"{sim.base_url}/v4/projects/my-project/subscribers",
                         headers={"Authorization": f"Bearer {client._token()}"}, timeout=10)
    assert by_id.status_code == 400


def test_subscriptions_are_created_kept_changed_by_delete_and_create_and_deleted_at_withdrawal(sim, subs):
    hid = _hid(sim, "user1")
    assert subs.subscribe("P_001", hid) == "created"
    assert subs.subscribe("P_001", hid) == "unchanged"
    assert subs.subscribe("P_001", hid, ["steps", "sleep"]) == "recreated"
    (only,) = subs.subscriptions_of(hid)
    assert only["name"].endswith(subscription_id_for("P_001")) and sorted(only["dataTypes"]) == ["sleep", "steps"]
    patched = requests.patch(f"{sim.base_url}/v4/{only['name']}", json={"dataTypes": ["steps"]},
                             headers={"Authorization": f"Bearer {subs.client._token()}"}, timeout=10)
    assert patched.status_code == 400  # as reported live: change by delete + create
    assert subs.unsubscribe(hid) == 1 and subs.subscriptions_of(hid) == []


def test_notifications_are_signed_batched_and_only_for_subscribed_users(sim, subs, endpoint):
    subs.subscribe("p1", _hid(sim, "user1"))
    subs.subscribe("p2", _hid(sim, "user2"))
    _emit(sim, users=["user1", "user2", "user3"], dataTypes=["steps", "sleep"])
    (received,) = endpoint.received
    notes = parse_body(received.body)
    assert json.loads(received.body)[0]["data"]["version"] == "1" and len(notes) == 4
    assert {n.health_user_id for n in notes} == {_hid(sim, "user1"), _hid(sim, "user2")}
    assert received.headers["Authorization"] == SECRET
    keyset = KeysetCache(keyset_fetcher(sim.base_url + KEYSET_PATH))
    assert verify(received.body, received.headers, keyset) == sim.sim.webhooks.keys.primary.key_id


def test_deliveries_are_retried_with_backoff_until_a_204_even_after_a_200(sim, subs, endpoint):
    subs.subscribe("p1", _hid(sim, "user1"))
    endpoint.script = [500, 200, 503]
    _modes(sim, retry_base_s=0.05)
    started = time.monotonic()
    _emit(sim, user="user1")
    (post,) = sim.sim.webhooks.describe()["posts"]
    assert post["statuses"] == [500, 200, 503, 204] and post["done"] and not post["dropped"]
    assert len({r.body for r in endpoint.received}) == 1 and len(endpoint.received) == 4
    assert time.monotonic() - started >= 0.05 + 0.1 + 0.2  # exponential backoff between attempts


def test_modes_send_duplicates_replays_bad_and_missing_signatures_and_the_older_header(sim, subs, endpoint):
    subs.subscribe("p1", _hid(sim, "user1"))
    keyset = KeysetCache(keyset_fetcher(sim.base_url + KEYSET_PATH))
    _modes(sim, duplicates=2, header="X-HEALTHAPI-SIGNATURE", body_form="object")
    _emit(sim, user="user1")
    assert len(endpoint.received) == 3 and len({r.body for r in endpoint.received}) == 1
    assert isinstance(json.loads(endpoint.received[0].body), dict)
    assert "X-HEALTHAPI-SIGNATURE" in {k.upper() for k in endpoint.received[0].headers}
    _modes(sim, duplicates=0, bad_signature=1, unsigned=1, send_authorization=False)
    _emit(sim, user="user1")
    _emit(sim, user="user1")
    unsigned, bad = endpoint.received[3:5]  # "unsigned" is taken first
    with pytest.raises(SignatureRejected, match="bad-signature"):
        verify(bad.body, bad.headers, keyset)
    with pytest.raises(SignatureRejected, match="unsigned"):
        verify(unsigned.body, unsigned.headers, keyset)
    assert "Authorization" not in bad.headers
    requests.post(f"{sim.base_url}/_admin/webhooks/replay", json={"count": 1}, timeout=10).raise_for_status()
    assert sim.sim.webhooks.wait_idle(20)
    assert endpoint.received[-1].body == endpoint.received[-2].body


def test_the_latest_night_finishing_staging_is_pushed_by_the_simulator_itself(endpoint):
    with running_simulator(users=2, days=2, seed=5, sleep_processing_seconds=1.0) as sim:
        subs = Subscriptions(admin_client(sim.base_url + "/"), PROJECT, "fitbit-pipeline")
        subs.ensure_subscriber(endpoint.url, SECRET, webhook_types())
        for user in ("user1", "user2"):
            subs.subscribe(user, _hid(sim, user))
        deadline = time.monotonic() + 20
        while not endpoint.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sim.sim.webhooks.wait_idle(20)
    notes = [n for r in endpoint.received for n in parse_body(r.body)]
    assert {(n.data_type, n.operation) for n in notes} == {("sleep", "UPSERT")} and len(notes) == 2
    assert [c["why"] for c in sim.sim.webhooks.changes] == ["sleep processed"] * 2
