"""The typed route (``fitbit.parse.typed``): it takes ordinary pages, declines odd ones, and ``parse_page``
gives the reference rows (or the reference error) either way.

Hand-made pages only; the simulator's pages of every read are compared in
tests/contract/test_parse_fast_path.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from fitbit.parse import PageContext, parse_page, reference_rows
from fitbit.parse.typed import typed_page, typed_read

SOURCE = {"platform": "FITBIT", "device": {"displayName": "Charge 6", "formFactor": "WATCH"}}


def _ctx(data_type: str, method: str) -> PageContext:
    return PageContext("user1", data_type, method, "raw/user1/x.json", "2026-11-05T06:00:00Z",
                       time_zone="Europe/Berlin")


def _hr(second: int = 0, **value: Any) -> dict[str, Any]:
    at = {"physicalTime": f"2026-11-04T22:59:{second:02d}Z", "utcOffset": "3600s"}
    return {"dataSource": SOURCE, "heartRate": {"sampleTime": at, "beatsPerMinute": "61",
                                                "metadata": {"motionContext": "SEDENTARY"}, **value}}


def _outcome(run: Any) -> Any:
    try:
        return "rows", [list(row.items()) for row in run()]
    except Exception as exc:  # noqa: BLE001 - the point is to compare whatever each path raises
        return "error", type(exc), str(exc)


def _reference(ctx: PageContext, body: str) -> Any:
    return _outcome(lambda: reference_rows(ctx, json.loads(body).get("dataPoints", [])))


def _parsed(ctx: PageContext, body: str) -> Any:
    return _outcome(lambda: parse_page(ctx, body).rows[typed_read(ctx.data_type, ctx.method).plan.table])


def _taken(ctx: PageContext, body: str) -> bool:
    return typed_page(typed_read(ctx.data_type, ctx.method), ctx, body) is not None


TAKEN = {
    "ordinary": [_hr(s) for s in range(3)],
    "civil time, no offset: proto3's zero": [
        {"heartRate": {"sampleTime": {"physicalTime": "2026-11-04T22:59:59Z", "civilTime": {"date": {}}},
                       "beatsPerMinute": "61"}}],
    "metadata null: its fields' zeros": [_hr(metadata=None)],
    "metadata missing: NULL": [{**_hr(), "heartRate": {k: v for k, v in _hr()["heartRate"].items() if k != "metadata"}}],
    "bpm as a number": [_hr(beatsPerMinute=61)],
    "bpm null": [_hr(beatsPerMinute=None)],
    "sources differ point by point": [{**_hr(s), "dataSource": {"platform": f"P{s % 2}"}} for s in range(4)],
    "no source": [{"heartRate": _hr()["heartRate"]}, {"dataSource": None, "heartRate": _hr()["heartRate"]}],
    "escapes and non-ASCII": [_hr(metadata={"motionContext": "caf\u00e9 \\\" \n \ud83d\ude00"})],
    "fractional seconds": [_hr(sampleTime={"physicalTime": "2026-11-04T22:59:59.5Z", "utcOffset": "3600s"})],
    "Kolkata +05:30": [_hr(sampleTime={"physicalTime": "2026-11-04T18:45:10Z", "utcOffset": "19800s"})],
    "unread fields of any shape": [{**_hr(), "extra": [1, {"x": None}]} for _ in range(2)],
}

DECLINED = {
    "no offset, no civil time: the zone's offset, counted": [
        {"heartRate": {"sampleTime": {"physicalTime": "2026-11-04T22:59:59Z"}, "beatsPerMinute": "61"}}],
    "bpm as a float": [_hr(beatsPerMinute=61.9)],
    "bpm unreadable": [_hr(beatsPerMinute="sixty")],
    "offset as a number": [_hr(sampleTime={"physicalTime": "2026-11-04T22:59:59Z", "utcOffset": 3600})],
    "metadata a string": [_hr(metadata="WRIST")],
    "source a string": [{**_hr(), "dataSource": "FITBIT"}],
    "point without its value": [{"dataSource": SOURCE}],
    "value null": [{"heartRate": None}],
    "a point that is not an object": [_hr(), "nor this"],
    "impossible timestamp": [_hr(sampleTime={"physicalTime": "2026-11-04T22:59:60Z", "utcOffset": "3600s"})],
}


@pytest.mark.parametrize("points", TAKEN.values(), ids=TAKEN.keys())
def test_ordinary_and_harmless_pages_take_the_typed_route_and_give_the_reference_rows(points):
    ctx, body = _ctx("heart-rate", "list"), json.dumps({"dataPoints": points})
    assert _taken(ctx, body)
    assert _parsed(ctx, body) == _reference(ctx, body)


@pytest.mark.parametrize("points", DECLINED.values(), ids=DECLINED.keys())
def test_pages_off_the_happy_path_are_left_to_the_existing_path(points):
    ctx, body = _ctx("heart-rate", "list"), json.dumps({"dataPoints": [_hr(1), *points]})
    assert not _taken(ctx, body)
    assert _parsed(ctx, body) == _reference(ctx, body)


@pytest.mark.parametrize("body", [
    '{"dataPoints": [{"heartRate": {"sampleTime": {"physicalTime": "2026-11-04T22:59:59Z", "utcOffset": "3600s"},'
    ' "beatsPerMinute": "61", "beatsPerMinute": "62"}}]}',  # duplicate keys: the last wins, as in json.loads
    '{"dataPoints": [], "nextPageToken": "t1"}',
    '{"nextPageToken": ""}',
    "{}",
])
def test_envelopes_read_as_the_existing_path_reads_them(body):
    ctx = _ctx("heart-rate", "list")
    assert _taken(ctx, body)
    typed = parse_page(ctx, body)
    assert _parsed(ctx, body) == _reference(ctx, body)
    assert typed.next_page_token == (json.loads(body).get("nextPageToken") or None)


@pytest.mark.parametrize("body", [
    b"", b"[]", b'{"dataPoints": {}}', b'{"dataPoints": [], "nextPageToken": 7}', b"{\"dataPoints\": [NaN]}",
    b'{"dataPoints": [', "\ud800".encode("utf-8", "surrogatepass"),
])
def test_unreadable_envelopes_are_left_to_the_existing_path(body):
    ctx = _ctx("heart-rate", "list")
    assert not _taken(ctx, body)


@pytest.mark.parametrize("temperature", ["NaN", "Infinity", "-Infinity", 36.4, "36.4", 36])
def test_non_finite_doubles_are_nulled_and_counted_as_the_existing_path_does(temperature):
    ctx = _ctx("daily-sleep-temperature-derivations", "reconcile")
    point = {"dailySleepTemperatureDerivations": {"date": {"year": 2026, "month": 11, "day": 4},
                                                  "nightlyTemperatureCelsius": temperature}}
    body = json.dumps({"dataPoints": [point]})
    assert _parsed(ctx, body) == _reference(ctx, body)
    assert _taken(ctx, body) == (temperature not in ("NaN", "Infinity", "-Infinity"))
    assert parse_page(ctx, body).counts == ({"non_finite_nulled": 1} if not _taken(ctx, body) else {})


@pytest.mark.parametrize("span", [
    {"startTime": "2026-11-04T22:59:00Z", "endTime": "2026-11-04T23:00:00Z", "startUtcOffset": "3600s"},
    {"startTime": "2026-11-04T22:59:00Z", "endTime": "2026-11-04T23:00:00Z", "civilEndTime": {}},
    {"startTime": "2026-11-04T22:59:00Z", "endTime": "2026-11-04T23:00:00Z"},
    {"startTime": "2026-11-04T22:59:00Z"},
])
def test_intervals_give_the_reference_rows(span):
    ctx = _ctx("steps", "reconcile")
    body = json.dumps({"dataPoints": [{"steps": {"interval": span, "count": "12"}}]})
    assert _taken(ctx, body) == ("civilEndTime" in span or "startUtcOffset" in span)
    assert _parsed(ctx, body) == _reference(ctx, body)


def test_reads_the_route_does_not_cover_have_no_typed_read():
    assert typed_read("steps", "dailyRollUp") is None  # rollups
    assert typed_read("sleep", "list") is None  # selectors, JSON and TIMESTAMP columns
    assert typed_read("heart-rate", "list") is typed_read("heart-rate", "list")  # built once
