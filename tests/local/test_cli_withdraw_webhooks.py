"""``fitbit-pipeline withdraw`` and webhooks, against the simulator over real HTTP: the participant's subscription
is deleted at the (simulated) Google Health API, they leave the participant index notify reads, and their
claims go; when the subscriptions API cannot be reached the purge still completes and says what to run by hand.
"""

from __future__ import annotations

import io
import json

import pytest
import requests

from fitbit.oauth import OAuthClientConfig
from fitbit.webhooks.dedup import CLAIMS_PREFIX, StoreClaims
from helper.secrets import LocalSecretStore, save_oauth_client
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse
from helper.webhooks import WEBHOOK_SECRET, indexed_users
from simulator import running_simulator
from tests.webhook_support import SECRET, recording_endpoint
from tools import demo
from tools import webhook_subscriptions as ws
from tools.authorise import run_authorise
from tools.cli.main import main

pytestmark = pytest.mark.webhook
PROJECT = "123456789012"


@pytest.fixture
def world(tmp_path):  # noqa: ANN001, ANN201
    """Two participants enrolled with subscriptions, a claim each, an (empty) warehouse; the simulator running."""
    state = demo.fresh_state_dir(tmp_path / "state")
    with running_simulator(users=2, days=1, seed=3, sleep_processing_seconds=0) as sim, \
            recording_endpoint() as endpoint:
        store = LocalSecretStore(state / "secrets.json")
        store.put(WEBHOOK_SECRET, SECRET)
        config = OAuthClientConfig.for_base_url(sim.base_url)
        save_oauth_client(store, config)
        subs = ws.Subscriptions(ws.simulator_admin_client(sim.base_url), PROJECT, "fitbit-pipeline")
        subs.ensure_subscriber(endpoint.url, ws.endpoint_secret(store))
        session = requests.Session()
        grants = {p: run_authorise(p, store=store, client_config=config, api_base_url=sim.base_url, login_hint=user,
                                   open_browser=lambda url: demo._play_browser(session, url), err=io.StringIO(),
                                   webhooks=subs)
                  for p, user in (("p1", "user1"), ("p2", "user2"))}
        StoreClaims(LocalRawStore(state / "claims", "fitbit-raw-claims")).claim_many(
            ["p1/steps/2026-11-05/w1", "p1/sleep/2026-11-05/w1", "p2/steps/2026-11-05/w1"])
        warehouse = DuckDbWarehouse(state / "warehouse.duckdb", "fitbit", state / "staging")
        warehouse.ensure_schema()
        warehouse.close()
        yield {"sim": sim, "state": state, "store": store, "subs": subs, "grants": grants}


def _withdraw(world, participant: str, api_base_url: str) -> tuple[int, str, str]:  # noqa: ANN001
    out, err = io.StringIO(), io.StringIO()
    code = main(["--state-dir", str(world["state"]), "--api-base-url", api_base_url,
                 "--oauth-base-url", world["sim"].base_url, "withdraw", participant, "--yes",
                 "--webhooks-project-number", PROJECT], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _claims(world, participant: str) -> list[str]:  # noqa: ANN001
    return [o.name for o in LocalRawStore(world["state"] / "claims", "c").list_objects(f"{CLAIMS_PREFIX}{participant}/")]


def test_withdraw_deletes_the_subscription_the_index_entry_and_the_claims_of_that_participant_only(world):
    subs, grants = world["subs"], world["grants"]
    assert len(subs.subscriptions_of(grants["p1"].health_user_id)) == 1 and len(_claims(world, "p1")) == 2
    code, out, err = _withdraw(world, "p1", world["sim"].base_url)
    assert code == 0, err
    counts = json.loads(out.split("; ", 2)[2])
    assert "grant revoked" in out and counts["webhook_subscriptions"] == 1 and counts["claims"] == 2
    assert subs.subscriptions_of(grants["p1"].health_user_id) == []
    assert len(subs.subscriptions_of(grants["p2"].health_user_id)) == 1
    assert [e.participant for e in indexed_users(world["store"])] == ["p2"]
    assert _claims(world, "p1") == [] and len(_claims(world, "p2")) == 1
    metadata = [f.name for f in (world["state"] / "claims" / "metadata").rglob("*.json")]
    assert metadata and not [name for name in metadata if name.startswith("p1")]  # the claims' metadata went too
    again = _withdraw(world, "p1", world["sim"].base_url)
    assert again[0] == 0 and "nothing to change" in again[1]


def test_an_unreachable_subscriptions_api_still_purges_and_says_what_to_delete_by_hand(world):
    subs, grants = world["subs"], world["grants"]
    code, out, err = _withdraw(world, "p1", "http://127.0.0.1:9/")  # nothing listens there
    assert code == 0, err
    counts = json.loads(out.split("; ", 2)[2])
    assert counts["webhook_subscriptions"] == "unreachable" and counts["secret_deleted"] is True
    assert counts["claims"] == 2 and "grant revoked" in out
    assert "curl -X DELETE" in err and f"subscriptions/{ws.subscription_id_for('p1')}" in err
    assert f"projects/{PROJECT}/subscribers/fitbit-pipeline/" in err
    assert [e.participant for e in indexed_users(world["store"])] == ["p2"]  # notify ignores them from now on
    assert len(subs.subscriptions_of(grants["p1"].health_user_id)) == 1  # left for the person to delete
