"""Time zones, DST and the traveller: offsets, civil fields and civil-day boundaries."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import pytest

from simulator.timefmt import parse_duration, parse_rfc3339
from tests.conftest import Api


def _naive(civil: dict[str, Any]) -> int:
    d, t = civil["date"], civil.get("time", {})
    return calendar.timegm((d["year"], d["month"], d["day"], t.get("hours", 0), t.get("minutes", 0),
                            t.get("seconds", 0)))


def _offset(value: str | None) -> int:
    return int(parse_duration(value)) if value else 0


def _day_points(api: Api, type_id: str, day: date) -> list[dict[str, Any]]:
    member = "interval.civil_start_time"
    nxt = date.fromordinal(day.toordinal() + 1)
    page = api.get(f"/v4/users/me/dataTypes/{type_id}/dataPoints:reconcile", pageSize=10000,
                   filter=f'{type_id}.{member} >= "{day}" AND {type_id}.{member} < "{nxt}"').json()
    return [p[type_id]["interval"] for p in page.get("dataPoints", [])]


@pytest.mark.parametrize(("user", "zone", "offset"), [
    ("user1", "Europe/Berlin", "3600s"),
    ("user2", "America/New_York", "-18000s"),
    ("user3", "Europe/London", None),
    ("user4", "Asia/Kolkata", "19800s"),
    ("user5", "America/Los_Angeles", "-28800s"),
])
def test_settings_give_the_zone_where_the_participant_is_at_the_end_of_the_window(sim, user, zone, offset) -> None:
    settings = Api(sim, user).get("/v4/users/me/settings").json()
    assert settings["timeZone"] == zone
    assert settings.get("utcOffset") == offset


@pytest.mark.parametrize(("user", "offsets"), [
    ("user1", {7200, 3600}),
    ("user2", {-14400, -18000}),
    ("user3", {3600, 0, 32400}),
    ("user4", {19800}),
    ("user5", {-25200, -28800}),
])
def test_every_point_carries_the_offset_in_force_and_civil_equals_utc_plus_offset(reconciled, user, offsets) -> None:
    points = reconciled(user, "steps")
    assert {_offset(p["steps"]["interval"].get("startUtcOffset")) for p in points} == offsets
    for p in points[::3]:
        iv = p["steps"]["interval"]
        o0, o1 = _offset(iv.get("startUtcOffset")), _offset(iv.get("endUtcOffset"))
        assert _naive(iv["civilStartTime"]) == parse_rfc3339(iv["startTime"]) + o0
        assert _naive(iv["civilEndTime"]) == parse_rfc3339(iv["endTime"]) + o1


@pytest.mark.parametrize(("user", "day", "hours"), [
    ("user1", date(2026, 10, 25), 25),  # EU fall back, 03:00 CEST -> 02:00 CET
    ("user2", date(2026, 11, 1), 25),  # US fall back
    ("user5", date(2026, 11, 1), 25),
    ("user3", date(2026, 10, 25), 25),  # London falls back too
    ("user3", date(2026, 10, 28), 15),  # flies London -> Tokyo: nine hours of wall clock vanish
    ("user3", date(2026, 11, 1), 33),  # flies back: the morning's hours happen twice
    ("user4", date(2026, 11, 1), 24),
])
def test_a_civil_day_spans_its_real_length_of_physical_time(sim, user: str, day: date, hours: int) -> None:
    persona = sim.cohort.by_label(user)
    start, end = persona.day_range(day)
    assert end - start == hours * 3600
    intervals = _day_points(Api(sim, user), "steps", day)
    first = min(parse_rfc3339(iv["startTime"]) for iv in intervals)
    last = max(parse_rfc3339(iv["endTime"]) for iv in intervals)
    assert start <= first and last <= end
    assert last - first >= (hours - 3) * 3600  # only the charging gap may shave the ends
    assert all(iv["civilStartTime"]["date"] == {"year": day.year, "month": day.month, "day": day.day}
               for iv in intervals)


def test_the_repeated_hour_of_a_fall_back_day_is_reported_twice_with_both_offsets(sim) -> None:
    intervals = _day_points(Api(sim, "user1"), "steps", date(2026, 10, 25))
    at_0230 = [iv for iv in intervals if iv["civilStartTime"]["time"] == {"hours": 2, "minutes": 30}]
    assert sorted(_offset(iv.get("startUtcOffset")) for iv in at_0230) == [3600, 7200]


def test_the_traveller_changes_offset_mid_day_and_dates_stay_monotonic(sim) -> None:
    intervals = _day_points(Api(sim, "user3"), "steps", date(2026, 10, 28))
    offsets = sorted({_offset(iv.get("startUtcOffset")) for iv in intervals})
    assert offsets == [0, 32400]
    ordered = sorted(intervals, key=lambda iv: parse_rfc3339(iv["startTime"]))
    tokyo = [iv for iv in ordered if _offset(iv.get("startUtcOffset")) == 32400]
    assert tokyo[0]["civilStartTime"]["time"].get("hours", 0) >= 21, "arrives in the evening, local time"


def test_midnight_is_an_empty_time_message_and_zero_offsets_are_omitted(sim) -> None:
    intervals = _day_points(Api(sim, "user3"), "steps", date(2026, 11, 3))
    midnight = [iv for iv in intervals if iv["civilStartTime"]["time"] == {}]
    assert midnight, "a worn minute starting at local midnight"
    assert all("startUtcOffset" not in iv for iv in intervals), "London is on GMT (+0) in November"


def test_daily_samples_and_sessions_follow_the_same_civil_rules(sim) -> None:
    api = Api(sim, "user4")
    page = api.get("/v4/users/me/dataTypes/heart-rate/dataPoints", pageSize=3,
                   filter='heart_rate.sample_time.civil_time >= "2026-11-01T12:00:00" AND '
                          'heart_rate.sample_time.civil_time < "2026-11-01T12:00:03"').json()
    times = [p["heartRate"]["sampleTime"] for p in page.get("dataPoints", [])]
    worn = sim.store.frame(sim.cohort.by_label("user4"), date(2026, 11, 1)).worn[12 * 60]
    assert [t["civilTime"]["time"] for t in times] == ([{"hours": 12, "seconds": 2}, {"hours": 12, "seconds": 1},
                                                         {"hours": 12}] if worn else [])
    for t in times:
        assert t["utcOffset"] == "19800s"
        assert _naive(t["civilTime"]) == parse_rfc3339(t["physicalTime"]) + 19800
    daily = api.get("/v4/users/me/dataTypes/daily-resting-heart-rate/dataPoints",
                    filter='daily_resting_heart_rate.date >= "2026-11-01" AND '
                           'daily_resting_heart_rate.date < "2026-11-02"').json()["dataPoints"]
    assert [d["dailyRestingHeartRate"]["date"] for d in daily] == [{"year": 2026, "month": 11, "day": 1}]
