"""The simulator produces what live accounts send (issue #12), on by default, each shape switchable off.

One participant in five syncs through a Health Connect phone (no offsets, no civil times, millisecond
instants, package-only sources); the first nights of the window have "NaN" temperature derivations; the
most recent night first arrives without summary and stages; one weight sample and one nap come without a
resource name; one weight and one exercise inside the re-fetch window are deleted by the participant after
a client has read them once (the API keeps no tombstone, so the next fetch simply lacks them).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from simulator import DEFAULT_END_DATE, SimConfig, Simulator
from tests.conftest import Api
from tests.discovery_contract import assert_valid

END = DEFAULT_END_DATE
POINTS = "/v4/users/me/dataTypes/{}/dataPoints"
MS_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _window(dt: str, member: str, first: date, last: date) -> str:
    return f'{dt}.{member} >= "{first}" AND {dt}.{member} < "{last + timedelta(days=1)}"'


def _all(api: Api, path_id: str, member: str, first: date, last: date, verb: str = "") -> list[dict]:
    items, token = [], None
    while True:
        params = {"filter": _window(path_id.replace("-", "_"), member, first, last), "pageSize": 10000}
        if path_id in ("sleep", "exercise"):
            params["pageSize"] = 25
        if token:
            params["pageToken"] = token
        page = api.get(POINTS.format(path_id) + verb, **params).json()
        items += page.get("dataPoints", [])
        token = page.get("nextPageToken")
        if not token:
            return items


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimConfig(users=5, days=14, seed=42, sleep_processing_seconds=3600))


def test_every_fifth_participant_syncs_through_health_connect_without_offsets_or_civil_times(sim):
    phone = Api(sim, "user5")
    steps = _all(phone, "steps", "interval.civil_start_time", END, END, ":reconcile")
    assert steps and all(set(p["steps"]["interval"]) == {"startTime", "endTime"} for p in steps)
    assert all(MS_INSTANT.match(p["steps"]["interval"]["startTime"]) for p in steps)
    sleep = _all(phone, "sleep", "interval.civil_end_time", END - timedelta(days=3), END)
    assert sleep and all("startUtcOffset" not in p["sleep"]["interval"] for p in sleep)
    assert all(p["dataSource"]["platform"] == "HEALTH_CONNECT" for p in sleep)
    weights = _all(phone, "weight", "sample_time.civil_time", END - timedelta(days=13), END)
    assert weights and all(set(p["weight"]["sampleTime"]) == {"physicalTime"} for p in weights)
    sources = [p["dataSource"] for p in weights]
    assert all(s["application"]["packageName"].startswith("com.") for s in sources)
    assert any(s.get("device") == {} for s in sources)  # a device Health Connect could not name
    for page in ({"dataPoints": steps[:50]}, {"dataPoints": sleep}, {"dataPoints": weights}):
        assert_valid(page, "ListDataPointsResponse")
    fitbit = Api(sim, "user1")
    tracked = _all(fitbit, "steps", "interval.civil_start_time", END, END, ":reconcile")
    assert all("civilStartTime" in p["steps"]["interval"] for p in tracked)


def test_health_connect_can_be_switched_off():
    plain = Api(Simulator(SimConfig(users=5, days=2, health_connect_users=())), "user5")
    steps = _all(plain, "steps", "interval.civil_start_time", END, END, ":reconcile")
    assert all("civilStartTime" in p["steps"]["interval"] for p in steps)


def test_the_first_nights_of_the_window_have_nan_temperature_derivations(sim):
    api = Api(sim, "user1")
    first = END - timedelta(days=13)
    points = {date(**p["dailySleepTemperatureDerivations"]["date"]): p["dailySleepTemperatureDerivations"]
              for p in _all(api, "daily-sleep-temperature-derivations", "date", first, END)}
    nan_days = sorted(d for d, v in points.items() if "NaN" in v.values())
    assert nan_days and nan_days[0] <= first + timedelta(days=1) and nan_days[-1] < END - timedelta(days=3)
    assert all(isinstance(v["baselineTemperatureCelsius"], float) for v in points.values())
    assert_valid({"dataPoints": [{"dailySleepTemperatureDerivations": v} for v in points.values()]},
                 "ListDataPointsResponse")


def test_a_night_in_progress_has_neither_summary_nor_stages_until_it_is_processed():
    sim = Simulator(SimConfig(users=1, days=2, sleep_processing_seconds=1800))
    api = Api(sim, "user1")
    (night,) = [p for p in _all(api, "sleep", "interval.civil_end_time", END, END)
                if p["sleep"].get("metadata", {}).get("mainSleep")]
    assert set(night["sleep"]) == {"interval", "metadata", "createTime", "updateTime"}
    sim.control.apply({"advance_clock_s": 1800})
    (done,) = [p for p in _all(api, "sleep", "interval.civil_end_time", END, END) if p["name"] == night["name"]]
    assert done["sleep"]["summary"]["minutesAsleep"] and done["sleep"]["stages"]
    assert done["sleep"]["metadata"]["processed"] is True


def test_one_weight_sample_and_one_nap_come_without_a_resource_name(sim):
    first = END - timedelta(days=13)
    unnamed = {"weight": 0, "sleep": 0}
    named = {"weight": 0, "sleep": 0}
    for user in ("user1", "user2", "user3", "user4", "user5"):
        api = Api(sim, user)
        for path_id, member in (("weight", "sample_time.civil_time"), ("sleep", "interval.civil_end_time")):
            for point in _all(api, path_id, member, first, END):
                bucket = named if point.get("name") else unnamed
                bucket[path_id] += 1
    assert unnamed == {"weight": 1, "sleep": 1}
    assert named["weight"] > 5 and named["sleep"] > 50


def test_a_deleted_weight_and_exercise_are_read_once_then_gone_from_the_next_fetch():
    sim = Simulator(SimConfig(users=5, days=14, seed=42))
    users = ("user1", "user2", "user3", "user4", "user5")
    first_day, window = END - timedelta(days=13), (END - timedelta(days=2), END)  # the daily re-fetch window
    for path_id, member in (("weight", "sample_time.civil_time"), ("exercise", "interval.civil_start_time")):
        read = {u: {p.get("name") for p in _all(Api(sim, u), path_id, member, *window)} for u in users}
        later = {u: {p.get("name") for p in _all(Api(sim, u), path_id, member, first_day, END)} for u in users}
        lost = [(u, name) for u in users for name in read[u] - later[u]]
        assert len(lost) == 1, (path_id, lost)  # one point, deleted after it was read once
        user, name = lost[0]
        again = {p.get("name") for p in _all(Api(sim, user), path_id, member, *window)}
        assert name not in again  # gone for good
        if path_id == "exercise":
            point = POINTS.format("exercise") + "/" + name.rsplit("/", 1)[1]
            assert Api(sim, user).get(point).status_code == 404


def test_deletions_can_be_switched_off():
    sim = Simulator(SimConfig(users=5, days=14, seed=42, deletions=False))

    def names() -> set[str]:
        return {p.get("name") for user in ("user1", "user2", "user3", "user4", "user5")
                for p in _all(Api(sim, user), "weight", "sample_time.civil_time", END - timedelta(days=13), END)}

    assert names() == names()
