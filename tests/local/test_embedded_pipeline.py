"""The whole pipeline on the embedded default against the simulator over real HTTP.

The demo cohort (5 participants x 14 days, including the DST and the travelling participant) runs once
per session; the tests then check it against the simulator's own dailyRollUp, replay every delivered
event, and look at sleep revisions. Smaller cohorts cover rate-limit storms and terminal failures.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from tools import demo
from fitbit.calls import list_call
from fitbit.catalogue import table_named
from helper.compose import client_factory
from fitbit.messages import RunTrigger
from helper.cloudevents import PUBSUB_EVENT, pubsub_event_data
from tools.local_runtime import LocalRuntime
from helper.queue import utc_now
from tests.ground_truth import INTRADAY, SUMMED, assert_daily_totals_match, assert_intraday_sums_to_daily, daily_rollup_truth
from tools.summary import point_tables, render, summarise

pytestmark = pytest.mark.slow

USERS, DAYS = 5, 14
END = demo.DEFAULT_END_DATE
START = END - timedelta(days=DAYS - 1)
DAYS_RANGE = [START + timedelta(days=i) for i in range(DAYS)]
PARTICIPANTS = [f"user{i}" for i in range(1, USERS + 1)]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    state = demo.fresh_state_dir(tmp_path_factory.mktemp("demo") / "state")
    with demo.simulator_process(USERS, DAYS, end_date=END) as sim:
        demo.enrol(state, sim.base_url, PARTICIPANTS)
        settings = demo.demo_settings(state, sim.base_url)
        runtime, stats = demo.run_demo_flow(settings, END, DAYS)
        yield runtime, stats, sim


def _truth(runtime: LocalRuntime, participant: str, data_type: str) -> dict[date, dict]:
    client, _ = client_factory(runtime.adapters)(participant)
    return daily_rollup_truth(client, data_type, START, END)


def _warehouse(runtime):
    return runtime.adapters.warehouse()


def test_the_demo_run_ends_with_zero_errors(demo_run):
    runtime, stats, _ = demo_run
    summary = summarise(_warehouse(runtime))
    assert summary.failures == [] and stats.dead_lettered == []
    assert summary.total_rows > 100_000
    assert set(summary.worn_hours) == set(PARTICIPANTS)


def test_the_demo_summary_shows_nan_nulled_derived_offsets_and_rows_marked_deleted(demo_run):
    """Issue #12's "done when": what `make demo` prints says what the parser did about live-API shapes."""
    runtime, stats, _ = demo_run
    wh = _warehouse(runtime)
    summary = summarise(wh)
    live = summary.live
    assert live.nan_nulled >= len(PARTICIPANTS) * 2 and live.nan_pages >= 1
    assert live.derived_offsets["user5"] > 1000  # the Health Connect phone: no offsets at all
    # Anyone else's derived offsets are the zero offsets the API omits (proto3 JSON drops "0s"): London's
    # sessions after the clocks went back. Derived from the zone, they are zero, as sent.
    for table in point_tables():
        column = "start_utc_offset_s" if "start_utc_offset_s" in table_named(table).column_names else "utc_offset_s"
        assert wh.query(f"SELECT DISTINCT {column} FROM {table} WHERE participant_id != 'user5' "
                        f"AND offset_source = 'account_time_zone'") in ([], [(0,)]), table
    assert live.deleted == {"exercise_sessions": 1, "weight": 1}
    assert live.names_derived >= 1
    text = render(summary, deferred=stats.deferred, dead_lettered=stats.dead_lettered)
    assert "failed objects: 0; dead-lettered events: 0" in text
    assert f"NaN / Infinity values nulled: {live.nan_nulled} " in text
    assert f"time zone: {sum(live.derived_offsets.values()):,} (" in text
    assert f"user5 {live.derived_offsets['user5']:,}" in text
    assert "rows marked deleted (a complete re-fetch no longer returned them; kept, left out of the views): 2 " \
           "(exercise_sessions 1, weight 1)" in text


@pytest.mark.parametrize("summed", SUMMED, ids=lambda s: f"{s.table}.{s.column}")
def test_daily_totals_equal_the_simulators_daily_rollup_for_every_participant_and_day(demo_run, summed):
    runtime, _, _ = demo_run
    clients = client_factory(runtime.adapters)
    assert_daily_totals_match(_warehouse(runtime), lambda p: clients(p)[0], PARTICIPANTS, DAYS_RANGE, summed)


@pytest.mark.parametrize("pair", INTRADAY, ids=lambda p: p.intraday_table)
def test_reconciled_minutes_sum_to_the_daily_totals(demo_run, pair):
    runtime, _, _ = demo_run
    assert_intraday_sums_to_daily(_warehouse(runtime), pair)


def test_active_zone_minute_credits_sum_to_the_daily_totals_per_zone(demo_run):
    runtime, _, _ = demo_run
    mismatches = _warehouse(runtime).query(
        "SELECT d.participant_id, d.civil_date FROM active_zone_minutes_daily d LEFT JOIN ("
        "  SELECT participant_id, civil_date,"
        "    SUM(IF(heart_rate_zone = 'FAT_BURN', active_zone_minutes, 0)) AS fat_burn,"
        "    SUM(IF(heart_rate_zone = 'CARDIO', active_zone_minutes, 0)) AS cardio,"
        "    SUM(IF(heart_rate_zone = 'PEAK', active_zone_minutes, 0)) AS peak"
        "  FROM active_zone_minutes_intraday GROUP BY 1, 2) i USING (participant_id, civil_date) "
        "WHERE d.fat_burn_minutes != COALESCE(i.fat_burn, 0) OR d.cardio_minutes != COALESCE(i.cardio, 0) "
        "OR d.peak_minutes != COALESCE(i.peak, 0)")
    assert mismatches == []


def test_the_dst_participant_keeps_both_offsets_and_the_traveller_changes_zone(demo_run):
    runtime, _, _ = demo_run
    offsets = dict(_warehouse(runtime).query(
        "SELECT participant_id, ARRAY_AGG(DISTINCT start_utc_offset_s ORDER BY start_utc_offset_s) "
        "FROM steps_intraday GROUP BY 1"))
    assert offsets["user2"] == [-18000, -14400]   # America/New_York, EDT then EST after 2026-11-01
    assert len(offsets["user3"]) >= 2 and 32400 in offsets["user3"]  # the traveller spends days in Tokyo
    bad = _warehouse(runtime).query(
        "SELECT COUNT(*) FROM steps_intraday "
        "WHERE DATETIME(TIMESTAMP_ADD(start_time, INTERVAL start_utc_offset_s SECOND)) != civil_start_time "
        "OR DATE(civil_start_time) != civil_date")
    assert bad == [(0,)]


def _snapshot(warehouse) -> dict[str, list[tuple]]:
    from fitbit.catalogue import all_tables

    snap = {}
    for table in all_tables():
        cols = [c for c in table.column_names if c not in ("loaded_at", "processed_at")]
        snap[table.name] = sorted(warehouse.query(f"SELECT {', '.join(cols)} FROM {table.name}"), key=repr)
    return snap


def test_replaying_every_message_and_storage_event_changes_no_row(demo_run):
    """Every data table is identical after a replay. The processing log may only gain rows for raw objects
    that are new because the API's answer changed since the first fetch (a sleep Google finished
    processing); every earlier log row is unchanged."""
    runtime, _, _ = demo_run
    before = _snapshot(_warehouse(runtime))
    journal = list(runtime.journal)
    assert len(journal) > 500
    redelivered_before = runtime.stats.redelivered
    runtime.replay(journal)
    stats = runtime.run_until_empty()
    assert stats.redelivered == redelivered_before and stats.dead_lettered == []
    after = _snapshot(_warehouse(runtime))
    # Only answers that changed since the first fetch make new raw objects: a night Google finished
    # processing, and the weight and exercise a participant deleted (the replayed history run re-reads
    # them). Those add processing-log and fetch rows; every data table, deleted_at included, is unchanged.
    changed = {"sleep", "weight", "exercise"}
    # The day ledger's outcomes (day_outcomes) are bookkeeping too: a new raw object adds its days' rows.
    at = {"processing_log": 2, "day_outcomes": 4}  # where raw_object sits; the fetch tables' is third from last
    for bookkeeping in ("processing_log", "fetch_pages", "fetch_keys", "day_outcomes"):
        kept, now = set(before.pop(bookkeeping)), set(after.pop(bookkeeping))
        assert kept <= now, bookkeeping
        added_objects = {row[at.get(bookkeeping, -3)] for row in now - kept}
        assert all(name.split("/")[2] in changed for name in added_objects), (bookkeeping, added_objects)
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    assert after == before


def test_a_sleep_revised_by_the_simulator_is_updated_in_place(demo_run):
    """The last night is served unprocessed first, re-read after a delay, and rewritten in place."""
    runtime, _, _ = demo_run
    raw = Path(runtime.settings.raw_dir) / "objects" / "raw" / "user1" / "sleep"
    versions: dict[str, set[bool]] = {}
    for path in raw.rglob("*.json"):
        for point in json.loads(path.read_text()).get("dataPoints", []):
            processed = bool(point["sleep"].get("metadata", {}).get("processed"))
            versions.setdefault(point["name"], set()).add(processed)
    revised = [name for name, seen in versions.items() if seen == {False, True}]
    assert revised, "some night was stored both before and after Google finished processing it"
    rows = _warehouse(runtime).query(
        "SELECT data_point_name, COUNT(*), LOGICAL_AND(processed) FROM sleep_sessions "
        "WHERE participant_id = 'user1' GROUP BY 1")
    by_name = {name: (count, processed) for name, count, processed in rows}
    assert all(count == 1 for count, _ in by_name.values()), "one row per sleep, never a duplicate"
    assert all(by_name[name] == (1, True) for name in revised), "the revision replaced the unprocessed row"
    follow_ups = _warehouse(runtime).query(
        "SELECT COUNT(*) FROM processing_log WHERE data_type = 'sleep' AND participant_id = 'user1' "
        f"AND raw_object LIKE '%/list/{END.isoformat()}_{(END + timedelta(days=1)).isoformat()}/%'")
    assert follow_ups[0][0] >= 1, "the unprocessed night was re-read on its own (the sleep_refetch follow-up)"


def test_exercise_tracks_were_exported_once_per_gps_session(demo_run):
    runtime, _, _ = demo_run
    gps, tracked = _warehouse(runtime).query(
        "SELECT (SELECT COUNT(*) FROM exercise_sessions WHERE has_gps), "
        "(SELECT COUNT(DISTINCT data_point_name) FROM exercise_tcx_points)")[0]
    assert gps > 0 and tracked == gps


def _small_run(tmp_path, extra_args=(), users=1, days=3, faults=None):
    state = demo.fresh_state_dir(tmp_path / "state")
    participants = [f"user{i}" for i in range(1, users + 1)]
    with demo.simulator_process(users, days, end_date=END, extra_args=extra_args) as sim:
        demo.enrol(state, sim.base_url, participants)
        if faults:
            requests.post(sim.base_url + "_admin/faults", json=faults, timeout=10).raise_for_status()
        settings = demo.demo_settings(state, sim.base_url, MAX_ATTEMPTS="12")
        runtime = LocalRuntime(settings)
        runtime.publish([RunTrigger(END, days, "backfill")])
        stats = runtime.run_until_empty()
        totals = {p: _truth(runtime, p, "steps") for p in participants}
        return runtime, stats, totals


def test_a_429_storm_delays_the_run_but_loses_nothing(tmp_path):
    runtime, stats, truth = _small_run(tmp_path, faults={"rate_limit_burst": 25, "retry_after_s": 1})
    assert stats.deferred >= 20
    summary = summarise(_warehouse(runtime))
    assert summary.failures == [] and stats.dead_lettered == []
    loaded = dict(((d), v) for _, d, v in _warehouse(runtime).query(
        "SELECT participant_id, civil_date, steps FROM steps_daily"))
    assert loaded == {d: int(v.get("countSum", 0)) for d, v in truth["user1"].items()}


def test_server_errors_are_redelivered_until_they_pass(tmp_path):
    runtime, stats, _ = _small_run(tmp_path, faults={"server_errors": 3})
    assert stats.redelivered >= 3 and stats.dead_lettered == []
    assert summarise(_warehouse(runtime)).failures == []


def test_a_revoked_grant_is_recorded_with_its_fix_and_not_retried(tmp_path):
    state = demo.fresh_state_dir(tmp_path / "state")
    with demo.simulator_process(2, 2, end_date=END) as sim:
        demo.enrol(state, sim.base_url, ["user1", "user2"])
        requests.post(sim.base_url + "_admin/faults", json={"revoke": ["user2"]}, timeout=10).raise_for_status()
        runtime = LocalRuntime(demo.demo_settings(state, sim.base_url))
        runtime.publish([RunTrigger(END, 2, "daily")])
        stats = runtime.run_until_empty()
    failures = _warehouse(runtime).query(
        "SELECT participant_id, error_class, fix, COUNT(*) FROM processing_log WHERE status = 'failed' GROUP BY 1, 2, 3")
    assert [(p, e) for p, e, _, _ in failures] == [("user2", "ReconsentNeeded")]
    assert "authorise.py --participant user2" in failures[0][2]
    assert stats.dead_lettered == [] and stats.redelivered == 0
    assert _warehouse(runtime).query("SELECT COUNT(*) FROM steps_daily WHERE participant_id = 'user1'")[0][0] > 0


def test_a_malformed_message_is_recorded_and_acknowledged(tmp_path):
    state = demo.fresh_state_dir(tmp_path / "state")
    settings = demo.demo_settings(state, "http://127.0.0.1:9/")
    runtime = LocalRuntime(settings)
    foreign = b'{"schema": "fitbit-pipeline", "version": 1, "kind": "unit", "data_type": "x"}'
    data = pubsub_event_data(foreign, "m1", utc_now(), runtime.queue.subscription)
    runtime.queue.enqueue(PUBSUB_EVENT, "//pubsub.googleapis.com/t", None, data)
    stats = runtime.run_until_empty()
    rows = _warehouse(runtime).query("SELECT status, error_class, data_type FROM processing_log")
    assert rows == [("failed", "MalformedMessage", "unknown")]
    assert stats.redelivered == 0 and stats.dead_lettered == []
    (error_object,) = (Path(settings.raw_dir) / "objects" / "errors").rglob("*.json")
    doc = json.loads(error_object.read_text())
    assert doc["unit"] is None and len(doc["message_sha256"]) == 64 and doc["message_bytes"] == len(foreign)


def test_the_sleep_reread_chain_continues_through_unchanged_pages_until_the_night_is_processed(tmp_path):
    """Re-reads that get the very same unprocessed page must not end the chain (each is its own object)."""
    state = demo.fresh_state_dir(tmp_path / "state")
    with demo.simulator_process(1, 2, end_date=END, extra_args=("--sleep-processing-seconds", "9")) as sim:
        demo.enrol(state, sim.base_url, ["user1"])
        runtime = LocalRuntime(demo.demo_settings(state, sim.base_url, SLEEP_REFETCH_DELAY_S="2"))
        runtime.publish([RunTrigger(END, 1, "daily")])
        runtime.run_until_empty()
    rereads = sorted(Path(runtime.settings.raw_dir, "objects", "raw", "user1", "sleep").rglob("page-0000-r*.json"))
    assert len(rereads) >= 2, [p.name for p in rereads]
    unprocessed, total = _warehouse(runtime).query(
        "SELECT COUNTIF(NOT processed), COUNT(*) FROM sleep_sessions")[0]
    assert total >= 1 and unprocessed == 0


def test_records_deleted_at_the_source_stay_in_the_tables_and_leave_the_views(demo_run):
    """The simulator deletes one weight and one exercise inside the daily run's re-fetch window after the
    history run read them; the daily run's complete re-fetch lacks them, so they are marked, kept, hidden."""
    runtime, _, _ = demo_run
    wh = _warehouse(runtime)
    clients = client_factory(runtime.adapters)
    for table, data_type, member in (("weight", "weight", "sample_time.civil_time"),
                                     ("exercise_sessions", "exercise", "interval.civil_start_time")):
        ((participant, day, name),) = wh.query(
            f"SELECT participant_id, civil_date, data_point_name FROM {table} WHERE deleted_at IS NOT NULL")
        assert END - timedelta(days=2) <= day <= END
        client, _ = clients(participant)
        filter_ = f'{data_type}.{member} >= "{day}" AND {data_type}.{member} < "{day + timedelta(days=1)}"'
        live = {p.get("name") for page in client.pages(list_call(data_type, filter=filter_, page_size=25))
                for p in page.items}
        assert name not in live, "the API no longer returns it"
        kept = wh.query(f"SELECT COUNT(*) FROM {table} WHERE participant_id = '{participant}' "
                        f"AND civil_date = DATE '{day}' AND deleted_at IS NULL")[0][0]
        assert kept == len(live), "every other record of that day is still there"
        column = "exercise_sessions" if data_type == "exercise" else "weight_kg"
        shown = wh.query(f"SELECT {column} FROM daily_summary WHERE participant_id = '{participant}' "
                         f"AND civil_date = DATE '{day}'")
        if data_type == "exercise":
            assert shown == [(kept,)]
        else:
            weights = [p["weight"]["weightGrams"] for page in client.pages(list_call("weight", filter=filter_,
                       page_size=100)) for p in page.items]
            assert shown == [(sum(weights) / len(weights) / 1000 if weights else None,)]


def test_nan_temperatures_were_nulled_and_counted_and_averages_stay_finite(demo_run):
    runtime, _, _ = demo_run
    wh = _warehouse(runtime)
    nulls = wh.query("SELECT COUNT(*) FROM daily_sleep_temperature WHERE relative_nightly_stddev_30d_c IS NULL "
                     "AND civil_date <= DATE '" + (START + timedelta(days=1)).isoformat() + "'")[0][0]
    assert nulls == len(PARTICIPANTS) * 2  # the window's first two nights, everyone
    (average,) = wh.query("SELECT AVG(relative_nightly_stddev_30d_c) FROM daily_sleep_temperature")[0]
    assert 0.1 < average < 0.4
    counted = wh.query("SELECT SUM(CAST(JSON_VALUE(parse_counts, '$.non_finite_nulled') AS INT64)) "
                       "FROM processing_log WHERE data_type = 'daily-sleep-temperature-derivations'")[0][0]
    assert counted >= nulls


def test_the_health_connect_participant_got_offsets_from_their_time_zone(demo_run):
    runtime, _, _ = demo_run
    wh = _warehouse(runtime)
    sources = dict(wh.query("SELECT offset_source, COUNT(*) FROM steps_intraday WHERE participant_id = 'user5' "
                            "GROUP BY 1"))
    assert set(sources) == {"account_time_zone"} and sources["account_time_zone"] > 1000
    offsets = wh.query("SELECT ARRAY_AGG(DISTINCT start_utc_offset_s ORDER BY start_utc_offset_s) FROM steps_intraday "
                       "WHERE participant_id = 'user5'")[0][0]
    assert offsets == [-28800, -25200]  # America/Los_Angeles: PDT, then PST after 2026-11-01
    assert wh.query("SELECT COUNT(*) FROM steps_intraday WHERE participant_id != 'user5' "
                    "AND offset_source != 'point'") == [(0,)]
