"""The analytics views on the emulated BigQuery: created by ensure_schema, and equal to DuckDB's answers.

The view SQL is written once in BigQuery's dialect and transpiled for DuckDB, where most of its tests
run (tests/local/test_views.py). Here the same rows are loaded into both warehouses, through their own
stage-and-flush paths, and every view must return the same rows on both: a dialect drift (a DATE that
DuckDB turns into a TIMESTAMP, a week that starts on another day, a boundary-counting difference)
fails here. A few numbers known by construction pin the answers themselves.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from fitbit import ledger
from fitbit.catalogue import all_tables
from fitbit.messages import Unit
from helper import views
from helper.warehouse import BigQueryWarehouse, DuckDbWarehouse

pytestmark = [pytest.mark.emulator, pytest.mark.slow]
TABLES = {t.name: t for t in all_tables()}
# Columns compared across engines (everything but load timestamps, which differ by construction).
ORDER = {"hr_1min": "participant_id, start_time", "hr_1h": "participant_id, start_time",
         "sleep_quality": "participant_id, data_point_name", "active_zones_weekly": "participant_id, week_start",
         "day_ledger": "participant_id, civil_date, data_type"}


@pytest.fixture(scope="module")
def warehouses(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The sample loaded once into a fresh emulated BigQuery dataset and into DuckDB; skipped without the
    emulator harness (tests/emulator/conftest.py)."""
    try:
        stack = request.getfixturevalue("emulator_stack")
    except pytest.FixtureLookupError:
        pytest.skip("the emulator fixture emulator_stack (tests/emulator/conftest.py) is not available")
    suffix = uuid.uuid4().hex[:8]
    stack.ensure_buckets([f"staging-{suffix}"])
    bigquery = BigQueryWarehouse(stack.project, f"views_{suffix}", f"staging-{suffix}",
                                 endpoint=stack.env["BIGQUERY_EMULATOR_HOST"])
    with stack.client_env():  # the storage client reads the emulator host when it is built
        bigquery._clients()
    folder = tmp_path_factory.mktemp("duck")
    duck = DuckDbWarehouse(folder / "w.duckdb", bigquery.dataset, folder / "staging")
    rows = sample()
    _load(duck, rows)
    _load(bigquery, rows)
    yield bigquery, duck
    duck.close()


def _interval(start: datetime, minutes: int, offset_s: int, *, dated_by_end: bool = False) -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    civil_s, civil_e = start + timedelta(seconds=offset_s), end + timedelta(seconds=offset_s)
    return {"civil_date": (civil_e if dated_by_end else civil_s).date().isoformat(),
            "start_time": start.isoformat(), "end_time": end.isoformat(),
            "start_utc_offset_s": offset_s, "end_utc_offset_s": offset_s,
            "civil_start_time": civil_s.replace(tzinfo=None).isoformat(),
            "civil_end_time": civil_e.replace(tzinfo=None).isoformat()}


def sample() -> dict[str, list[dict[str, Any]]]:
    """Two participants over a week boundary: a period across local midnight, a night still being
    processed, an unworn day, a scale that synced after the tracker."""
    t = datetime(2026, 11, 1, 20, 30, tzinfo=UTC)  # Sunday; p1 lives at UTC+2
    days = ["2026-10-31", "2026-11-01", "2026-11-02"]
    rows: dict[str, list[dict[str, Any]]] = {
        "steps_daily": [{"participant_id": p, "civil_date": d, "steps": 1000 * i + n}
                        for n, p in enumerate(("p1", "p2")) for i, d in enumerate(days)],
        "active_zone_minutes_daily": [{"participant_id": "p1", "civil_date": d, "fat_burn_minutes": 3,
                                       "cardio_minutes": 4 * i, "peak_minutes": 2} for i, d in enumerate(days)],
        "daily_resting_heart_rate": [{"participant_id": "p1", "civil_date": d, "resting_bpm": 55 + i}
                                     for i, d in enumerate(days)],
        "sedentary_periods": [{"participant_id": "p1", **_interval(t, 150, 7200)},
                              {"participant_id": "p2", **_interval(t, 20, 0)}],
        "time_in_heart_rate_zone": [{"participant_id": "p1", "heart_rate_zone": z, **_interval(t + timedelta(
            hours=h), 25, 7200)} for z, h in (("PEAK", 1), ("LIGHT", -10))],
        "active_minutes_intraday": [{"participant_id": "p1", "light_minutes": 1, "moderate_minutes": 0,
                                     "vigorous_minutes": 1, **_interval(t - timedelta(hours=3), 1, 7200)}],
        "sleep_sessions": [
            {"participant_id": "p1", "data_point_name": "s/1", "processed": True, "main_sleep": True, "nap": False,
             "sleep_type": "STAGES", "minutes_in_sleep_period": 470, "minutes_asleep": 440, "minutes_awake": 30,
             "minutes_to_fall_asleep": 5, "minutes_after_wake_up": 0, "stage_light_minutes": 250,
             "stage_deep_minutes": 90, "stage_rem_minutes": 100,
             **_interval(datetime(2026, 10, 31, 21, 10, tzinfo=UTC), 470, 7200, dated_by_end=True)},
            {"participant_id": "p1", "data_point_name": "s/2", "processed": False, "main_sleep": True, "nap": False,
             "sleep_type": "CLASSIC", "minutes_in_sleep_period": 0, "minutes_asleep": 0, "minutes_awake": 0,
             "minutes_to_fall_asleep": 0, "minutes_after_wake_up": 0,
             **_interval(datetime(2026, 11, 1, 21, 0, tzinfo=UTC), 420, 7200, dated_by_end=True)},
        ],
        "heart_rate_1min": [],
        "participant_settings": [{"participant_id": p, "civil_date": "2026-11-03", "time_zone": "Etc/GMT-2"}
                                 for p in ("p1", "p2")],
        "paired_devices": [
            {"participant_id": "p1", "civil_date": "2026-11-03", "device_name": "d/t", "device_type": "TRACKER",
             "last_sync_time": "2026-11-01T19:00:00Z"},
            {"participant_id": "p1", "civil_date": "2026-11-03", "device_name": "d/s", "device_type": "SCALE",
             "last_sync_time": "2026-11-03T06:00:00Z"}],
    }
    for participant, day, first, minutes in (("p1", date(2026, 10, 31), datetime(2026, 10, 31, 6, tzinfo=UTC), 700),
                                             ("p1", date(2026, 11, 2), datetime(2026, 11, 2, 5, 59, tzinfo=UTC), 95),
                                             ("p2", date(2026, 11, 1), datetime(2026, 11, 1, 8, tzinfo=UTC), 601)):
        for m in range(minutes):
            start = first + timedelta(minutes=m)
            rows["heart_rate_1min"].append({
                "participant_id": participant, "civil_date": day.isoformat(), "start_time": start.isoformat(),
                "end_time": (start + timedelta(minutes=1)).isoformat(), "utc_offset_s": 7200,
                "civil_start_time": (start + timedelta(hours=2)).replace(tzinfo=None).isoformat(),
                "offset_source": "account_time_zone", "bpm_min": 50.0 + m % 7, "bpm_avg": 60.0 + m % 11,
                "bpm_max": 70.0 + m % 13})
    rows["day_outcomes"] = _day_outcomes()
    return rows


def _day_outcomes() -> list[dict[str, Any]]:
    """Every day-ledger state, written as the pipeline writes them (fitbit/ledger.py)."""
    t0 = datetime(2026, 11, 4, 6, tzinfo=UTC)
    steps = Unit("p1", "steps", "reconcile", date(2026, 10, 31), date(2026, 11, 3), "daily")
    sleep = Unit("p1", "sleep", "list", date(2026, 10, 31), date(2026, 11, 2), "daily")
    weight = Unit("p2", "weight", "list", date(2026, 10, 31), date(2026, 11, 2), "daily")
    heart = Unit("p2", "heart-rate", "list", date(2026, 10, 31), date(2026, 11, 1), "daily")
    return [
        *ledger.planned_rows([steps, sleep, weight, heart], "control/plan-sample", t0),
        *ledger.outcome_rows(steps, "raw/steps", "loaded", [{"civil_date": "2026-10-31"}], None,
                             t0 + timedelta(hours=1)),  # 10-31 complete, 11-01 and 11-02 no-data
        *ledger.outcome_rows(sleep, "raw/sleep", "loaded", [{"civil_date": "2026-11-01"}], None,
                             t0 + timedelta(hours=1)),
        *ledger.outcome_rows(sleep, "errors/sleep", "failed", [], "ServerError", t0 + timedelta(hours=2)),  # partial
        *ledger.outcome_rows(heart, "errors/heart", "failed", [], "ScopeMissing", t0),  # failed; weight: pending
    ]


def _load(warehouse: Any, rows: dict[str, list[dict[str, Any]]]) -> None:
    warehouse.ensure_schema()
    lineage = {"raw_object": "raw/sample", "fetched_at": "2026-11-04T00:00:00Z", "parser_version": "test"}
    for table, table_rows in rows.items():
        own = {k: v for k, v in lineage.items() if k in TABLES[table].column_names}
        warehouse.stage(TABLES[table], [{**own, **r} for r in table_rows], f"sample-{table}")
    warehouse.flush()


def _normalise(rows: list[tuple]) -> list[tuple]:
    return [tuple(pytest.approx(v) if isinstance(v, float) else v for v in row) for row in rows]


def test_every_view_answers_on_bigquery_exactly_as_on_duckdb(warehouses):
    bigquery, duck = warehouses
    for name in views.VIEWS:
        order = ORDER.get(name, "participant_id, civil_date")
        expected = duck.query(f"SELECT * FROM {name} ORDER BY {order}")
        assert expected, f"{name} has rows to compare"
        assert bigquery.query(f"SELECT * FROM {name} ORDER BY {order}") == _normalise(expected), name


def test_the_views_give_the_answers_known_by_construction_on_bigquery(warehouses):
    bigquery, _ = warehouses
    # p1 is at UTC+2: a sedentary period 22:30-01:00 local is 90 min on Sunday and 60 on Monday.
    assert bigquery.query("SELECT civil_date, sedentary_minutes FROM daily_summary WHERE participant_id = 'p1' "
                          "AND sedentary_minutes IS NOT NULL ORDER BY 1") == [
        (date(2026, 11, 1), 90.0), (date(2026, 11, 2), 60.0)]
    assert bigquery.query("SELECT week_start, days_with_data, azm_total FROM active_zones_weekly "
                          "WHERE participant_id = 'p1' ORDER BY 1") == [
        (date(2026, 10, 26), 2, 5 + 9), (date(2026, 11, 2), 1, 13)]
    assert bigquery.query("SELECT civil_date, minutes_asleep, efficiency FROM sleep_quality ORDER BY 1") == [
        (date(2026, 11, 1), 440, pytest.approx(440 / 470)), (date(2026, 11, 2), None, None)]
    assert bigquery.query("SELECT participant_id, civil_date, wear_minutes, valid_day, days_since_last_data "
                          "FROM data_completeness ORDER BY 1, 2") == [
        ("p1", date(2026, 10, 31), 700, True, 0), ("p1", date(2026, 11, 1), 0, False, 1),
        ("p1", date(2026, 11, 2), 95, False, 0), ("p1", date(2026, 11, 3), 0, False, 1),
        ("p2", date(2026, 10, 31), 0, False, None), ("p2", date(2026, 11, 1), 601, True, 0),
        ("p2", date(2026, 11, 2), 0, False, 1), ("p2", date(2026, 11, 3), 0, False, 2)]
    assert bigquery.query("SELECT DISTINCT last_sync_time FROM data_completeness WHERE participant_id = 'p1'") == [
        (datetime(2026, 11, 1, 19, tzinfo=UTC),)]
    # 95 minutes from 05:59 UTC: one minute in the 05:00 hour, 60 in 06:00, 34 in 07:00.
    assert [n for (n,) in bigquery.query("SELECT samples FROM hr_1h WHERE civil_date = '2026-11-02' "
                                         "ORDER BY start_time")] == [1, 60, 34]


def test_the_windowed_completeness_read_runs_on_bigquery_and_equals_the_view_inside_the_window(warehouses):
    bigquery, duck = warehouses
    order = " ORDER BY participant_id, civil_date"
    windowed = "SELECT * FROM " + views.completeness_window(date(2026, 11, 1), date(2026, 11, 2)) + order
    got = bigquery.query(windowed)
    assert [(p, d) for p, d, *_ in got] == [("p1", date(2026, 11, 1)), ("p1", date(2026, 11, 2)),
                                            ("p2", date(2026, 11, 1)), ("p2", date(2026, 11, 2))]
    assert got == bigquery.query("SELECT * FROM data_completeness "
                                 "WHERE civil_date BETWEEN DATE '2026-11-01' AND DATE '2026-11-02'" + order)
    assert got == _normalise(duck.query(windowed))


def test_a_second_ensure_schema_replaces_no_view_that_is_current(warehouses):
    bigquery, _ = warehouses
    bigquery.ensure_schema()
    bq, _ = bigquery._clients()
    current = views.bigquery_versions(bq, bigquery.dataset)
    assert set(current) == set(views.VIEWS) and None not in current.values()
    ran: list[str] = []
    assert views.create_views(ran.append, bigquery.dataset, current=current) == [] and ran == []
