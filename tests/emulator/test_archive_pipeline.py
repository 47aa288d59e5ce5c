"""The whole pipeline on the emulated Google Cloud stack, run from the archives that ship: test what ships.

Each function is served from its deployable archive (the zip ``gcloud functions deploy`` would get),
unzipped into an empty folder, in a venv built from that archive's own requirements.txt, with no path
to the repository (tests/emulator/conftest.py, ``served_archives``). Nothing creates the tables or
views beforehand: the archived ``transform_load`` does, on its first event, as on a fresh deployment.

Pub/Sub emulator → relay (Eventarc stand-in) → archived ``extract`` → fake-gcs-server → object
notification → relay → archived ``transform_load`` → staging bucket → (FlushTrigger) → local-bigquery.
The cohort (3 participants x 5 days, across the US DST change) runs once per module, and the transform
function is killed mid-run and restarted; then the checks of tests/local/test_embedded_pipeline.py hold:
daily totals equal the simulator's own dailyRollUp, no natural key appears twice, and publishing every
delivered message again changes no row. Platform retry semantics are checked on their own routes.
"""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from fitbit.catalogue import DAY_OUTCOMES_TABLE, all_tables
from helper import views
from tools import demo
from helper.compose import client_factory
from fitbit.messages import RunTrigger, Unit, decode
from helper.settings import Settings
from tools.summary import summarise
from tests.ground_truth import INTRADAY, SUMMED, assert_daily_totals_match, assert_intraday_sums_to_daily
from tools.emulated_gcp import SIM_SLEEP_PROCESSING_S, GcpPipeline, Route, function_env

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

USERS, DAYS = 3, 5
END = demo.DEFAULT_END_DATE
START = END - timedelta(days=DAYS - 1)
DAYS_RANGE = [START + timedelta(days=i) for i in range(DAYS)]
PARTICIPANTS = [f"user{i}" for i in range(1, USERS + 1)]


@pytest.fixture(scope="module")
def gcp_run(emulator_stack, served_archives, tmp_path_factory):
    """History (transform killed and restarted mid-way, server errors injected), daily job, flush; every
    function served from its archive, and the dataset left for the archived transform_load to create."""
    state = demo.fresh_state_dir(tmp_path_factory.mktemp("gcp") / "state")
    pipeline = GcpPipeline(emulator_stack, {}, served=served_archives)
    pipeline.prepare(schema=False)  # before the simulator starts: its sleep-processing clock is ticking from then on
    with demo.simulator_process(USERS, DAYS, end_date=END,
                                extra_args=("--sleep-processing-seconds", str(SIM_SLEEP_PROCESSING_S))) as sim:
        demo.enrol(state, sim.base_url, PARTICIPANTS)
        pipeline.function_env = function_env(state, sim.base_url, emulator_stack.project)
        pipeline.start()
        requests.post(sim.base_url + "_admin/faults", json={"server_errors": 3}, timeout=10).raise_for_status()
        started = time.monotonic()
        pipeline.publish([RunTrigger(END, DAYS, "backfill", run_id="history")])
        killed_after = _kill_transform_mid_run(pipeline)
        pipeline.wait_idle()
        pipeline.publish([RunTrigger(END, 3, "daily", run_id="daily")])
        pipeline.wait_idle()
        pipeline.flush("after-daily")
        elapsed = time.monotonic() - started
        yield {"pipeline": pipeline, "sim": sim, "state": state, "killed_after": killed_after, "elapsed": elapsed}
        for name in ("relay", "transform_load", "extract"):
            pipeline.stop(name)


def _kill_transform_mid_run(pipeline: GcpPipeline, after: int = 25) -> int:
    """SIGKILL the transform function's process group once it has acknowledged ``after`` objects; restart it."""
    subscription = f"projects/{pipeline.project}/subscriptions/{pipeline.subscription_of('transform_load')}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        acked = pipeline.relay_stats().get(subscription, {}).get("acked", 0)
        if acked >= after:
            pipeline.stop("transform_load", signal.SIGKILL)
            time.sleep(1.0)  # deliveries meanwhile fail with 503 and are redelivered
            pipeline.serve("transform_load")
            return acked
        time.sleep(0.05)
    raise AssertionError("transform_load never acknowledged enough objects to be killed mid-run")


def _warehouse(gcp_run):
    return gcp_run["pipeline"].warehouse()


def _client(gcp_run, participant: str):
    """A client for the simulator built from the stored grant, independent of the pipeline."""
    settings = Settings.from_env({"FITBIT_STATE_DIR": str(gcp_run["state"]), "HEALTH_API_BASE_URL":
                                  gcp_run["sim"].base_url, "OAUTH_BASE_URL": gcp_run["sim"].base_url})
    from helper.compose import adapters

    return client_factory(adapters(settings))(participant)[0]


def test_every_function_ran_from_its_unzipped_archive_with_no_path_to_the_repository(gcp_run, served_archives):
    pipeline = gcp_run["pipeline"]
    for name, archive in served_archives.items():
        service = pipeline.stack.services[name]
        assert service.process.args[0] == str(archive.python)
        assert Path(f"/proc/{service.process.pid}/cwd").resolve() == archive.source.resolve()
        environ = Path(f"/proc/{service.process.pid}/environ").read_bytes().split(b"\0")
        assert not [v for v in environ if v.startswith(b"PYTHONPATH=")]
        assert not (archive.source / "tools").exists() and not (archive.source / "simulator").exists()


def test_the_archived_transform_load_created_every_table_and_view_itself(gcp_run):
    """Nothing else created them (``prepare(schema=False)``): the views came from the SQL inside the archive."""
    warehouse = _warehouse(gcp_run)
    bq, _ = warehouse._clients()
    listed = {t.table_id: t for t in bq.list_tables(warehouse.dataset)}
    tables = {name for name, t in listed.items() if t.table_type == "TABLE"}
    assert {t.name for t in all_tables()} <= tables
    current = views.bigquery_versions(bq, warehouse.dataset)
    assert current == {name: views.version_of(views.view_sql(name, warehouse.dataset)) for name in views.VIEWS}


def test_the_archived_pipeline_loads_pages_and_answers_through_the_views(gcp_run):
    warehouse = _warehouse(gcp_run)
    (loaded,) = warehouse.query("SELECT COUNT(*) FROM processing_log WHERE status = 'loaded'")[0]
    assert loaded > 100
    days = warehouse.query("SELECT COUNT(DISTINCT participant_id), COUNT(*) FROM daily_summary WHERE steps > 0")
    assert days[0][0] == USERS and days[0][1] >= USERS * (DAYS - 1)


def test_the_archived_run_ends_with_zero_errors_and_nothing_dead_lettered(gcp_run):
    summary = summarise(_warehouse(gcp_run))
    assert summary.failures == [] and gcp_run["pipeline"].dead_letters == []
    assert summary.total_rows > 50_000
    assert set(summary.worn_hours) == set(PARTICIPANTS)


def test_the_transform_function_was_killed_mid_run_and_deliveries_failed_meanwhile(gcp_run):
    pipeline = gcp_run["pipeline"]
    transform = pipeline.relay_stats()[f"projects/{pipeline.project}/subscriptions/"
                                       f"{pipeline.subscription_of('transform_load')}"]
    assert gcp_run["killed_after"] >= 25 and transform["acked"] > gcp_run["killed_after"]
    assert transform["failures"] > 0, "deliveries during the outage failed (503) and Pub/Sub redelivered them"


def test_every_stored_raw_object_was_transformed_despite_the_kill(gcp_run):
    _, gcs = _warehouse(gcp_run)._clients()
    stored = {b.name for b in gcs.bucket("fitbit-raw").list_blobs(prefix="raw/user")}
    logged = {r[0] for r in _warehouse(gcp_run).query("SELECT DISTINCT raw_object FROM processing_log")}
    assert stored and stored <= logged


def test_server_errors_were_redelivered_by_pubsub_until_they_passed(gcp_run):
    pipeline = gcp_run["pipeline"]
    extract = pipeline.relay_stats()[f"projects/{pipeline.project}/subscriptions/{pipeline.subscription_of('extract')}"]
    assert extract["failures"] >= 3


@pytest.mark.parametrize("summed", SUMMED, ids=lambda s: f"{s.table}.{s.column}")
def test_daily_totals_equal_the_simulators_daily_rollup_for_every_participant_and_day(gcp_run, summed):
    assert_daily_totals_match(_warehouse(gcp_run), lambda p: _client(gcp_run, p), PARTICIPANTS, DAYS_RANGE, summed)


@pytest.mark.parametrize("pair", INTRADAY, ids=lambda p: p.intraday_table)
def test_reconciled_minutes_sum_to_the_daily_totals(gcp_run, pair):
    assert_intraday_sums_to_daily(_warehouse(gcp_run), pair)


def test_the_dst_participant_keeps_both_offsets_and_civil_times_agree(gcp_run):
    offsets = dict(_warehouse(gcp_run).query(
        "SELECT participant_id, ARRAY_AGG(DISTINCT start_utc_offset_s ORDER BY start_utc_offset_s) "
        "FROM steps_intraday GROUP BY 1"))
    assert offsets["user2"] == [-18000, -14400]  # America/New_York, EDT then EST after 2026-11-01
    bad = _warehouse(gcp_run).query(
        "SELECT COUNT(*) FROM steps_intraday "
        "WHERE DATETIME(TIMESTAMP_ADD(start_time, INTERVAL start_utc_offset_s SECOND)) != civil_start_time "
        "OR DATE(civil_start_time) != civil_date")
    assert bad == [(0,)]


def test_a_sleep_revised_by_the_simulator_is_updated_in_place(gcp_run):
    rows = _warehouse(gcp_run).query(
        "SELECT participant_id, data_point_name, COUNT(*), LOGICAL_AND(processed) FROM sleep_sessions GROUP BY 1, 2")
    assert rows and all(count == 1 for _, _, count, _ in rows), "one row per sleep, never a duplicate"
    assert all(processed for _, _, _, processed in rows), "the unprocessed night was re-read and rewritten"
    rereads = [u for t, d, _ in gcp_run["pipeline"].journal if t == "fitbit-units"
               for u in [decode(d)] if isinstance(u, Unit) and u.data_type == "sleep" and u.reason == "follow-up"]
    assert {u.participant for u in rereads} == set(PARTICIPANTS), "each last night was read unprocessed first"
    reread = _warehouse(gcp_run).query(
        "SELECT COUNT(*) FROM processing_log WHERE data_type = 'sleep' AND raw_object LIKE "
        f"'%/list/{END.isoformat()}_{(END + timedelta(days=1)).isoformat()}/%'")
    assert reread[0][0] >= USERS, "and read again, one night only, once Google had finished it"


def test_exercise_tracks_were_exported_once_per_gps_session(gcp_run):
    gps, tracked = _warehouse(gcp_run).query(
        "SELECT (SELECT COUNT(*) FROM exercise_sessions WHERE has_gps), "
        "(SELECT COUNT(DISTINCT data_point_name) FROM exercise_tcx_points)")[0]
    assert gps > 0 and tracked == gps


def _snapshot(warehouse) -> dict[str, list[tuple]]:
    snap = {}
    for table in all_tables():
        cols = [c for c in table.column_names if c not in ("loaded_at", "processed_at")]
        snap[table.name] = sorted(warehouse.query(f"SELECT {', '.join(cols)} FROM {table.name}"), key=repr)
    return snap


def _duplicate_keys(warehouse) -> dict[str, int]:
    dupes = {}
    for table in all_tables():
        keys = ", ".join(table.key)
        (n,) = warehouse.query(f"SELECT COUNT(*) FROM (SELECT {keys} FROM {table.name} GROUP BY {keys} "
                               f"HAVING COUNT(*) > 1)")[0]
        if n:
            dupes[table.name] = n
    return dupes


def test_no_natural_key_appears_twice_in_any_table(gcp_run):
    assert _duplicate_keys(_warehouse(gcp_run)) == {}


def _raw_objects(pipeline: GcpPipeline) -> set[str]:
    _, gcs = pipeline.warehouse()._clients()
    return {b.name for b in gcs.bucket(pipeline.raw_bucket).list_blobs(prefix="raw/")}


def test_replaying_every_delivered_message_and_storage_event_through_the_archives_changes_no_row(gcp_run):
    """Every data row stays as it was. The one thing a replay may add: a sleep the history read while Google was
    still processing it is read again, finished this time, which is a new raw object with its own log row."""
    pipeline = gcp_run["pipeline"]
    before, objects_before = _snapshot(pipeline.warehouse()), _raw_objects(pipeline)
    replayed = pipeline.replay()
    assert replayed > 300
    pipeline.wait_idle()
    pipeline.flush("after-replay")
    after, new_objects = _snapshot(pipeline.warehouse()), _raw_objects(pipeline) - objects_before
    log_before, log_after = before.pop("processing_log"), after.pop("processing_log")
    # The day ledger's outcomes are a log too: the re-read sleep adds its own rows, and nothing else changes.
    outcomes_before, outcomes_after = before.pop("day_outcomes"), after.pop("day_outcomes")
    assert set(outcomes_before) <= set(outcomes_after)
    raw_object = [c.name for c in DAY_OUTCOMES_TABLE.columns if c.name not in ("loaded_at", "processed_at")].index(
        "raw_object")
    assert {row[raw_object] for row in set(outcomes_after) - set(outcomes_before)} <= new_objects
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    assert after == before
    assert {repr(r) for r in log_before} <= {repr(r) for r in log_after}  # rows hold JSON dicts
    assert all("/sleep/" in name for name in new_objects), new_objects
    assert len(log_after) - len(log_before) == len(new_objects)
    assert _duplicate_keys(pipeline.warehouse()) == {} and pipeline.dead_letters == []


def test_a_malformed_message_is_recorded_and_acknowledged_not_retried(gcp_run):
    pipeline = gcp_run["pipeline"]
    subscription = f"projects/{pipeline.project}/subscriptions/{pipeline.subscription_of('extract')}"
    failures_before = pipeline.relay_stats()[subscription]["failures"]
    pipeline.publish_raw(pipeline.units_topic, b'{"schema": "fitbit-pipeline", "version": 1, "kind": "unit"}')
    pipeline.wait_idle()
    assert pipeline.relay_stats()[subscription]["failures"] == failures_before
    _, gcs = pipeline.warehouse()._clients()
    assert list(gcs.bucket("fitbit-raw").list_blobs(prefix="errors/malformed/"))


def test_a_message_that_keeps_failing_is_dead_lettered_after_max_attempts(gcp_run):
    pipeline = gcp_run["pipeline"]
    route = Route("poison-units", "poison-units-extract", "extract", max_attempts=5)
    pipeline.add_route(route)
    never = datetime.now(timezone.utc) + timedelta(days=1)  # a deferred unit: extract raises NotYet every time
    unit = Unit("user1", "steps", "reconcile", END, END + timedelta(days=1), "retry", attempt=1, not_before=never)
    pipeline.publish([unit], topic=route.topic)
    pipeline.wait_idle(timeout_s=120)
    (dead,) = [d for d in pipeline.dead_letters if d.get("CloudPubSubDeadLetterSourceSubscription", "").endswith(
        route.subscription)]
    assert dead["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    stats = pipeline.relay_stats()[f"projects/{pipeline.project}/subscriptions/{route.subscription}"]
    assert stats == {"attempts": 5, "failures": 5, "in_flight": 0, "acked": 0}
    assert [decode(d) for t, d, _ in pipeline.journal if t == route.topic] == [unit]
