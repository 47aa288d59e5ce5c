"""Pages shaped like what live accounts send (team spec §12, issue #12 observations 1-6), through the parser.

Each test holds one observation: "NaN" doubles, Health Connect points without offsets or civil times, a
session without a resource name, fields the parser used to drop, a night still in progress, and the
small texture of live payloads (micro- and nanoseconds, empty objects, package-only sources).
"""

from __future__ import annotations

import json
import math
from datetime import date

import pytest

from fitbit.errors import TimeZoneUnknown
from fitbit.parse import PageContext, parse_page


def ctx(data_type, method, **kw):
    kw.setdefault("time_zone", "Europe/Berlin")
    return PageContext(participant="user1", data_type=data_type, method=method, raw_object="raw/x.json",
                       fetched_at="2026-11-22T10:00:00Z", **kw)


def page(items, key="dataPoints"):
    return json.dumps({key: items}).encode()


def day(d):
    return {"year": 2026, "month": 11, "day": d}


# --- 1. "NaN" / "Infinity" strings in double fields ------------------------------------------------------


def test_nan_and_infinity_strings_become_null_and_are_counted():
    items = [
        {"dailySleepTemperatureDerivations": {"date": day(20), "nightlyTemperatureCelsius": 33.61,
                                              "baselineTemperatureCelsius": 33.55,
                                              "relativeNightlyStddev30dCelsius": "NaN"}},
        {"dailySleepTemperatureDerivations": {"date": day(21), "nightlyTemperatureCelsius": "Infinity",
                                              "baselineTemperatureCelsius": "-Infinity",
                                              "relativeNightlyStddev30dCelsius": 0.21}},
    ]
    parsed = parse_page(ctx("daily-sleep-temperature-derivations", "reconcile"), page(items))
    first, second = parsed.rows["daily_sleep_temperature"]
    assert first["relative_nightly_stddev_30d_c"] is None and first["nightly_temperature_c"] == 33.61
    assert second["nightly_temperature_c"] is None and second["baseline_temperature_c"] is None
    assert second["relative_nightly_stddev_30d_c"] == 0.21
    assert parsed.counts == {"non_finite_nulled": 3}
    json.dumps({table: list(rows) for table, rows in parsed.rows.items()}, allow_nan=False)  # the rows are valid JSON: no bare NaN reaches a load job


def test_a_bare_nan_literal_is_nulled_too():
    body = (b'{"dataPoints": [{"oxygenSaturation": {"sampleTime": {"physicalTime": "2026-11-21T03:00:00Z", '
            b'"utcOffset": "3600s"}, "percentage": NaN}}]}')
    parsed = parse_page(ctx("oxygen-saturation", "reconcile"), body)
    assert parsed.rows["oxygen_saturation"][0]["spo2_pct"] is None
    assert parsed.counts == {"non_finite_nulled": 1}


def test_non_finite_rollup_values_are_nulled():
    item = {"startTime": "2026-11-21T07:00:00Z", "endTime": "2026-11-21T07:01:00Z",
            "heartRate": {"beatsPerMinuteMin": 50, "beatsPerMinuteAvg": "NaN", "beatsPerMinuteMax": 61}}
    parsed = parse_page(ctx("heart-rate", "rollUp"), page([item], "rollupDataPoints"))
    row = parsed.rows["heart_rate_1min"][0]
    assert (row["bpm_min"], row["bpm_avg"], row["bpm_max"]) == (50.0, None, 61.0)
    assert parsed.counts["non_finite_nulled"] == 1


# --- 2. Points without offsets and without civil times (Health Connect) ----------------------------------


def test_health_connect_steps_take_their_offset_from_the_account_zone_at_each_instant():
    items = [{"dataPointName": "users/1/dataTypes/steps/dataPoints/a",
              "steps": {"interval": {"startTime": start, "endTime": end}, "count": "31"}}
             for start, end in (("2026-11-01T05:58:00.250Z", "2026-11-01T05:59:00.250Z"),   # EDT
                                ("2026-11-01T05:59:30Z", "2026-11-01T06:00:30Z"),           # across the change
                                ("2026-11-01T06:10:00Z", "2026-11-01T06:11:00Z"))]          # EST
    parsed = parse_page(ctx("steps", "reconcile", time_zone="America/New_York"), page(items))
    edt, across, est = parsed.rows["steps_intraday"]
    assert (edt["start_utc_offset_s"], edt["end_utc_offset_s"]) == (-14400, -14400)
    assert edt["civil_start_time"] == "2026-11-01T01:58:00.250000" and edt["civil_date"] == "2026-11-01"
    assert edt["start_time"] == "2026-11-01T05:58:00.250000Z"
    assert (across["start_utc_offset_s"], across["end_utc_offset_s"]) == (-14400, -18000)
    assert (est["start_utc_offset_s"], est["civil_start_time"]) == (-18000, "2026-11-01T01:10:00")
    assert {r["offset_source"] for r in (edt, across, est)} == {"account_time_zone"}
    assert parsed.counts == {"offsets_derived": 3}


def test_health_connect_samples_take_their_offset_from_the_account_zone():
    item = {"dataSource": {"platform": "HEALTH_CONNECT", "application": {"packageName": "com.sec.android.app.shealth"}},
            "weight": {"sampleTime": {"physicalTime": "2026-11-03T06:30:00.481Z"}, "weightGrams": 71200.0}}
    row = parse_page(ctx("weight", "list", time_zone="Asia/Kolkata"), page([item])).rows["weight"][0]
    assert (row["utc_offset_s"], row["civil_time"]) == (19800, "2026-11-03T12:00:00.481000")
    assert row["offset_source"] == "account_time_zone"


def test_points_that_carry_their_own_time_say_so():
    with_offsets = {"steps": {"interval": {"startTime": "2026-11-21T07:14:00Z", "startUtcOffset": "3600s",
                                           "endTime": "2026-11-21T07:15:00Z", "endUtcOffset": "3600s"}}}
    zero_omitted = {"steps": {"interval": {  # proto3 omits a zero offset; the civil times show it is there
        "startTime": "2026-11-21T07:15:00Z", "endTime": "2026-11-21T07:16:00Z",
        "civilStartTime": {"date": day(21), "time": {"hours": 7, "minutes": 15}},
        "civilEndTime": {"date": day(21), "time": {"hours": 7, "minutes": 16}}}}}
    parsed = parse_page(ctx("steps", "reconcile", time_zone="Asia/Tokyo"), page([with_offsets, zero_omitted]))
    first, second = parsed.rows["steps_intraday"]
    assert first["offset_source"] == second["offset_source"] == "point"
    assert second["start_utc_offset_s"] == 0 and second["civil_start_time"] == "2026-11-21T07:15:00"
    assert parsed.counts == {}


def test_an_omitted_end_offset_next_to_a_present_start_offset_is_zero():
    # A London night across the end of summer time: +01:00 at the start, 00:00 (omitted) at the end.
    item = {"name": "users/1/dataTypes/sleep/dataPoints/9", "sleep": {"interval": {
        "startTime": "2026-10-24T22:30:00Z", "startUtcOffset": "3600s", "endTime": "2026-10-25T06:30:00Z"}}}
    row = parse_page(ctx("sleep", "list", time_zone="Asia/Tokyo"), page([item])).rows["sleep_sessions"][0]
    assert (row["start_utc_offset_s"], row["end_utc_offset_s"]) == (3600, 0)
    assert row["civil_end_time"] == "2026-10-25T06:30:00" and row["offset_source"] == "point"


def test_a_point_without_offsets_and_no_known_zone_is_a_recorded_problem_not_utc():
    item = {"steps": {"interval": {"startTime": "2026-11-01T05:58:00Z", "endTime": "2026-11-01T05:59:00Z"}}}
    with pytest.raises(TimeZoneUnknown) as raised:
        parse_page(ctx("steps", "reconcile", time_zone=None), page([item]))
    assert "authorise" in raised.value.fix


def test_rollup_windows_without_a_known_zone_are_a_recorded_problem_not_utc():
    item = {"startTime": "2026-11-21T07:00:00Z", "endTime": "2026-11-21T07:01:00Z", "heartRate": {}}
    with pytest.raises(TimeZoneUnknown):
        parse_page(ctx("heart-rate", "rollUp", time_zone=None), page([item], "rollupDataPoints"))


# --- 3. A point without a resource name -------------------------------------------------------------------


def _sleep(name, start, end):
    point = {"dataSource": {"recordingMethod": "DERIVED", "platform": "FITBIT"},
             "sleep": {"interval": {"startTime": start, "startUtcOffset": "3600s", "endTime": end,
                                    "endUtcOffset": "3600s"}, "type": "CLASSIC"}}
    if name:
        point["name"] = f"users/1/dataTypes/sleep/dataPoints/{name}"
    return point


def test_a_session_without_a_name_is_keyed_by_source_and_time_marked_and_the_page_still_loads():
    items = [_sleep("801", "2026-11-20T22:41:00Z", "2026-11-21T06:09:00Z"),
             _sleep(None, "2026-11-21T13:20:00Z", "2026-11-21T13:58:00Z"),
             _sleep("803", "2026-11-21T22:05:00Z", "2026-11-22T06:02:00Z")]
    parsed = parse_page(ctx("sleep", "list"), page(items))
    named, unnamed, other = parsed.rows["sleep_sessions"]
    assert named["name_derived"] is False and other["name_derived"] is False
    assert unnamed["name_derived"] is True
    assert unnamed["data_point_name"] == f"derived/{unnamed['source_key']}/2026-11-21T13:20:00Z"
    assert parsed.counts == {"names_derived": 1}
    again = parse_page(ctx("sleep", "list"), page(items[1:2])).rows["sleep_sessions"][0]
    assert again["data_point_name"] == unnamed["data_point_name"]  # stable: a re-fetch updates the same row


# --- 4. Fields live responses carry that used to be dropped ----------------------------------------------


STAGED_NIGHT = {
    "name": "users/2210458839101187653/dataTypes/sleep/dataPoints/8012946650172239511",
    "dataSource": {"recordingMethod": "DERIVED", "platform": "FITBIT",
                   "device": {"displayName": "Charge 6", "manufacturer": "Fitbit", "formFactor": "FITNESS_BAND"}},
    "sleep": {
        "interval": {"startTime": "2026-11-20T22:41:00Z", "startUtcOffset": "3600s",
                     "endTime": "2026-11-21T06:09:00Z", "endUtcOffset": "3600s"},
        "type": "STAGES",
        "stages": [{"startTime": "2026-11-20T22:41:00Z", "endTime": "2026-11-21T06:09:00Z", "type": "LIGHT"}],
        "shortAwakenings": [{"startTime": "2026-11-21T02:10:00Z", "startUtcOffset": "3600s",
                             "endTime": "2026-11-21T02:11:30Z", "endUtcOffset": "3600s", "type": "AWAKE"}],
        "summary": {"minutesInSleepPeriod": "448", "minutesAsleep": "420", "minutesAwake": "28",
                    "stagesSummary": [{"type": "AWAKE", "minutes": "28", "count": "2"},
                                      {"type": "LIGHT", "minutes": "265", "count": "4"},
                                      {"type": "DEEP", "minutes": "68", "count": "2"},
                                      {"type": "REM", "minutes": "87", "count": "2"}]},
        "metadata": {"processed": True, "mainSleep": True, "stagesStatus": "SUCCEEDED"},
        "createTime": "2026-11-21T06:31:12.402117Z",
        "updateTime": "2026-11-21T06:58:40.119803Z",
    },
}


def test_sleep_keeps_awake_minutes_stage_counts_short_awakenings_and_create_time():
    row = parse_page(ctx("sleep", "list"), page([STAGED_NIGHT])).rows["sleep_sessions"][0]
    assert (row["stage_awake_minutes"], row["stage_awake_count"]) == (28, 2)
    assert (row["stage_light_count"], row["stage_deep_count"], row["stage_rem_count"]) == (4, 2, 2)
    assert row["stage_asleep_count"] is None  # a STAGES night has no ASLEEP entry: unknown, not zero
    assert row["short_awakenings"][0]["endTime"] == "2026-11-21T02:11:30Z"
    assert row["create_time"] == "2026-11-21T06:31:12.402117Z"
    assert row["source_manufacturer"] == "Fitbit"


def test_weight_and_body_fat_keep_their_point_names():
    name = "users/1/dataTypes/weight/dataPoints/4411"
    item = {"name": name, "dataSource": {"platform": "FITBIT", "recordingMethod": "MANUAL"},
            "weight": {"sampleTime": {"physicalTime": "2026-11-03T06:30:00Z", "utcOffset": "3600s"},
                       "weightGrams": 71200.0}}
    assert parse_page(ctx("weight", "list"), page([item])).rows["weight"][0]["data_point_name"] == name
    fat = {"name": name.replace("weight", "body-fat"), "bodyFat": {
        "sampleTime": {"physicalTime": "2026-11-03T06:30:00Z", "utcOffset": "3600s"}, "percentage": 21.4}}
    assert parse_page(ctx("body-fat", "list"), page([fat])).rows["body_fat"][0]["data_point_name"].endswith("/4411")


# --- 5. A night still in progress -------------------------------------------------------------------------


def test_a_night_in_progress_has_null_summary_minutes_and_counts_not_zeros():
    night = {"name": "users/1/dataTypes/sleep/dataPoints/8012946650172239612",
             "dataSource": {"recordingMethod": "DERIVED", "platform": "FITBIT"},
             "sleep": {"interval": {"startTime": "2026-11-21T23:05:00Z", "startUtcOffset": "3600s",
                                    "endTime": "2026-11-22T06:32:00Z", "endUtcOffset": "3600s"},
                       "metadata": {"mainSleep": True},
                       "createTime": "2026-11-22T06:40:51.004417Z", "updateTime": "2026-11-22T06:40:51.004417Z"}}
    row = parse_page(ctx("sleep", "list"), page([night])).rows["sleep_sessions"][0]
    summary = [k for k in row if k.startswith(("minutes_", "stage_")) and k != "stages_status"]
    assert len(summary) == 5 + 6 + 6
    assert {k: row[k] for k in summary} == dict.fromkeys(summary)
    assert row["processed"] is False and row["stages"] is None and row["sleep_type"] is None


def test_a_daily_rollup_window_without_its_value_is_not_computed_rather_than_zero():
    window = {"civilStartTime": {"date": day(22), "time": {}}, "civilEndTime": {"date": day(23), "time": {}}}
    zero = {**window, "steps": {}}  # the value object is there with its zero omitted: a true zero
    rows = parse_page(ctx("steps", "dailyRollUp"), page([window, zero], "rollupDataPoints")).rows["steps_daily"]
    assert [r["steps"] for r in rows] == [None, 0]


# --- 6. Live texture: precision, empty objects, package-only sources --------------------------------------


def test_health_connect_exercise_keeps_micro_precision_and_its_source_fields():
    item = {
        "name": "users/1/dataTypes/exercise/dataPoints/73940182",
        "dataSource": {"recordingMethod": "ACTIVELY_MEASURED", "platform": "HEALTH_CONNECT", "device": {},
                       "application": {"packageName": "com.sec.android.app.shealth"}},
        "exercise": {
            "interval": {"startTime": "2026-11-22T07:30:00.481Z", "startUtcOffset": "3600s",
                         "endTime": "2026-11-22T07:48:40.402117Z", "endUtcOffset": "3600s",
                         "civilStartTime": {"date": day(22), "time": {"hours": 8, "minutes": 30, "nanos": 481000000}},
                         "civilEndTime": {"date": day(23), "time": {}}},
            "exerciseType": "WALKING", "activeDuration": "1120.5s", "exerciseMetadata": {},
            "createTime": "2026-11-22T07:50:01.000417Z", "updateTime": "2026-11-22T07:50:01.000417Z"}}
    row = parse_page(ctx("exercise", "list"), page([item])).rows["exercise_sessions"][0]
    assert row["start_time"] == "2026-11-22T07:30:00.481000Z" and row["end_time"] == "2026-11-22T07:48:40.402117Z"
    assert row["civil_start_time"] == "2026-11-22T08:30:00.481000"
    assert row["create_time"] == "2026-11-22T07:50:01.000417Z" and row["active_duration_s"] == 1120.5
    assert row["source_platform"] == "HEALTH_CONNECT" and row["source_application"] == "com.sec.android.app.shealth"
    assert row["source_device"] is None and row["source_manufacturer"] is None and row["source_form_factor"] is None
    assert row["has_gps"] is False and row["pool_length_mm"] is None


def test_a_tcx_track_with_a_nan_altitude_keeps_the_point():
    tcx = b"""<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
    <Activities><Activity Sport="Running"><Lap><Track><Trackpoint><Time>2026-11-22T07:30:00Z</Time>
    <AltitudeMeters>NaN</AltitudeMeters></Trackpoint></Track></Lap></Activity></Activities></TrainingCenterDatabase>"""
    parsed = parse_page(ctx("exercise-tcx", "exportExerciseTcx", data_point="7394", civil_date=date(2026, 11, 22)),
                        tcx)
    (row,) = parsed.rows["exercise_tcx_points"]
    assert row["altitude_m"] is None and not any(isinstance(v, float) and math.isnan(v) for v in row.values())
    assert parsed.counts == {"non_finite_nulled": 1}
