"""Subscriptions as code over real HTTP: enrolment subscribes and indexes a participant, withdrawal undoes
both, and ``scripts/webhooks.py`` registers the subscriber (re-subscribing everyone when it was re-created)."""

from __future__ import annotations

import io

import pytest
import requests

from fitbit.oauth import OAuthClientConfig
from fitbit.webhooks.participants import Enrolled
from helper.secrets import LocalSecretStore, save_oauth_client
from helper.webhooks import WEBHOOK_SECRET, indexed_users
from simulator import running_simulator
from tests.webhook_support import SECRET, recording_endpoint
from tools import webhook_subscriptions as ws
from tools.authorise import run_authorise
from tools.demo import _play_browser

pytestmark = pytest.mark.webhook
PROJECT = "123456789012"


@pytest.fixture
def world(tmp_path):  # noqa: ANN001, ANN201
    with running_simulator(users=3, days=2, seed=3, sleep_processing_seconds=3600) as sim, \
            recording_endpoint() as endpoint:
        store = LocalSecretStore(tmp_path / "secrets.json")
        store.put(WEBHOOK_SECRET, SECRET)
        config = OAuthClientConfig.for_base_url(sim.base_url)
        save_oauth_client(store, config)
        yield sim, endpoint, store, config


def _enrol(sim, store, config, participant: str, user: str, subs: ws.Subscriptions | None):  # noqa: ANN001, ANN202
    session = requests.Session()
    return run_authorise(participant, store=store, client_config=config, api_base_url=sim.base_url,
                         login_hint=user, open_browser=lambda url: _play_browser(session, url), err=io.StringIO(),
                         webhooks=subs)


def test_enrolment_subscribes_and_indexes_the_participant_and_withdrawal_undoes_both(world):
    sim, endpoint, store, config = world
    subs = ws.Subscriptions(ws.simulator_admin_client(sim.base_url), PROJECT, "fitbit-pipeline")
    assert subs.ensure_subscriber(endpoint.url, ws.endpoint_secret(store)) == "created"
    one = _enrol(sim, store, config, "p1", "user1", subs)
    two = _enrol(sim, store, config, "p2", "user2", subs)
    (sub,) = subs.subscriptions_of(one.health_user_id)
    assert sub["name"].endswith("/" + ws.subscription_id_for("p1"))
    assert sorted(sub["dataTypes"]) == list(ws.webhook_types())
    assert [e.participant for e in indexed_users(store)] == ["p1", "p2"]
    assert _enrol(sim, store, config, "p1", "user1", subs) and len(subs.subscriptions_of(one.health_user_id)) == 1

    assert ws.withdraw_webhooks(store, subs, "p1") == 1
    assert subs.subscriptions_of(one.health_user_id) == []
    assert indexed_users(store) == [Enrolled("p2", two.health_user_id, two.time_zone)]
    assert len(subs.subscriptions_of(two.health_user_id)) == 1


def test_enrolment_without_a_subscriber_still_writes_the_index(world):
    sim, _, store, config = world
    grant = _enrol(sim, store, config, "p3", "user3", None)
    assert indexed_users(store) == [Enrolled("p3", grant.health_user_id, grant.time_zone)]


def test_the_command_registers_the_subscriber_and_resubscribes_everyone_when_it_was_recreated(world, tmp_path,
                                                                                                 capsys):
    sim, endpoint, store, config = world
    _enrol(sim, store, config, "p1", "user1", None)
    common = ["--secrets", str(tmp_path / "secrets.json"), "--project-number", PROJECT, "--base-url", sim.base_url]
    assert ws.main(["subscriber", "--url", endpoint.url, *common]) == 0
    assert "fitbit-pipeline: created" in capsys.readouterr().out
    subs = ws.Subscriptions(ws.simulator_admin_client(sim.base_url), PROJECT, "fitbit-pipeline")
    hid = indexed_users(store)[0].health_user_id
    assert len(subs.subscriptions_of(hid)) == 1, "a new subscriber subscribes the enrolled participants"
    assert ws.main(["subscriber", "--url", endpoint.url, *common]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert ws.main(["subscriber", "--url", endpoint.url, "--project-number", "my-project",
                    "--secrets", str(tmp_path / "secrets.json"), "--base-url", sim.base_url]) == 1
    assert "project number" in capsys.readouterr().err
