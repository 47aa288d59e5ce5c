"""Poison isolation point by point (issue #11): a point the parser cannot read is left out of its table and
recorded in ``rejected_points`` (where and why, never the value); the rest of its page loads. Values are
checked against their column's warehouse type: INT64 bounds, finite FLOAT64 and JSON, timestamps within
0001-01-01..9999-12-31."""

import json
from datetime import date

import pytest

from fitbit.catalogue import REJECTED_POINTS_TABLE, table_named
from fitbit.errors import TimeZoneUnknown, UnexpectedResponse
from fitbit.parse import PageContext, parse_page

OK_SAMPLE = {"dataSource": {"platform": "FITBIT"},
             "heartRate": {"sampleTime": {"physicalTime": "2026-11-04T22:59:59Z", "utcOffset": "3600s"},
                           "beatsPerMinute": "61"}}
SECRET_VALUE = "987654321987654321987654321"  # must never appear in a rejection row


def ctx(data_type="heart-rate", method="list", **kw):
    kw.setdefault("civil_date", date(2026, 11, 4))
    return PageContext(participant="user1", data_type=data_type, method=method, raw_object="raw/user1/x.json",
                       fetched_at="2026-11-05T06:00:00Z", **kw)


def sample(**changes):
    point = json.loads(json.dumps(OK_SAMPLE))
    point["heartRate"].update(changes)
    return point


def parse(points, context=None, key="dataPoints"):
    return parse_page(context or ctx(), json.dumps({key: points}))


def rejected(parsed):
    return [(r["json_path"], r["error_class"], r["reason"]) for r in parsed.rows.get("rejected_points", [])]


def test_an_int64_beyond_int64_rejects_its_point_and_the_page_loads():
    parsed = parse([OK_SAMPLE, sample(beatsPerMinute=SECRET_VALUE), OK_SAMPLE])
    assert len(parsed.rows["heart_rate_samples"]) == 2
    assert rejected(parsed) == [("dataPoints[1].heartRate.beatsPerMinute", "ValueOutOfRange", "int64_out_of_range")]
    assert parsed.counts == {"points_rejected": 1}


@pytest.mark.parametrize("value", [str(2**63 - 1), str(-(2**63))])
def test_the_int64_bounds_themselves_load(value):
    (row,) = parse([sample(beatsPerMinute=value)]).rows["heart_rate_samples"]
    assert row["bpm"] == int(value)


@pytest.mark.parametrize("value", [str(2**63), str(-(2**63) - 1), 1e30])
def test_just_beyond_the_int64_bounds_is_rejected(value):
    assert rejected(parse([sample(beatsPerMinute=value)]))[0][2] == "int64_out_of_range"


def test_a_rejection_row_names_where_and_why_never_the_value():
    parsed = parse([sample(beatsPerMinute=SECRET_VALUE), sample(beatsPerMinute="sixty")])
    rows = parsed.rows["rejected_points"]
    assert set(rows[0]) == set(REJECTED_POINTS_TABLE.column_names) - {"loaded_at"}
    assert rows[1]["error_class"] == "ValueError" and rows[1]["reason"] == "unreadable_value"
    assert (rows[0]["participant_id"], rows[0]["civil_date"], rows[0]["table_name"], rows[0]["raw_object"]) == (
        "user1", "2026-11-04", "heart_rate_samples", "raw/user1/x.json")
    text = json.dumps(rows)
    assert SECRET_VALUE not in text and "sixty" not in text


def test_a_unit_without_a_day_dates_its_rejections_by_the_fetch():
    parsed = parse([sample(beatsPerMinute=SECRET_VALUE)], ctx(civil_date=None))
    assert parsed.rows["rejected_points"][0]["civil_date"] == "2026-11-05"


@pytest.mark.parametrize(("physical", "offset"), [
    ("2026-11-04T22:59:59Z", "1e20s"),  # an offset beyond any calendar
    ("2026-11-04T22:59:59Z", "1e400s"),  # infinity
    ("9999-12-31T23:30:00Z", "3600s"),  # civil time after 9999-12-31
    ("0001-01-01T00:10:00Z", "-3600s"),  # before 0001-01-01
    ("0001-01-01T00:10:00+01:00", "0s"),  # the instant itself before 0001-01-01 UTC
])
def test_times_outside_the_warehouse_range_reject_their_point(physical, offset):
    point = sample(sampleTime={"physicalTime": physical, "utcOffset": offset})
    parsed = parse([point, OK_SAMPLE])
    assert len(parsed.rows["heart_rate_samples"]) == 1
    assert [(path, reason) for path, _, reason in rejected(parsed)] == [("dataPoints[0]", "timestamp_out_of_range")]


@pytest.mark.parametrize("point", [
    sample(sampleTime={"physicalTime": 12345, "utcOffset": "0s"}),  # AttributeError before the fix
    {**OK_SAMPLE, "dataSource": "FITBIT"},  # AttributeError
    {**OK_SAMPLE, "dataSource": {"platform": 7}},  # a number in a STRING key column
    {**OK_SAMPLE, "dataSource": {"device": "Charge 6"}},
    {"heartRate": None},
    "not an object",
    None,
])
def test_any_exception_class_rejects_only_its_point(point):
    parsed = parse([OK_SAMPLE, point])
    assert len(parsed.rows["heart_rate_samples"]) == 1 and len(rejected(parsed)) == 1


def test_a_value_column_timestamp_out_of_range_names_its_field():
    sleep = {"name": "users/me/dataTypes/sleep/dataPoints/1", "sleep": {
        "interval": {"startTime": "2026-11-03T22:00:00Z", "startUtcOffset": "3600s",
                     "endTime": "2026-11-04T06:00:00Z", "endUtcOffset": "3600s"},
        "updateTime": "0001-01-01T00:00:00+05:00"}}
    parsed = parse([sleep], ctx("sleep", "list"))
    assert rejected(parsed) == [("dataPoints[0].sleep.updateTime", "ValueOutOfRange", "timestamp_out_of_range")]


def test_nan_in_a_json_column_is_nulled_and_counted():
    body = ('{"dataPoints": [{"name": "users/me/dataTypes/sleep/dataPoints/1", "sleep": {"interval": '
            '{"startTime": "2026-11-03T22:00:00Z", "startUtcOffset": "3600s", "endTime": "2026-11-04T06:00:00Z", '
            '"endUtcOffset": "3600s"}, "stages": [{"type": "DEEP", "minutes": NaN}]}}]}')
    parsed = parse_page(ctx("sleep", "list"), body)
    (row,) = parsed.rows["sleep_sessions"]
    assert row["stages"] is None and parsed.counts == {"non_finite_nulled": 1}
    json.dumps(row, allow_nan=False)


def test_page_level_problems_still_fail_the_page():
    with pytest.raises(UnexpectedResponse):
        parse_page(ctx(), b"[1, 2]")
    no_offsets = sample(sampleTime={"physicalTime": "2026-11-04T22:59:59Z"})
    with pytest.raises(TimeZoneUnknown):
        parse([OK_SAMPLE, no_offsets])


def weight(name="users/me/dataTypes/weight/dataPoints/1", grams="70000"):
    return {"name": name, "dataSource": {"platform": "FITBIT"}, "weight": {
        "sampleTime": {"physicalTime": "2026-11-04T07:00:00Z", "utcOffset": "3600s"}, "weightGrams": grams}}


def test_a_page_with_a_rejected_point_records_no_fetch_so_no_deletion_is_decided():
    context = ctx("weight", "list", window_end=date(2026, 11, 5))
    whole = parse([weight()], context)
    assert "fetch_pages" in whole.rows
    partial = parse([weight(), weight(name={"nested": ["garbage"]})], context)
    assert rejected(partial) == [("dataPoints[1]", "UnexpectedResponse", "data point name is not a string")]
    assert "fetch_pages" not in partial.rows and "fetch_keys" not in partial.rows


def test_account_items_are_isolated_one_by_one():
    devices = [{"name": "users/me/pairedDevices/1", "lastSyncTime": "2026-11-05T08:00:00Z"},
               {"name": "users/me/pairedDevices/2", "lastSyncTime": 12},
               "garbage"]
    parsed = parse_page(ctx("paired-devices", "get"), json.dumps({"pairedDevices": devices}))
    assert len(parsed.rows["paired_devices"]) == 1
    assert [path for path, _, _ in rejected(parsed)] == ["pairedDevices[1].lastSyncTime", "pairedDevices[2]"]


def test_a_settings_object_that_cannot_be_read_is_one_rejection():
    parsed = parse_page(ctx("settings", "get"), json.dumps({"timeZone": "Europe/Berlin", "utcOffset": ["x"]}))
    assert parsed.rows["participant_settings"] == []
    assert rejected(parsed)[0][0] == "$.utcOffset"


def test_tcx_track_points_are_isolated_one_by_one():
    points = ["<Time>2026-11-04T07:30:00Z</Time>", "<Time>2026-11-04T07:30:61Z</Time>",
              f"<Time>2026-11-04T07:30:02Z</Time><HeartRateBpm><Value>{SECRET_VALUE}</Value></HeartRateBpm>",
              "<Time>2026-11-04T07:30:03Z</Time>"]
    body = ('<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"><Activities>'
            "<Activity><Lap><Track>" + "".join(f"<Trackpoint>{p}</Trackpoint>" for p in points)
            + "</Track></Lap></Activity></Activities></TrainingCenterDatabase>")
    tcx = PageContext("user1", "exercise-tcx", "exportExerciseTcx", "raw/t.tcx", "2026-11-05T06:00:00Z",
                      civil_date=date(2026, 11, 4), data_point="7394")
    parsed = parse_page(tcx, body)
    assert len(parsed.rows["exercise_tcx_points"]) == 2
    assert rejected(parsed) == [("Trackpoint[1]", "ValueError", "unreadable_value"),
                                ("Trackpoint[2]", "ValueOutOfRange", "int64_out_of_range")]


def test_rejected_points_is_a_warehouse_table_keyed_by_object_and_path():
    spec = table_named("rejected_points")
    assert spec.key == ("raw_object", "json_path") and spec.partition_field == "civil_date"
    assert not {"value", "raw_value"} & set(spec.column_names)
