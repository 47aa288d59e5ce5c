"""The analytics views (helper/sql/views/) on the embedded warehouse, from hand-built rows.

Hand-built rows pin the edge cases whose answer is known by construction (a period across local midnight,
a night still being processed, unworn days, the valid-day threshold); the views' creation order and the
BigQuery re-creation of changed views are checked here too. The same views checked against a simulator
cohort run through the whole pipeline: test_views_cohort.py.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fitbit.catalogue import all_tables
from helper import views
from helper.sql import names as shipped_sql_files
from helper.warehouse import DuckDbWarehouse

TABLES = {t.name: t for t in all_tables()}
DATASET = "fitbit"


# --- hand-built rows --------------------------------------------------------------------------------

@pytest.fixture
def warehouse(tmp_path: Path):
    wh = DuckDbWarehouse(tmp_path / "w.duckdb", DATASET, tmp_path / "staging")
    yield wh
    wh.close()


def _load(wh: DuckDbWarehouse, table: str, rows: list[dict[str, Any]]) -> None:
    lineage = {"raw_object": f"raw/test/{table}", "fetched_at": "2026-11-20T00:00:00Z", "parser_version": "test"}
    wh.stage(TABLES[table], [{**lineage, **r} for r in rows], f"test-{table}")
    wh.flush()


def _interval(start: str, end: str, offset_s: int, *, dated_by_end: bool = False) -> dict[str, Any]:
    """An interval row's time columns: UTC instants and the civil times at a fixed offset."""
    s, e = datetime.fromisoformat(start), datetime.fromisoformat(end)
    civil_s, civil_e = s + timedelta(seconds=offset_s), e + timedelta(seconds=offset_s)
    return {"civil_date": (civil_e if dated_by_end else civil_s).date().isoformat(),
            "start_time": start + "Z", "end_time": end + "Z",
            "start_utc_offset_s": offset_s, "end_utc_offset_s": offset_s,
            "civil_start_time": civil_s.isoformat(), "civil_end_time": civil_e.isoformat()}


def _hr_minutes(participant: str, day: date, minutes: int) -> list[dict[str, Any]]:
    """``minutes`` worn 1-minute heart-rate windows from 08:00 UTC (offset 0) on ``day``."""
    start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
    rows = []
    for m in range(minutes):
        t = start + timedelta(minutes=m)
        rows.append({"participant_id": participant, "civil_date": day.isoformat(),
                     "start_time": t.isoformat(), "end_time": (t + timedelta(minutes=1)).isoformat(),
                     "utc_offset_s": 0, "civil_start_time": t.replace(tzinfo=None).isoformat(),
                     "offset_source": "account_time_zone", "bpm_min": 60.0, "bpm_avg": 70.0, "bpm_max": 80.0})
    return rows


def test_every_sql_file_is_a_listed_view_and_each_one_is_created_by_ensure_schema(warehouse):
    on_disk = set(shipped_sql_files(views.VIEW_FOLDER))
    assert on_disk == set(views.VIEWS)
    warehouse.ensure_schema()
    assert [warehouse.query(f"SELECT COUNT(*) FROM {name}") for name in views.VIEWS] == [[(0,)]] * len(views.VIEWS)


def test_a_view_reading_another_view_is_created_after_it():
    order = {name: i for i, name in enumerate(views.VIEWS)}
    for name in views.VIEWS:
        sql = views.view_sql(name, DATASET)
        for other in views.VIEWS:
            if other != name and f"`{DATASET}.{other}`" in sql:
                assert order[other] < order[name], f"{name} reads {other}"


def test_a_sedentary_period_across_local_midnight_counts_on_both_civil_days(warehouse):
    # 22:30-01:00 on the wall clock at UTC+2: 90 minutes on the first day, 60 on the next.
    _load(warehouse, "sedentary_periods", [
        {"participant_id": "p1", **_interval("2026-03-10T20:30:00", "2026-03-10T23:00:00", 7200)},
        {"participant_id": "p1", **_interval("2026-03-11T08:00:00", "2026-03-11T08:20:00", 7200)},
    ])
    _load(warehouse, "steps_daily", [{"participant_id": "p1", "civil_date": d, "steps": 1}
                                     for d in ("2026-03-10", "2026-03-11")])
    rows = warehouse.query("SELECT civil_date, sedentary_minutes FROM daily_summary ORDER BY 1")
    assert rows == [(date(2026, 3, 10), 90.0), (date(2026, 3, 11), 80.0)]


def test_time_in_a_heart_rate_zone_across_local_midnight_counts_on_both_civil_days(warehouse):
    _load(warehouse, "time_in_heart_rate_zone", [
        {"participant_id": "p1", "heart_rate_zone": "PEAK",
         **_interval("2026-03-10T23:50:00", "2026-03-11T00:05:00", 0)},
    ])
    rows = warehouse.query("SELECT civil_date, peak_zone_minutes, light_zone_minutes, azm_total "
                           "FROM active_zones ORDER BY 1")
    assert rows == [(date(2026, 3, 10), 10.0, 0.0, None), (date(2026, 3, 11), 5.0, 0.0, None)]


def test_weeks_start_on_monday_so_a_sunday_and_the_next_monday_are_in_different_weeks(warehouse):
    # 2026-11-01 is a Sunday, 2026-11-02 a Monday.
    _load(warehouse, "active_zone_minutes_daily", [
        {"participant_id": "p1", "civil_date": d, "fat_burn_minutes": 1, "cardio_minutes": 2, "peak_minutes": 4}
        for d in ("2026-10-31", "2026-11-01", "2026-11-02")])
    rows = warehouse.query("SELECT week_start, week_end, days_with_data, azm_total FROM active_zones_weekly ORDER BY 1")
    assert rows == [(date(2026, 10, 26), date(2026, 11, 1), 2, 14), (date(2026, 11, 2), date(2026, 11, 8), 1, 7)]


def test_a_night_still_being_processed_has_no_sleep_numbers_rather_than_zeros(warehouse):
    base = {"participant_id": "p1", "source_platform": "FITBIT", "sleep_type": "CLASSIC", "main_sleep": True,
            "nap": False, "minutes_in_sleep_period": 0, "minutes_asleep": 0, "minutes_awake": 0,
            "minutes_to_fall_asleep": 0, "minutes_after_wake_up": 0}
    _load(warehouse, "sleep_sessions", [
        {**base, "data_point_name": "s/1", "processed": False,
         **_interval("2026-03-10T22:00:00", "2026-03-11T06:00:00", 0, dated_by_end=True)},
        {**base, "data_point_name": "s/2", "processed": True, "sleep_type": "STAGES", "minutes_in_sleep_period": 480,
         "minutes_asleep": 432, "minutes_awake": 48, "stage_deep_minutes": 90,
         **_interval("2026-03-11T22:00:00", "2026-03-12T06:00:00", 0, dated_by_end=True)},
    ])
    quality = warehouse.query("SELECT civil_date, time_in_bed_minutes, minutes_asleep, efficiency, deep_minutes "
                              "FROM sleep_quality ORDER BY 1")
    assert quality == [(date(2026, 3, 11), 480, None, None, None), (date(2026, 3, 12), 480, 432, 0.9, 90)]
    summary = warehouse.query("SELECT civil_date, sleep_minutes, main_sleep_minutes, sleep_sessions "
                              "FROM daily_summary ORDER BY 1")
    assert summary == [(date(2026, 3, 11), None, None, 1), (date(2026, 3, 12), 432, 432, 1)]


def test_unworn_days_appear_with_zero_wear_and_count_the_days_since_the_last_data(warehouse):
    _load(warehouse, "heart_rate_1min", _hr_minutes("p1", date(2026, 3, 10), 700))
    _load(warehouse, "participant_settings", [{"participant_id": "p1", "civil_date": "2026-03-13",
                                               "time_zone": "UTC"}])
    _load(warehouse, "paired_devices", [
        {"participant_id": "p1", "civil_date": "2026-03-13", "device_name": "d/tracker", "device_type": "TRACKER",
         "last_sync_time": "2026-03-10T20:00:00Z"},
        {"participant_id": "p1", "civil_date": "2026-03-13", "device_name": "d/scale", "device_type": "SCALE",
         "last_sync_time": "2026-03-13T07:00:00Z"},
    ])
    rows = warehouse.query("SELECT civil_date, wear_minutes, valid_day, days_since_last_data, last_sync_time "
                           "FROM data_completeness ORDER BY 1")
    synced = datetime(2026, 3, 10, 20, tzinfo=UTC)
    assert [(d, w, v, s) for d, w, v, s, _ in rows] == [
        (date(2026, 3, 10), 700, True, 0), (date(2026, 3, 11), 0, False, 1),
        (date(2026, 3, 12), 0, False, 2), (date(2026, 3, 13), 0, False, 3)]
    assert {sync for *_, sync in rows} == {synced}, "the scale's later sync does not count as the tracker's"


def test_the_valid_day_threshold_is_a_parameter_and_each_row_says_which_one_applied(warehouse):
    _load(warehouse, "heart_rate_1min", _hr_minutes("p1", date(2026, 3, 10), 500))
    warehouse.ensure_schema()
    assert warehouse.query("SELECT valid_day, valid_day_min_wear_hours FROM data_completeness") == [(False, 10.0)]
    views.create_views(warehouse.query, DATASET, valid_day_min_wear_hours=8)  # query() runs BigQuery SQL
    assert warehouse.query("SELECT valid_day, valid_day_min_wear_hours FROM data_completeness") == [(True, 8.0)]


def test_hourly_heart_rate_takes_the_extremes_and_the_mean_of_the_minutes_and_counts_them(warehouse):
    rows = _hr_minutes("p1", date(2026, 3, 10), 90)  # 08:00-09:30 UTC
    rows[0].update(bpm_min=50.0, bpm_avg=55.0)
    rows[59].update(bpm_max=150.0, bpm_avg=130.0)
    _load(warehouse, "heart_rate_1min", rows)
    hours = warehouse.query("SELECT start_time, bpm_min, bpm_avg, bpm_max, samples FROM hr_1h ORDER BY 1")
    assert hours == [(datetime(2026, 3, 10, 8, tzinfo=UTC), 50.0, pytest.approx((58 * 70 + 55 + 130) / 60), 150.0, 60),
                     (datetime(2026, 3, 10, 9, tzinfo=UTC), 60.0, 70.0, 80.0, 30)]


@pytest.mark.parametrize("dataset", ["fitbit; DROP TABLE x", "my-dataset", ""])
def test_a_dataset_name_bigquery_would_reject_is_refused_before_any_sql_is_built(dataset):
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        views.view_sql("daily_summary", dataset)


class _ListedView:
    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.table_id, self.labels, self.table_type = name, labels, "VIEW"


class _FakeBigQuery:
    """Answers ``list_tables`` with views labelled as given; records the statements it is asked to run."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.listed = [_ListedView(name, {views.VERSION_LABEL: sha}) for name, sha in labels.items()]
        self.ran: list[str] = []

    def list_tables(self, dataset: str) -> list[_ListedView]:
        return self.listed


def test_on_bigquery_only_a_view_whose_sql_changed_is_created_again():
    current = {name: views.version_of(views.view_sql(name, DATASET)) for name in views.VIEWS}
    current["hr_1h"] = "0000000000000000"
    fake = _FakeBigQuery(current)
    created = views.create_views(fake.ran.append, DATASET, current=views.bigquery_versions(fake, DATASET))
    assert created == ["hr_1h"] and len(fake.ran) == 1 and "VIEW `fitbit.hr_1h`" in fake.ran[0]
    changed = views.create_views(fake.ran.append, DATASET, current=views.bigquery_versions(fake, DATASET),
                                 valid_day_min_wear_hours=12)
    assert changed == ["hr_1h", "data_completeness"]
