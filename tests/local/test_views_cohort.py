"""The analytics views (helper/sql/views/) on the embedded warehouse, against a simulator cohort.

A simulator cohort (2 participants x 6 days, crossing the US daylight-saving change and two ISO weeks),
run through the whole pipeline, checks every view's numbers against values computed here from the
simulator's own answers over HTTP (dailyRollUp, rollUp with 60 s and 3600 s windows, the raw sleep
JSON, paired devices), never against the views' SQL. The edge cases known by construction: test_views.py.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fitbit.catalogue import by_path_id
from fitbit.calls import (
    daily_roll_up_call,
    list_call,
    paired_devices_call,
    reconcile_call,
    roll_up_call,
    settings_call,
)
from fitbit.timefmt import duration_seconds, parse_instant
from tools import demo
from helper.compose import client_factory

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


def _heart_rate_view(warehouse, view: str, participant: str) -> dict[datetime, tuple]:
    """A heart-rate view's rows for one participant: start time -> (min, mean, max, samples)."""
    return {t: (lo, avg, hi, n) for t, lo, avg, hi, n in warehouse.query(
        f"SELECT start_time, bpm_min, bpm_avg, bpm_max, samples FROM {view} WHERE participant_id = '{participant}'")}


@pytest.mark.slow
def test_hr_1min_holds_every_one_minute_rollup_window_the_simulator_returns(cohort):
    warehouse, clients = cohort
    for participant, client in clients.items():
        truth = {parse_instant(w["startTime"]): (w["heartRate"]["beatsPerMinuteMin"],
                                                 w["heartRate"]["beatsPerMinuteAvg"],
                                                 w["heartRate"]["beatsPerMinuteMax"], 1)
                 for w in _heart_windows(client, "60s")}
        got = _heart_rate_view(warehouse, "hr_1min", participant)
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
        got = _heart_rate_view(warehouse, "hr_1h", participant)
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
