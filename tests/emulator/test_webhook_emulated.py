"""The webhook path on the emulated Google Cloud stack, every function served from the archive that ships.

A sync in the simulator (its own process) → a signed notification POSTed to the archived ``notify``
(functions-framework, HTTP) → Pub/Sub emulator → relay → archived ``extract`` → fake-gcs-server → relay →
archived ``transform_load`` → staging → FlushTrigger → local-bigquery. The simulator registers the
subscriber against the served function (Google's verification handshake runs for real), notify fetches
the simulator's public keyset (``WEBHOOK_KEYSET_URL``) and reads the participant index enrolment wrote.

Measured: the seconds from the simulator's change to the row being queryable in the BigQuery emulator,
with a flush issued as soon as the pipeline is idle (on Google Cloud the hourly flush job adds up to an
hour; the README says so). Duplicated and replayed notifications publish no duplicate unit and add no
row; a subscribed stranger (never enrolled) is recorded, never fetched.

The module starts an emulator stack of its own: the session's stack keeps the push subscriptions of the
archive pipeline's functions, which pointed at processes that have stopped.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import requests

from fitbit.messages import FlushTrigger, Unit, decode
from helper.secrets import LocalSecretStore
from helper.webhooks import WEBHOOK_SECRET
from tests.webhook_support import SECRET
from tools import demo
from tools.emulated_gcp import GcpPipeline, function_env
from tools.emulators import Stack
from tools.webhook_demo import KEYSET_PATH, PROJECT_NUMBER, SUBSCRIBER_ID, WebhookDemo
from tools.webhook_subscriptions import Subscriptions, simulator_admin_client, subscribe_everyone

pytestmark = [pytest.mark.webhook, pytest.mark.emulator, pytest.mark.slow]

END = demo.DEFAULT_END_DATE
WINDOW_S = 8  # the coalescing window: short, so the trailing re-read of a duplicate is due quickly
LATENCIES: dict[str, float] = {}
ANSWERS_MS: list[float] = []  # POST sent → the archived notify's 204 read by the simulator


@pytest.fixture(scope="module")
def webhook_world(emulator_stack, served_archives, tmp_path_factory):  # noqa: ANN001, ANN201
    """Emulators, the three archived functions, a simulator, two enrolled participants, a subscriber."""
    root = tmp_path_factory.mktemp("webhooks")
    state = demo.fresh_state_dir(root / "state")
    with Stack(root / "emulators") as stack:
        stack.start_emulators(notify_bucket="fitbit-raw")
        pipeline = GcpPipeline(stack, {}, served=served_archives)
        pipeline.prepare()
        with demo.simulator_process(3, 14, end_date=END, extra_args=("--sleep-processing-seconds", "0")) as sim:
            demo.enrol(state, sim.base_url, ["user1", "user2"])  # writes the participant index too
            store = LocalSecretStore(state / "secrets.json")
            store.put(WEBHOOK_SECRET, SECRET)
            pipeline.function_env = function_env(state, sim.base_url, stack.project,
                                                 WEBHOOK_KEYSET_URL=sim.base_url + KEYSET_PATH,
                                                 WEBHOOK_COALESCE_S=str(WINDOW_S))
            pipeline.start()
            subs = Subscriptions(simulator_admin_client(sim.base_url), PROJECT_NUMBER, SUBSCRIBER_ID)
            assert subs.ensure_subscriber(pipeline.url_of("notify"), SECRET) == "created"  # the handshake ran
            subscribe_everyone(store, subs)
            yield {"pipeline": pipeline, "sim": sim, "subs": subs, "hub": WebhookDemo(sim.base_url)}
            for name in ("relay", "notify", "transform_load", "extract"):
                pipeline.stop(name)


def _row_latency(world, change: dict, sql: str) -> float:  # noqa: ANN001
    """Wait for the pipeline to go idle, flush, and return the seconds from the change to ``sql``'s first row."""
    pipeline = world["pipeline"]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        pipeline.wait_idle(settle_s=0.5)
        pipeline.publish([FlushTrigger(run_id="webhook-flush")])
        pipeline.wait_idle(settle_s=0.5)
        if pipeline.warehouse().query(sql):
            return time.time() - change["at"]
    raise AssertionError(f"no row for {sql!r} within 300 s of the change")


def _webhook_units(pipeline: GcpPipeline) -> list[Unit]:
    pipeline.drain_taps()
    units = (decode(data) for topic, data, _ in pipeline.journal if topic == pipeline.units_topic)
    return [u for u in units if isinstance(u, Unit) and u.reason == "webhook"]


def test_a_sync_reaches_the_bigquery_emulator_through_the_archived_notify_function(webhook_world):
    hub, day = webhook_world["hub"], END
    seen = len(hub.hub()["changes"])
    hub.emit("user1", "steps", day)
    change = hub.wait_for_change("sync", seen, timeout_s=60)
    posts = [p for p in hub.hub()["posts"] if p["seq"] > change["posts_before"]]
    assert posts and all(p["statuses"] == [204] for p in posts)
    ANSWERS_MS.extend(ms for p in posts for ms in p["elapsed_ms"])
    LATENCIES["sync → steps_daily row (cold: first units of every function)"] = _row_latency(
        webhook_world, change, f"SELECT 1 FROM steps_daily WHERE participant_id = 'user1' AND civil_date = DATE '{day}'")
    units = _webhook_units(webhook_world["pipeline"])
    assert {(u.participant, u.data_type, u.start) for u in units} == {("user1", "steps", day)}
    for back in (9, 10):  # warm: days no earlier sync touched
        older = END - timedelta(days=back)
        seen = len(hub.hub()["changes"])
        hub.emit("user2", "steps", older)
        change = hub.wait_for_change("sync", seen, timeout_s=60)
        ANSWERS_MS.extend(ms for p in hub.hub()["posts"] if p["seq"] > change["posts_before"] for ms in p["elapsed_ms"])
        LATENCIES[f"sync → steps_daily row (warm, {older})"] = _row_latency(
            webhook_world, change,
            f"SELECT 1 FROM steps_daily WHERE participant_id = 'user2' AND civil_date = DATE '{older}'")


def test_duplicates_replays_and_a_stranger_add_no_unit_twice_and_no_row_twice(webhook_world):
    sim, pipeline = webhook_world["sim"], webhook_world["pipeline"]
    cohort = requests.get(sim.base_url + "_admin/cohort", timeout=10).json()["users"]
    (hid3,) = [u["healthUserId"] for u in cohort if u["user"] == "user3"]
    webhook_world["subs"].subscribe("never-enrolled", hid3)  # subscribed, never enrolled: not in the index
    day = END - timedelta(days=3)
    time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.05)  # start a window: the burst below falls in one
    requests.post(sim.base_url + "_admin/webhooks/modes", json={"duplicates": 2}, timeout=10).raise_for_status()
    requests.post(sim.base_url + "_admin/webhooks/emit", timeout=30,
                  json={"users": ["user1", "user2", "user3"], "dataType": "steps", "day": str(day)}).raise_for_status()
    requests.post(sim.base_url + "_admin/webhooks/replay", json={"count": 2}, timeout=30).raise_for_status()
    assert requests.post(sim.base_url + "_admin/webhooks/wait", json={"timeout_s": 60}, timeout=90).ok
    requests.post(sim.base_url + "_admin/webhooks/modes", json={"duplicates": 0}, timeout=10).raise_for_status()
    assert time.time() % WINDOW_S < WINDOW_S - 0.5, "the deliveries crossed a coalescing window: the test is void"
    pipeline.wait_idle(settle_s=1.0)
    pipeline.flush("after-duplicates")

    units = [u for u in _webhook_units(pipeline) if u.start == day]
    keys = Counter((u.participant, u.method, u.start, u.not_before) for u in units)
    assert set(keys.values()) == {1}, "a unit was published twice"
    assert {p for p, *_ in keys} == {"user1", "user2"}, "the stranger was fetched"
    per_method = Counter((p, m) for p, m, _, _ in keys)
    assert set(per_method.values()) == {2}  # one fetch now, one trailing re-read in the next window
    warehouse = pipeline.warehouse()
    rows = warehouse.query(f"SELECT participant_id, COUNT(*) FROM steps_daily WHERE civil_date = DATE '{day}' "
                           "GROUP BY participant_id ORDER BY participant_id")
    assert rows == [("user1", 1), ("user2", 1)]
    total, distinct = warehouse.query("SELECT COUNT(*), COUNT(DISTINCT FORMAT('%s|%t', participant_id, start_time)) "
                                      "FROM steps_intraday")[0]
    assert total == distinct > 0
    assert pipeline.dead_letters == []


def test_the_latencies_are_printed(webhook_world):  # noqa: ARG001 - runs last, reports what the others measured
    assert LATENCIES, "the latency test did not run"
    for what, seconds in LATENCIES.items():
        print(f"\nemulated webhook latency, {what}: {seconds:.2f} s")
    print(f"\narchived notify answered {len(ANSWERS_MS)} POSTs in at most {max(ANSWERS_MS):.0f} ms")
