"""The synthetic cohort looks like real people and obeys the API's raw-versus-reconciled rules."""

from __future__ import annotations

import statistics
from datetime import date
from typing import Any

import pytest

from fitbit.catalogue import DATA_TYPES
from simulator import SimConfig, Simulator
from simulator.timefmt import parse_duration, parse_rfc3339
from tests.conftest import Api

DAY = date(2026, 11, 2)


def _civil_day(type_id: str, member: str, day: date = DAY) -> str:
    nxt = date.fromordinal(day.toordinal() + 1)
    return f'{type_id}.{member} >= "{day}" AND {type_id}.{member} < "{nxt}"'


def _span(interval: dict[str, str]) -> tuple[int, int]:
    return parse_rfc3339(interval["startTime"]), parse_rfc3339(interval["endTime"])  # type: ignore[return-value]


def test_list_overlaps_tracker_and_phone_steps_and_reconcile_keeps_one_stream(sim, api: Api) -> None:
    f = _civil_day("steps", "interval.civil_start_time")
    raw = api.get("/v4/users/me/dataTypes/steps/dataPoints", filter=f, pageSize=10000).json()["dataPoints"]
    rec = api.get("/v4/users/me/dataTypes/steps/dataPoints:reconcile", filter=f, pageSize=10000).json()["dataPoints"]
    phone = [p for p in raw if p["dataSource"]["device"]["formFactor"] == "PHONE"]
    tracker = [p for p in raw if p["dataSource"]["platform"] == "FITBIT"]
    assert phone and {p["dataSource"]["platform"] for p in phone} == {"HEALTH_CONNECT"}
    worn_minutes = {_span(p["steps"]["interval"])[0] for p in tracker}
    overlapping = [p for p in phone if _span(p["steps"]["interval"])[0] in worn_minutes]
    assert overlapping, "phone intervals overlap tracker minutes in the raw list"
    assert all("dataSource" not in p and "dataPointName" not in p for p in rec)
    rec_spans = [_span(p["steps"]["interval"]) for p in rec]
    assert len(rec) == len(tracker) + len(phone) - len(overlapping)
    assert all(a not in worn_minutes or b - a == 60 for a, b in rec_spans), "tracker wins while worn"
    frame = sim.store.frame(sim.cohort.by_label("user1"), DAY)
    off_wrist_phone = sum(c for a, _, c in frame.phone if not frame.worn[frame.minute_of(a)])
    assert off_wrist_phone > 0, "user1 walks while the tracker charges on this day"


def test_heart_rate_is_circadian_with_sleep_dips_and_exercise_peaks(sim) -> None:
    for persona in sim.cohort.personas:
        night, day, exercise = [], [], []
        for d in sim.cohort.days[1:]:
            frame = sim.store.frame(persona, d)
            for m in range(frame.n):
                if not frame.worn[m]:
                    continue
                if frame.sleep[m] in (2, 3, 4):
                    night.append(frame.hr[m])
                elif frame.act[m] in (2, 3):
                    exercise.append(frame.hr[m])
                elif not frame.act[m]:
                    day.append(frame.hr[m])
        assert statistics.fmean(night) + 8 < statistics.fmean(day), persona.label
        if exercise:
            assert max(exercise) > 130 and statistics.fmean(exercise) > statistics.fmean(day) + 30


def test_distance_is_steps_times_stride_and_zone_minutes_earn_one_or_two_credits(sim, api: Api) -> None:
    persona = sim.cohort.by_label("user1")
    frame = sim.store.frame(persona, DAY)
    for m in range(frame.n):
        if frame.worn[m] and frame.act[m] != 2:
            assert frame.dist_mm[m] == frame.steps[m] * persona.stride_walk_mm
    azm = api.get("/v4/users/me/dataTypes/active-zone-minutes/dataPoints:reconcile", pageSize=10000).json()
    credits = {(p["activeZoneMinutes"]["heartRateZone"], p["activeZoneMinutes"]["activeZoneMinutes"])
               for p in azm["dataPoints"]}
    assert credits <= {("FAT_BURN", "1"), ("CARDIO", "2"), ("PEAK", "2")} and ("CARDIO", "2") in credits


def test_main_sleep_stages_are_contiguous_and_the_summary_adds_up(sim) -> None:
    naps = 0
    for persona in sim.cohort.personas:
        api = Api(sim, persona.label)
        for item in api.get("/v4/users/me/dataTypes/sleep/dataPoints:reconcile").json()["dataPoints"]:
            sleep = item["sleep"]
            assert item["dataPointName"].startswith(f"users/{persona.health_user_id}/dataTypes/sleep/dataPoints/")
            start, end = _span(sleep["interval"])
            stages = [_span(s) + (s["type"],) for s in sleep["stages"]]
            assert stages[0][0] == start and stages[-1][1] == end
            assert all(a[1] == b[0] for a, b in zip(stages, stages[1:])), "contiguous"
            summary = sleep["summary"]
            minutes: dict[str, int] = {}
            for a, b, kind in stages:
                minutes[kind] = minutes.get(kind, 0) + (b - a) // 60
            assert int(summary["minutesInSleepPeriod"]) == (end - start) // 60
            assert {s["type"]: int(s["minutes"]) for s in summary["stagesSummary"]} == minutes
            assert sum(int(s["count"]) for s in summary["stagesSummary"]) == len(stages)
            if sleep["metadata"].get("nap"):
                naps += 1
                assert sleep["type"] == "CLASSIC" and set(minutes) <= {"ASLEEP", "RESTLESS"}
            else:
                assert sleep["type"] == "STAGES" and sleep["metadata"]["mainSleep"] is True
                assert {"LIGHT", "DEEP", "REM", "AWAKE"} <= set(minutes)
                assert int(summary["minutesAsleep"]) == (end - start) // 60 - minutes["AWAKE"]
                assert 5 * 3600 <= end - start <= 11.5 * 3600
    assert naps >= 1, "somebody naps in the cohort"


def test_the_latest_night_is_rewritten_in_place_once_staging_finishes() -> None:
    sim = Simulator(SimConfig(users=1, days=3, sleep_processing_seconds=5))
    api = Api(sim)
    f = _civil_day("sleep", "interval.civil_end_time", date(2026, 11, 5))

    def latest() -> dict[str, Any]:
        items = api.get("/v4/users/me/dataTypes/sleep/dataPoints", filter=f).json()["dataPoints"]
        return next(i for i in items if not i["sleep"]["metadata"].get("nap"))

    before = latest()  # as live accounts send a night in progress: no type, no stages, no summary
    assert "processed" not in before["sleep"]["metadata"] and before["sleep"]["metadata"]["mainSleep"] is True
    assert not {"type", "stages", "summary"} & set(before["sleep"])
    older = api.get("/v4/users/me/dataTypes/sleep/dataPoints",
                    filter=_civil_day("sleep", "interval.civil_end_time", date(2026, 11, 4))).json()["dataPoints"]
    assert all(i["sleep"]["metadata"]["processed"] for i in older)
    sim.control.apply({"advance_clock_s": 5})
    after = latest()
    assert after["name"] == before["name"] and after["sleep"]["interval"] == before["sleep"]["interval"]
    assert after["sleep"]["type"] == "STAGES" and after["sleep"]["metadata"]["processed"] is True
    assert after["sleep"]["updateTime"] > before["sleep"]["updateTime"]
    assert after["sleep"]["createTime"] == before["sleep"]["createTime"]


def test_gps_exercises_export_a_track_that_matches_their_summary(sim) -> None:
    found = 0
    for persona in sim.cohort.personas:
        api = Api(sim, persona.label)
        items = api.get("/v4/users/me/dataTypes/exercise/dataPoints").json().get("dataPoints", [])
        for item in items:
            ex = item["exercise"]
            gps = ex["exerciseMetadata"].get("hasGps", False)
            assert gps == (ex["exerciseType"] in ("RUNNING", "OUTDOOR_BIKE"))
            point = item["name"].rsplit("/", 1)[-1]
            assert api.get(f"/v4/users/me/dataTypes/exercise/dataPoints/{point}").json() == item
            if ex["exerciseType"] == "RUNNING":
                start, end = _span(ex["interval"])
                events = {kind: [parse_rfc3339(e["eventTime"]) for e in ex["exerciseEvents"]
                                 if e["exerciseEventType"] == kind] for kind in ("PAUSE", "RESUME")}
                pauses = list(zip(events["PAUSE"], events["RESUME"]))
                assert parse_duration(ex["activeDuration"]) == end - start - sum(b - a for a, b in pauses)
                f = (f'steps.interval.start_time >= "{ex["interval"]["startTime"]}" AND '
                     f'steps.interval.start_time < "{ex["interval"]["endTime"]}"')
                minutes = api.get("/v4/users/me/dataTypes/steps/dataPoints", pageSize=1000, filter=f,
                                  dataSourceFamily="users/me/dataSourceFamilies/google-wearables").json()
                active = [p for p in minutes["dataPoints"]
                          if not any(a <= _span(p["steps"]["interval"])[0] < b for a, b in pauses)]
                assert int(ex["metricsSummary"]["steps"]) == sum(int(p["steps"].get("count", 0)) for p in active)
                if ex.get("splits"):
                    assert all(s["metricsSummary"]["distanceMillimeters"] == 1e6 for s in ex["splits"])
            if gps and found < 2:
                found += 1
                tcx = api.get(f"/v4/users/me/dataTypes/exercise/dataPoints/{point}:exportExerciseTcx",
                              alt="media").text
                assert "<LatitudeDegrees>" in tcx and "<HeartRateBpm>" in tcx and "<AltitudeMeters>" in tcx
                metres = float(tcx.rsplit("<DistanceMeters>", 1)[1].split("<")[0])
                assert metres * 1000 == pytest.approx(ex["metricsSummary"]["distanceMillimeters"], abs=100)
    assert found == 2


def test_sessions_without_gps_export_track_points_only_as_partial_data(sim) -> None:
    api = Api(sim, "user1")
    items = api.get("/v4/users/me/dataTypes/exercise/dataPoints").json()["dataPoints"]
    walk = next(i for i in items if not i["exercise"]["exerciseMetadata"].get("hasGps"))
    path = f"/v4/users/me/dataTypes/exercise/dataPoints/{walk['name'].rsplit('/', 1)[-1]}:exportExerciseTcx"
    lap_only = api.get(path, alt="media").text
    partial = api.get(path, alt="media", partialData="true").text
    assert "<Lap " in lap_only and "<Trackpoint>" not in lap_only
    assert "<Trackpoint>" in partial and "<Position>" not in partial and "<HeartRateBpm>" in partial
    steps = api.get("/v4/users/me/dataTypes/steps/dataPoints/123")
    assert steps.status_code == 400, "only identifiable types support get"


def test_weight_and_body_fat_come_from_a_scale_some_mornings(sim) -> None:
    api = Api(sim, "user1")
    weights = api.get("/v4/users/me/dataTypes/weight/dataPoints").json()["dataPoints"]
    fat = api.get("/v4/users/me/dataTypes/body-fat/dataPoints").json()["dataPoints"]
    scale = [w for w in weights if w["dataSource"]["device"]["formFactor"] == "SCALE"]
    assert 3 <= len(scale) < 14, "some mornings, not every morning"
    assert {w["weight"]["sampleTime"]["physicalTime"] for w in scale} == \
        {f["bodyFat"]["sampleTime"]["physicalTime"] for f in fat}
    assert all(45_000 < w["weight"]["weightGrams"] < 110_000 for w in weights)
    hours = [w["weight"]["sampleTime"]["civilTime"]["time"].get("hours", 0) for w in scale]
    assert max(hours) < 11, "weighed after waking up"


def test_daily_metrics_exist_every_day_and_zones_are_ordered(sim) -> None:
    api = Api(sim, "user2")
    for type_id in [dt.path_id for dt in DATA_TYPES if dt.record_type == "daily"]:
        items = api.get(f"/v4/users/me/dataTypes/{type_id}/dataPoints").json()["dataPoints"]
        assert len(items) == 14, type_id
        assert all(i["dataSource"]["recordingMethod"] == "DERIVED" for i in items)
    zones = api.get("/v4/users/me/dataTypes/daily-heart-rate-zones/dataPoints").json()["dataPoints"][0]
    bounds = [(int(z["minBeatsPerMinute"]), int(z["maxBeatsPerMinute"]))
              for z in zones["dailyHeartRateZones"]["heartRateZones"]]
    assert all(lo <= hi < nxt_lo for (lo, hi), (nxt_lo, _) in zip(bounds, bounds[1:]))


def test_samples_taken_during_sleep_fall_inside_the_night(sim) -> None:
    api = Api(sim, "user5")
    night = api.get("/v4/users/me/dataTypes/sleep/dataPoints",
                    filter=_civil_day("sleep", "interval.civil_end_time")).json()["dataPoints"]
    main = next(n for n in night if n["sleep"]["metadata"].get("mainSleep"))
    start, end = _span(main["sleep"]["interval"])
    f = (f'oxygen_saturation.sample_time.physical_time >= "{main["sleep"]["interval"]["startTime"]}" AND '
         f'oxygen_saturation.sample_time.physical_time < "{main["sleep"]["interval"]["endTime"]}"')
    spo2 = api.get("/v4/users/me/dataTypes/oxygen-saturation/dataPoints", filter=f, pageSize=10000).json()
    assert len(spo2["dataPoints"]) > 200
    assert all(85 <= p["oxygenSaturation"]["percentage"] <= 100 for p in spo2["dataPoints"])


def test_cohort_memory_stays_small_with_one_second_heart_rate_everywhere(sim) -> None:
    total = 0
    for persona in sim.cohort.personas:
        for d in sim.cohort.days:
            heart = sim.store.heart(persona, d)
            total += heart.bpm.buffer_info()[1] + 8 * len(heart.spans)
            assert heart.n == sum(sim.store.frame(persona, d).worn) * 60
    assert total < 8_000_000, "about one byte per second of wear"
