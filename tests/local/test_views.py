"""The analytics views (helper/sql/views/) on the embedded warehouse.

Two kinds of check. Hand-built rows pin the edge cases whose answer is known by construction (a period
across local midnight, a night still being processed, unworn days, the valid-day threshold). A
simulator cohort (2 participants x 6 days, crossing the US daylight-saving change and two ISO weeks),
run through the whole pipeline, checks every view's numbers against values computed here from the
simulator's own answers over HTTP (dailyRollUp, rollUp with 60 s and 3600 s windows, the raw sleep
JSON, paired devices), never against the views' SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fitbit.catalogue import all_tables, by_path_id
from fitbit.calls import (
    daily_roll_up_call,
    list_call,
    paired_devices_call,
    reconcile_call,
    roll_up_call,
    settings_call,
)
from fitbit.timefmt import duration_seconds, parse_instant
from helper import views
from helper.sql import names as shipped_sql_files
from tools import demo
from helper.compose import client_factory
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


# --- the simulator cohort ---------------------------------------------------------------------------

USERS, DAYS = 2, 6
END = demo.DEFAULT_END_DATE                       # Thursday 2026-11-05
START = END - timedelta(days=DAYS - 1)            # Saturday 2026-10-31: two ISO weeks, the US DST change
PARTICIPANTS = [f"user{i}" for i in range(1, USERS + 1)]
DAYS_RANGE = [START + timedelta(days=i) for i in range(DAYS)]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """The pipeline's warehouse after a run, and an API client per participant for the truth."""
    state = demo.fresh_state_dir(tmp_path_factory.mktemp("views") / "state")
    with demo.simulator_process(USERS, DAYS, end_date=END) as sim:
        demo.enrol(state, sim.base_url, PARTICIPANTS)
        runtime, stats = demo.run_demo_flow(demo.demo_settings(state, sim.base_url), END, DAYS)
        assert stats.dead_lettered == []
        clients = {p: client_factory(runtime.adapters)(p)[0] for p in PARTICIPANTS}
        yield runtime.adapters.warehouse(), clients


def _items(client, call) -> list[dict[str, Any]]:
    return [item for page in client.pages(call) for item in page.items]


def _civil(d: dict[str, int]) -> date:
    return date(d["year"], d["month"], d["day"])


def _daily(client, data_type: str, start: date = START, end: date = END + timedelta(days=1),
           window_days: int = 1) -> dict[date, dict[str, Any]]:
    """The simulator's dailyRollUp, keyed by each window's own civil start day."""
    call = daily_roll_up_call(data_type, start=start, end=end, window_days=window_days)
    key = _json_key(data_type)
    return {_civil(i["civilStartTime"]["date"]): i.get(key, {}) for i in _items(client, call)}


def _json_key(data_type: str) -> str:
    head, *rest = data_type.split("-")
    return head + "".join(p.capitalize() for p in rest)


def _zone(client) -> ZoneInfo:
    return ZoneInfo(client.execute(settings_call()).data["timeZone"])


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _heart_windows(client, window: str) -> list[dict[str, Any]]:
    zone = _zone(client)
    call = roll_up_call("heart-rate", start=_local_midnight(START, zone),
                        end=_local_midnight(END + timedelta(days=1), zone), window_size=window)
    return _items(client, call)


def _view(warehouse, sql: str) -> dict[tuple, tuple]:
    return {(r[0], r[1]): r[2:] for r in warehouse.query(sql)}


def _none_or(value: Any, convert=float) -> Any:
    return None if value is None else convert(value)


@pytest.mark.slow
def test_daily_summary_equals_the_simulators_daily_rollups_and_daily_values(cohort):
    warehouse, clients = cohort
    got = _view(warehouse, "SELECT participant_id, civil_date, steps, distance_km, floors, calories_kcal, "
                           "azm_fat_burn, azm_cardio, azm_peak, sedentary_minutes, light_minutes, moderate_minutes, "
                           "vigorous_minutes, resting_heart_rate_bpm, hrv_rmssd_ms, spo2_avg_pct, "
                           "respiratory_rate_bpm, sleep_minutes FROM daily_summary")
    for participant, client in clients.items():
        steps, distance = _daily(client, "steps"), _daily(client, "distance")
        floors, kcal = _daily(client, "floors"), _daily(client, "total-calories")
        azm, sedentary = _daily(client, "active-zone-minutes"), _daily(client, "sedentary-period")
        active = _daily(client, "active-minutes")
        vitals = {dt: {_civil(p[_json_key(dt)]["date"]): p[_json_key(dt)] for p in _items(client, reconcile_call(
            dt, filter=by_path_id(dt).civil_day_filter(START, END + timedelta(days=1)), page_size=None))}
            for dt in ("daily-resting-heart-rate", "daily-heart-rate-variability", "daily-oxygen-saturation",
                       "daily-respiratory-rate")}
        asleep = defaultdict(int)
        for night in _sleep_sessions(client):
            asleep[night["civil_date"]] += night["asleep"]
        for day in DAYS_RANGE:
            levels = {lv["activityLevel"]: int(lv["activeMinutesSum"])
                      for lv in active.get(day, {}).get("activeMinutesRollupByActivityLevel", [])}
            expected = (
                int(steps[day]["countSum"]), int(distance[day]["millimetersSum"]) / 1e6, int(floors[day]["countSum"]),
                float(kcal[day]["kcalSum"]), int(azm[day]["sumInFatBurnHeartZone"]),
                int(azm[day]["sumInCardioHeartZone"]), int(azm[day]["sumInPeakHeartZone"]),
                duration_seconds(sedentary[day]["durationSum"]) / 60 if day in sedentary else None,
                *((levels.get(lv, 0) if day in active else None) for lv in ("LIGHT", "MODERATE", "VIGOROUS")),
                _none_or(vitals["daily-resting-heart-rate"].get(day, {}).get("beatsPerMinute"), int),
                _none_or(vitals["daily-heart-rate-variability"].get(day, {}).get(
                    "averageHeartRateVariabilityMilliseconds")),
                _none_or(vitals["daily-oxygen-saturation"].get(day, {}).get("averagePercentage")),
                _none_or(vitals["daily-respiratory-rate"].get(day, {}).get("breathsPerMinute")),
                asleep.get(day),
            )
            assert got[(participant, day)] == pytest.approx(expected), (participant, day)
    assert set(got) == {(p, d) for p in PARTICIPANTS for d in DAYS_RANGE}


def _sleep_sessions(client) -> list[dict[str, Any]]:
    """Each sleep from the raw list JSON: dated by its civil end, stage minutes summed from its segments."""
    call = list_call("sleep", filter=by_path_id("sleep").civil_day_filter(START, END + timedelta(days=1)), page_size=25)
    nights = []
    for point in _items(client, call):
        sleep = point["sleep"]
        start, end = parse_instant(sleep["interval"]["startTime"]), parse_instant(sleep["interval"]["endTime"])
        offset = timedelta(seconds=duration_seconds(sleep["interval"]["endUtcOffset"]))
        stages: dict[str, float] = defaultdict(float)
        for segment in sleep.get("stages", []):
            stages[segment["type"]] += (parse_instant(segment["endTime"]) - parse_instant(segment["startTime"])
                                        ).total_seconds() / 60
        in_bed = (end - start).total_seconds() / 60
        asleep = int(sleep["summary"]["minutesAsleep"])
        nights.append({"name": point["name"], "civil_date": (end + offset).date(), "in_bed": in_bed,
                       "asleep": asleep, "stages": stages, "efficiency": asleep / in_bed,
                       "main": bool(sleep["metadata"].get("mainSleep")), "nap": bool(sleep["metadata"].get("nap"))})
    return nights


@pytest.mark.slow
def test_sleep_quality_matches_the_raw_sleep_json_session_by_session(cohort):
    warehouse, clients = cohort
    got = {(p, name): rest for p, name, *rest in warehouse.query(
        "SELECT participant_id, data_point_name, civil_date, time_in_bed_minutes, minutes_asleep, minutes_awake, "
        "light_minutes, deep_minutes, rem_minutes, efficiency, main_sleep, nap FROM sleep_quality")}
    expected = {}
    for participant, client in clients.items():
        for night in _sleep_sessions(client):
            s = night["stages"]
            expected[(participant, night["name"])] = [
                night["civil_date"], night["in_bed"], night["asleep"], s.get("AWAKE", 0), s.get("LIGHT"), s.get("DEEP"),
                s.get("REM"), pytest.approx(night["efficiency"]), night["main"], night["nap"]]
    assert len(expected) >= USERS * DAYS
    assert got == expected


def _seconds_by_zone(item: dict[str, Any]) -> dict[str, float]:
    return {z["heartRateZone"]: duration_seconds(z["duration"]) for z in item.get("timeInHeartRateZones", [])}


def _zone_row(azm: dict[str, Any], zones: dict[str, Any] | None) -> tuple:
    seconds = _seconds_by_zone(zones) if zones is not None else None
    return (int(azm["sumInFatBurnHeartZone"]), int(azm["sumInCardioHeartZone"]), int(azm["sumInPeakHeartZone"]),
            *((seconds.get(z, 0) / 60 if seconds is not None else None)
              for z in ("LIGHT", "MODERATE", "VIGOROUS", "PEAK")))


@pytest.mark.slow
def test_active_zones_per_day_equal_the_simulators_daily_rollups(cohort):
    warehouse, clients = cohort
    got = _view(warehouse, "SELECT participant_id, civil_date, azm_fat_burn, azm_cardio, azm_peak, "
                           "light_zone_minutes, moderate_zone_minutes, vigorous_zone_minutes, peak_zone_minutes "
                           "FROM active_zones")
    for participant, client in clients.items():
        azm, zones = _daily(client, "active-zone-minutes"), _daily(client, "time-in-heart-rate-zone")
        for day in DAYS_RANGE:
            assert got[(participant, day)] == pytest.approx(_zone_row(azm[day], zones.get(day))), (participant, day)


@pytest.mark.slow
def test_active_zones_per_week_equal_the_simulators_seven_day_rollups_from_monday(cohort):
    warehouse, clients = cohort
    got = _view(warehouse, "SELECT participant_id, week_start, azm_fat_burn, azm_cardio, azm_peak, "
                           "light_zone_minutes, moderate_zone_minutes, vigorous_zone_minutes, peak_zone_minutes "
                           "FROM active_zones_weekly")
    monday, end = date(2026, 10, 26), date(2026, 11, 9)
    for participant, client in clients.items():
        azm = _daily(client, "active-zone-minutes", monday, end, window_days=7)
        zones = _daily(client, "time-in-heart-rate-zone", monday, end, window_days=7)
        assert sorted(azm) == [monday, monday + timedelta(days=7)]
        for week in azm:
            assert got[(participant, week)] == pytest.approx(_zone_row(azm[week], zones.get(week))), (participant, week)
    assert len(got) == USERS * 2


@pytest.mark.slow
def test_hr_1min_holds_every_one_minute_rollup_window_the_simulator_returns(cohort):
    warehouse, clients = cohort
    for participant, client in clients.items():
        truth = {parse_instant(w["startTime"]): (w["heartRate"]["beatsPerMinuteMin"],
                                                 w["heartRate"]["beatsPerMinuteAvg"],
                                                 w["heartRate"]["beatsPerMinuteMax"], 1)
                 for w in _heart_windows(client, "60s")}
        got = {t: (lo, avg, hi, n) for t, lo, avg, hi, n in warehouse.query(
            "SELECT start_time, bpm_min, bpm_avg, bpm_max, samples FROM hr_1min "
            f"WHERE participant_id = '{participant}'")}
        assert len(truth) > DAYS * 600
        assert got == truth


@pytest.mark.slow
def test_hr_1h_equals_the_simulators_rollup_with_3600s_windows(cohort):
    warehouse, clients = cohort
    for participant, client in clients.items():
        minutes = defaultdict(int)
        for w in _heart_windows(client, "60s"):
            t = parse_instant(w["startTime"])
            minutes[t.replace(minute=0)] += 1
        truth = {parse_instant(w["startTime"]): (w["heartRate"]["beatsPerMinuteMin"],
                                                 pytest.approx(w["heartRate"]["beatsPerMinuteAvg"], abs=0.01),
                                                 w["heartRate"]["beatsPerMinuteMax"],
                                                 minutes[parse_instant(w["startTime"])])
                 for w in _heart_windows(client, "3600s")}
        got = {t: (lo, avg, hi, n) for t, lo, avg, hi, n in warehouse.query(
            "SELECT start_time, bpm_min, bpm_avg, bpm_max, samples FROM hr_1h "
            f"WHERE participant_id = '{participant}'")}
        assert len(truth) > DAYS * 20
        assert got == truth


@pytest.mark.slow
def test_data_completeness_counts_worn_minutes_per_civil_day_in_the_participants_time_zone(cohort):
    warehouse, clients = cohort
    got = {(p, d): rest for p, d, *rest in warehouse.query(
        "SELECT participant_id, civil_date, wear_minutes, valid_day, days_since_last_data, last_sync_time "
        "FROM data_completeness")}
    for participant, client in clients.items():
        zone = _zone(client)
        worn: dict[date, int] = defaultdict(int)
        for w in _heart_windows(client, "60s"):
            worn[parse_instant(w["startTime"]).astimezone(zone).date()] += 1
        tracker = next(d for d in _items(client, paired_devices_call()) if d["deviceType"] == "TRACKER")
        synced = parse_instant(tracker["lastSyncTime"])
        for day in DAYS_RANGE:
            assert got[(participant, day)] == [worn[day], worn[day] >= 600, 0 if worn[day] else None, synced]
    assert set(got) == {(p, d) for p in PARTICIPANTS for d in DAYS_RANGE}
