"""The filter subset: what it selects, and the 400s (with their reasons) for what it does not allow."""

from __future__ import annotations

from datetime import date

import pytest

from simulator import SimConfig, Simulator
from simulator.timefmt import parse_rfc3339
from tests.conftest import Api

CIVIL = "steps.interval.civil_start_time"


@pytest.mark.parametrize(("type_id", "expression", "detailed"), [
    ("steps", f'{CIVIL} >= "2026-11-01" AND steps.interval.start_time < "2026-11-02T00:00:00Z"',
     "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS"),
    ("steps", f'{CIVIL} >= "2026-11-02" AND {CIVIL} < "2026-11-01"', "INVALID_TIME_RANGE"),
    ("steps", f'{CIVIL} >= "2026-11-01" AND {CIVIL} < "2026-11-01"', "INVALID_TIME_RANGE"),
    ("steps", 'heart_rate.sample_time.civil_time >= "2026-11-01"', "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH"),
    ("heart-rate", 'heart-rate.sample_time.civil_time >= "2026-11-01"', None),
    ("steps", f'{CIVIL} > "2026-11-01"', "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR"),
    ("steps", f'{CIVIL} <= "2026-11-01"', "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR"),
    ("steps", f"{CIVIL} >= 2026-11-01", "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE"),
    ("steps", f'{CIVIL} >= "2026-13-01"', "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE"),
    ("steps", 'steps.interval.start_time >= "2026-11-01T00:00:00"', "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE"),
    ("steps", f'{CIVIL} >= "2026-11-01" OR {CIVIL} < "2026-11-02"', "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE"),
    ("steps", f'({CIVIL} >= "2026-11-01")', "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE"),
    ("steps", 'steps.interval.end_time >= "2026-11-01T00:00:00Z"', "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
    ("steps", f"{CIVIL} >=", "INVALID_DATA_POINT_FILTER_UNEXPECTED_END_OF_INPUT"),
    ("steps", f'{CIVIL} >= "2026-11-01" {CIVIL}', "INVALID_DATA_POINT_FILTER_UNEXPECTED_TOKEN"),
    ("steps", f'{CIVIL} >= "2026-11-01" ; x', "INVALID_DATA_POINT_FILTER_SYNTAX"),
    ("exercise", 'exercise.interval.start_time >= "2026-11-01T00:00:00Z"',
     "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
    ("sleep", 'sleep.interval.civil_start_time >= "2026-11-01"', "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
    ("daily-resting-heart-rate", 'daily_resting_heart_rate.date >= "2026-11-01T00:00:00"',
     "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE"),
    ("weight", 'weight.interval.civil_start_time >= "2026-11-01"', "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER"),
    ("steps", 'stepz.interval.civil_start_time >= "2026-11-01"', "INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION"),
])
def test_filters_outside_the_subset_are_400_with_a_filter_reason(api: Api, type_id: str, expression: str,
                                                                  detailed: str | None) -> None:
    response = api.get(f"/v4/users/me/dataTypes/{type_id}/dataPoints", filter=expression)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    info = error["details"][0]
    assert info["reason"] == "INVALID_DATA_POINT_FILTER"
    assert info.get("metadata", {}).get("detailedReasons") == detailed


def test_a_civil_filter_selects_the_participants_own_local_day(sim) -> None:
    for user in ("user2", "user4"):
        page = Api(sim, user).get("/v4/users/me/dataTypes/steps/dataPoints:reconcile", pageSize=10000,
                                  filter=f'{CIVIL} >= "2026-11-01T06:00:00" AND {CIVIL} < "2026-11-01T18:00:00"').json()
        hours = {p["steps"]["interval"]["civilStartTime"]["time"].get("hours", 0) for p in page["dataPoints"]}
        assert min(hours) >= 6 and max(hours) < 18
        assert {p["steps"]["interval"]["civilStartTime"]["date"]["day"] for p in page["dataPoints"]} == {1}


def test_a_physical_filter_bounds_the_instants_and_the_lower_bound_alone_is_allowed(api: Api) -> None:
    page = api.get("/v4/users/me/dataTypes/heart-rate/dataPoints", pageSize=10000,
                   filter='heart_rate.sample_time.physical_time >= "2026-11-05T22:00:00+01:00"').json()
    times = [parse_rfc3339(p["heartRate"]["sampleTime"]["physicalTime"]) for p in page["dataPoints"]]
    assert times and min(times) >= parse_rfc3339("2026-11-05T21:00:00Z")
    assert times == sorted(times, reverse=True)
    assert "nextPageToken" not in page


def test_sleep_is_selected_by_the_civil_day_it_ends(sim) -> None:
    api = Api(sim, "user2")
    page = api.get("/v4/users/me/dataTypes/sleep/dataPoints",
                   filter='sleep.interval.civil_end_time >= "2026-11-01" AND '
                          'sleep.interval.civil_end_time < "2026-11-02"').json()
    plan = sim.store.plan(sim.cohort.by_label("user2"), date(2026, 11, 1))
    expected = {sp.point_id for sp in (plan.main_sleep, *plan.naps) if sp}
    assert {p["name"].rsplit("/", 1)[-1] for p in page["dataPoints"]} == expected
    main = next(p for p in page["dataPoints"] if p["sleep"]["metadata"].get("mainSleep"))
    assert main["sleep"]["interval"]["startTime"] < "2026-11-01T06:00:00Z", "it started the evening before"
    physical = api.get("/v4/users/me/dataTypes/sleep/dataPoints",
                       filter=f'sleep.interval.end_time >= "{main["sleep"]["interval"]["endTime"]}"').json()
    assert main["name"] in {p["name"] for p in physical["dataPoints"]}


def test_exercise_and_daily_types_filter_on_their_own_members(sim) -> None:
    api = Api(sim, "user1")
    all_ex = api.get("/v4/users/me/dataTypes/exercise/dataPoints").json().get("dataPoints", [])
    some = api.get("/v4/users/me/dataTypes/exercise/dataPoints",
                   filter='exercise.interval.civil_start_time >= "2026-11-01"').json().get("dataPoints", [])
    assert set(map(str, some)) <= set(map(str, all_ex))
    daily = api.get("/v4/users/me/dataTypes/daily-heart-rate-variability/dataPoints",
                    filter='daily_heart_rate_variability.date < "2026-10-26"').json()["dataPoints"]
    assert [d["dailyHeartRateVariability"]["date"]["day"] for d in daily] == [25, 24, 23]


def test_the_reject_sleep_filters_knob_rejects_every_sleep_filter() -> None:
    sim = Simulator(SimConfig(users=1, days=2, faults={"reject_sleep_filters": True}))
    api = Api(sim)
    response = api.get("/v4/users/me/dataTypes/sleep/dataPoints",
                       filter='sleep.interval.end_time >= "2026-11-01T00:00:00Z"')
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["reason"] == "INVALID_DATA_POINT_FILTER"
    assert api.get("/v4/users/me/dataTypes/sleep/dataPoints").status_code == 200


def test_source_families_narrow_the_sources(api: Api) -> None:
    day = f'{CIVIL} >= "2026-11-02" AND {CIVIL} < "2026-11-03"'
    every = api.get("/v4/users/me/dataTypes/steps/dataPoints", filter=day, pageSize=10000).json()["dataPoints"]
    worn = api.get("/v4/users/me/dataTypes/steps/dataPoints", filter=day, pageSize=10000,
                   dataSourceFamily="users/me/dataSourceFamilies/google-wearables").json()["dataPoints"]
    assert {p["dataSource"]["platform"] for p in every} == {"FITBIT", "HEALTH_CONNECT"}
    assert {p["dataSource"]["platform"] for p in worn} == {"FITBIT"}
    assert api.get("/v4/users/me/dataTypes/steps/dataPoints", filter=day,
                   dataSourceFamily="users/me/dataSourceFamilies/self-sources").json() == {}
    short = api.get("/v4/users/me/dataTypes/steps/dataPoints", dataSourceFamily="google-wearables")
    assert short.status_code == 400
    assert short.json()["error"]["details"][0]["reason"] == "INVALID_DATA_POINT_DATA_SOURCE_FAMILY"
    family = "users/me/dataSourceFamilies/all-sources"
    assert api.get("/v4/users/me/dataTypes/sleep/dataPoints", dataSourceFamily=family).status_code == 400
    assert api.get("/v4/users/me/dataTypes/sleep/dataPoints:reconcile", dataSourceFamily=family).status_code == 200
