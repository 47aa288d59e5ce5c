"""The parser keeps physical time, civil time and offset, treats absence as absence, and reads the
API's awkward encodings (int64 strings, omitted zeros, {} pages). Payloads follow the team spec §10."""

import json
from datetime import date

import pytest

from fitbit.errors import UnexpectedResponse
from fitbit.parse import PageContext, parse_page, source_key

TRACKER = {"recordingMethod": "PASSIVELY_MEASURED", "platform": "FITBIT",
           "device": {"displayName": "Charge 6", "manufacturer": "Fitbit", "formFactor": "FITNESS_BAND"}}


def ctx(data_type, method, **kw):
    return PageContext(participant="user1", data_type=data_type, method=method, raw_object="raw/x.json",
                       fetched_at="2026-11-22T10:00:00Z", **kw)


def page(items, key="dataPoints", token=None):
    body = {key: items}
    if token:
        body["nextPageToken"] = token
    return json.dumps(body).encode()


def interval(start, end, offset="3600s"):
    return {"startTime": start, "startUtcOffset": offset, "endTime": end, "endUtcOffset": offset}


def test_reconciled_steps_keep_utc_civil_time_and_offset():
    parsed = parse_page(ctx("steps", "reconcile"), page([
        {"steps": {"interval": interval("2026-11-21T07:14:00Z", "2026-11-21T07:15:00Z"), "count": "112"}},
    ], token="next"))
    (row,) = parsed.rows["steps_intraday"]
    assert row["start_time"] == "2026-11-21T07:14:00Z"
    assert row["civil_start_time"] == "2026-11-21T08:14:00"
    assert row["start_utc_offset_s"] == 3600 and row["civil_date"] == "2026-11-21"
    assert row["steps"] == 112 and isinstance(row["steps"], int)
    assert parsed.next_page_token == "next"
    assert row["raw_object"] == "raw/x.json" and row["parser_version"]


def test_an_omitted_step_count_is_a_true_zero():
    parsed = parse_page(ctx("steps", "reconcile"), page([
        {"steps": {"interval": interval("2026-11-21T07:15:00Z", "2026-11-21T07:16:00Z")}}]))
    assert parsed.rows["steps_intraday"][0]["steps"] == 0


def test_absent_values_of_types_without_true_zeros_stay_null():
    parsed = parse_page(ctx("daily-resting-heart-rate", "reconcile"), page([
        {"dailyRestingHeartRate": {"date": {"year": 2026, "month": 11, "day": 21}}}]))
    row = parsed.rows["daily_resting_heart_rate"][0]
    assert row["resting_bpm"] is None and row["civil_date"] == "2026-11-21"


def test_a_civil_day_crosses_utc_midnight_for_negative_offsets():
    parsed = parse_page(ctx("steps", "reconcile"), page([
        {"steps": {"interval": interval("2026-11-02T03:30:00Z", "2026-11-02T03:31:00Z", "-18000s"), "count": "5"}}]))
    row = parsed.rows["steps_intraday"][0]
    assert row["civil_date"] == "2026-11-01" and row["civil_start_time"] == "2026-11-01T22:30:00"


def test_raw_heart_rate_samples_keep_their_source():
    parsed = parse_page(ctx("heart-rate", "list"), page([{"dataSource": TRACKER, "heartRate": {
        "sampleTime": {"physicalTime": "2026-11-21T03:02:15Z", "utcOffset": "3600s"}, "beatsPerMinute": "52",
        "metadata": {"motionContext": "SEDENTARY", "sensorLocation": "WRIST"}}}]))
    row = parsed.rows["heart_rate_samples"][0]
    assert row["bpm"] == 52 and row["civil_time"] == "2026-11-21T04:02:15"
    assert row["source_platform"] == "FITBIT" and row["source_form_factor"] == "FITNESS_BAND"
    assert row["source_key"] == source_key(TRACKER) and row["motion_context"] == "SEDENTARY"


def test_heart_rate_rollup_windows_get_the_account_zone_offset_across_dst():
    items = [{"startTime": t, "endTime": t.replace(":00:00Z", ":01:00Z"),
              "heartRate": {"beatsPerMinuteMin": 49, "beatsPerMinuteAvg": 55.8, "beatsPerMinuteMax": 71}}
             for t in ("2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z")]
    rows = parse_page(ctx("heart-rate", "rollUp", time_zone="America/New_York"),
                      page(items, "rollupDataPoints")).rows["heart_rate_1min"]
    assert [r["utc_offset_s"] for r in rows] == [-14400, -18000]  # EDT, then EST after 06:00Z
    assert [r["civil_start_time"] for r in rows] == ["2026-11-01T01:00:00", "2026-11-01T01:00:00"]
    assert rows[0]["offset_source"] == "account_time_zone" and rows[0]["bpm_avg"] == 55.8


def test_daily_rollups_are_keyed_by_their_own_civil_start_date():
    items = [{"civilStartTime": {"date": {"year": 2026, "month": 11, "day": d}, "time": {}},
              "civilEndTime": {"date": {"year": 2026, "month": 11, "day": d + 1}, "time": {}},
              "steps": {"countSum": str(n)} if n else {}} for d, n in ((21, 9364), (20, 0))]
    rows = parse_page(ctx("steps", "dailyRollUp"), page(items, "rollupDataPoints")).rows["steps_daily"]
    assert [(r["civil_date"], r["steps"]) for r in rows] == [("2026-11-21", 9364), ("2026-11-20", 0)]


def test_active_zone_minutes_daily_zero_zones_are_true_zeros():
    item = {"civilStartTime": {"date": {"year": 2026, "month": 11, "day": 21}},
            "activeZoneMinutes": {"sumInCardioHeartZone": "14"}}
    row = parse_page(ctx("active-zone-minutes", "dailyRollUp"), page([item], "rollupDataPoints")).rows[
        "active_zone_minutes_daily"][0]
    assert (row["fat_burn_minutes"], row["cardio_minutes"], row["peak_minutes"]) == (0, 14, 0)


def test_active_minutes_are_pivoted_by_level():
    item = {"activeMinutes": {"interval": interval("2026-11-21T07:00:00Z", "2026-11-21T07:01:00Z"),
                              "activeMinutesByActivityLevel": [{"activityLevel": "MODERATE", "activeMinutes": "1"}]}}
    row = parse_page(ctx("active-minutes", "reconcile"), page([item])).rows["active_minutes_intraday"][0]
    assert (row["light_minutes"], row["moderate_minutes"], row["vigorous_minutes"]) == (0, 1, 0)


SLEEP = {
    "name": "users/2210458839101187653/dataTypes/sleep/dataPoints/8012946650172239511",
    "dataSource": {"recordingMethod": "DERIVED", "platform": "FITBIT"},
    "sleep": {
        "interval": interval("2026-11-20T22:41:00Z", "2026-11-21T06:09:00Z"),
        "type": "STAGES",
        "stages": [{"startTime": "2026-11-20T22:41:00Z", "endTime": "2026-11-21T06:09:00Z", "type": "LIGHT"}],
        "summary": {"minutesInSleepPeriod": "448", "minutesAsleep": "420", "minutesAwake": "28",
                    "stagesSummary": [{"type": "DEEP", "minutes": "68", "count": "2"}]},
        "metadata": {"processed": True, "mainSleep": True, "stagesStatus": "SUCCEEDED"},
        "updateTime": "2026-11-21T06:58:40.119803Z",
    },
}


def test_sleep_is_dated_by_the_day_it_ends_and_summarised():
    row = parse_page(ctx("sleep", "list"), page([SLEEP])).rows["sleep_sessions"][0]
    assert row["civil_date"] == "2026-11-21" and row["data_point_name"].endswith("8012946650172239511")
    assert (row["minutes_asleep"], row["minutes_to_fall_asleep"], row["stage_deep_minutes"]) == (420, 0, 68)
    assert row["stage_rem_minutes"] is None  # no REM entry: unknown, not zero
    assert row["main_sleep"] is True and row["nap"] is False and row["processed"] is True
    assert row["stages"][0]["type"] == "LIGHT" and row["update_time"] == "2026-11-21T06:58:40.119803Z"


def test_an_unprocessed_sleep_has_no_summary_values():
    raw = json.loads(json.dumps(SLEEP))
    del raw["sleep"]["summary"]
    raw["sleep"]["metadata"] = {"mainSleep": True}
    row = parse_page(ctx("sleep", "list"), page([raw])).rows["sleep_sessions"][0]
    assert row["processed"] is False and row["minutes_asleep"] is None


def test_exercise_durations_become_seconds():
    item = {"name": "users/me/dataTypes/exercise/dataPoints/7394018225563310417", "exercise": {
        "interval": interval("2026-11-22T07:30:00Z", "2026-11-22T07:48:40Z"), "exerciseType": "RUNNING",
        "activeDuration": "1060s", "metricsSummary": {"steps": "3050", "distanceMillimeters": 3150000,
                                                      "heartRateZoneDurations": {"peakTime": "100s"}},
        "exerciseMetadata": {"hasGps": True}}}
    row = parse_page(ctx("exercise", "list"), page([item])).rows["exercise_sessions"][0]
    assert (row["active_duration_s"], row["steps"], row["peak_time_s"], row["has_gps"]) == (1060.0, 3050, 100.0, True)
    assert row["light_time_s"] is None


def test_an_empty_page_may_be_an_empty_object():
    parsed = parse_page(ctx("steps", "reconcile"), b"{}")
    assert parsed.rows == {"steps_intraday": []} and parsed.next_page_token is None


@pytest.mark.parametrize("body", [b"<html>404</html>", b"[]", b'{"dataPoints": {}}'])
def test_unreadable_pages_are_terminal(body):
    with pytest.raises(UnexpectedResponse):
        parse_page(ctx("steps", "reconcile"), body)


@pytest.mark.parametrize("body", [b'{"dataPoints": [{"heartRate": {}}]}',
                                  b'{"dataPoints": [{"steps": {"interval": {"startTime": "x"}}}]}'])
def test_unreadable_points_are_rejected_not_their_page(body):
    parsed = parse_page(ctx("steps", "reconcile"), body)
    assert parsed.rows["steps_intraday"] == []
    assert [r["json_path"] for r in parsed.rows["rejected_points"]] == ["dataPoints[0]"]
    assert parsed.counts == {"points_rejected": 1}


def test_settings_and_devices_land_in_their_tables():
    settings = parse_page(ctx("settings", "get", civil_date=date(2026, 11, 5)),
                          json.dumps({"timeZone": "Europe/Berlin", "utcOffset": "3600s"}).encode())
    row = settings.rows["participant_settings"][0]
    assert (row["time_zone"], row["utc_offset_s"], row["civil_date"]) == ("Europe/Berlin", 3600, "2026-11-05")
    devices = parse_page(ctx("paired-devices", "get", civil_date=date(2026, 11, 5)), json.dumps(
        {"pairedDevices": [{"name": "users/me/pairedDevices/1", "lastSyncTime": "2026-11-05T08:00:00Z"}]}).encode())
    assert devices.rows["paired_devices"][0]["last_sync_time"] == "2026-11-05T08:00:00Z"


def test_tcx_track_points_are_read():
    tcx = b"""<?xml version="1.0"?><TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
    <Activities><Activity Sport="Running"><Lap><Track>
    <Trackpoint><Time>2026-11-22T07:30:00Z</Time><Position><LatitudeDegrees>52.5</LatitudeDegrees>
    <LongitudeDegrees>13.4</LongitudeDegrees></Position><AltitudeMeters>34</AltitudeMeters>
    <DistanceMeters>0</DistanceMeters><HeartRateBpm><Value>120</Value></HeartRateBpm></Trackpoint>
    <Trackpoint><Time>2026-11-22T07:30:01Z</Time></Trackpoint></Track></Lap></Activity></Activities>
    </TrainingCenterDatabase>"""
    rows = parse_page(ctx("exercise-tcx", "exportExerciseTcx", data_point="7394", civil_date=date(2026, 11, 22)),
                      tcx).rows["exercise_tcx_points"]
    assert rows[0]["latitude"] == 52.5 and rows[0]["heart_rate_bpm"] == 120
    assert rows[1]["latitude"] is None and rows[1]["point_time"] == "2026-11-22T07:30:01Z"
