"""The fast paths of ``parse_page`` give exactly the rows of the straightforward path (``reference_rows``).

``parse_page`` takes the typed route (``fitbit.parse.typed``, msgspec Structs) for the reads it covers and
the dict fast path for every other page, so every comparison here goes through both; the typed route is
also checked on its own: it takes the simulator's pages of every read it covers and gives their rows.

Exactly means the same keys in the same order with equal values, and, for a page the reference path
rejects, the same exception with the same message. Checked on simulator pages for every catalogue
read (every participant's time-zone story, DST and travel days included) and on hand-made points
that leave the happy path: fractional seconds, odd offsets, non-canonical timestamps, numbers where
strings are expected, missing or null parents, broken values.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from fitbit.calls import list_call
from fitbit.catalogue import DATA_TYPES, by_path_id, read_for, unit_kind
from fitbit.client import HealthClient
from fitbit.messages import Unit
from fitbit.parse import PageContext, parse_page, reference_rows
from fitbit.parse.typed import typed_page, typed_read
from fitbit.plan import call_for
from simulator import SIM_BASE_URL, SimConfig, Simulator, simulator_session

# Five users cover the simulator's zone stories (Berlin, New York, the London-Tokyo traveller, Kolkata
# +05:30, Los Angeles); the window holds the US DST change (11-01) and the traveller's 33-hour day.
START, END = date(2026, 10, 31), date(2026, 11, 2)
USERS = ("user1", "user2", "user3", "user4", "user5")
READS = [(dt.path_id, read.method) for dt in DATA_TYPES for read in dt.reads]


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return Simulator(SimConfig(users=5, days=14, seed=7, sleep_processing_seconds=3600))


def _ctx(data_type: str, method: str, user: str = "user1", time_zone: str | None = None) -> PageContext:
    return PageContext(participant=user, data_type=data_type, method=method, raw_object=f"raw/{user}/x.json",
                       fetched_at="2026-11-05T06:00:00Z", time_zone=time_zone, civil_date=START)


def _simulator_pages(sim: Simulator, user: str, path_id: str, method: str) -> list[tuple[PageContext, bytes]]:
    token = sim.token(user)["access_token"]
    client = HealthClient(lambda: token, base_url=SIM_BASE_URL, session=simulator_session(sim))
    time_zone = client.settings()["timeZone"]
    if path_id == "heart-rate" and method == "list":  # 1-second samples: 20 minutes across the US DST change
        start = datetime(2026, 11, 1, 5, 50, tzinfo=UTC)
        call = list_call(path_id, filter=by_path_id(path_id).physical_time_filter(start, start + timedelta(minutes=20)),
                         page_size=read_for(path_id, method).page_size)
    else:
        call = call_for(Unit(user, path_id, method, START, END, "backfill"), time_zone)
    return [(_ctx(path_id, method, user, time_zone), page.body) for page in client.pages(call)]


def _items(ctx: PageContext, body: bytes | str) -> list[Any]:
    data = json.loads(body) if body else {}
    return data.get(unit_kind(ctx.data_type, ctx.method).items_key, [])


def _outcome(run: Any) -> Any:
    try:
        return "rows", [list(row.items()) for row in run()]
    except Exception as exc:  # noqa: BLE001 - the point is to compare whatever each path raises
        return "error", type(exc), str(exc)


def _assert_same(ctx: PageContext, body: bytes | str) -> None:
    def fast() -> list[dict[str, Any]]:
        (rows,) = parse_page(ctx, body).rows.values()
        return rows

    assert _outcome(fast) == _outcome(lambda: reference_rows(ctx, _items(ctx, body)))


@pytest.mark.parametrize(("path_id", "method"), READS, ids=[f"{p}-{m}" for p, m in READS])
def test_simulator_pages_give_the_reference_rows_for_every_read(sim, path_id, method):
    rows = 0
    for user in USERS:
        for ctx, body in _simulator_pages(sim, user, path_id, method):
            _assert_same(ctx, body)
            rows += len(_items(ctx, body))
    assert rows, f"the simulator served no {path_id} points to compare"


TYPED_READS = [(p, m) for p, m in READS if typed_read(p, m) is not None]


@pytest.mark.parametrize(("path_id", "method"), TYPED_READS, ids=[f"{p}-{m}" for p, m in TYPED_READS])
def test_the_typed_route_takes_simulator_pages_and_gives_the_reference_rows(sim, path_id, method):
    taken = 0
    for user in USERS:
        for ctx, body in _simulator_pages(sim, user, path_id, method):
            parsed = typed_page(typed_read(path_id, method), ctx, body)
            if parsed is not None and parsed.items:
                (rows, *_) = parsed.rows.values()
                assert [list(r.items()) for r in rows] == [list(r.items()) for r in reference_rows(ctx, _items(ctx, body))]
                taken += 1
    assert taken, f"the typed route took none of the simulator's {path_id} pages"


def test_the_typed_route_covers_the_big_reads():
    assert {("heart-rate", "list"), ("steps", "reconcile"), ("oxygen-saturation", "reconcile")} <= set(TYPED_READS)


def _sample(time: Any = "2026-11-04T22:59:59Z", offset: Any = "3600s", **value: Any) -> dict[str, Any]:
    sample_time = {"physicalTime": time} if offset is ... else {"physicalTime": time, "utcOffset": offset}
    return {"dataSource": {"platform": "FITBIT", "device": {"displayName": "Charge 6"}},
            "heartRate": {"sampleTime": sample_time, "beatsPerMinute": "61", **value}}


ODD_SAMPLES = [
    _sample("2026-11-04T22:59:59.250Z"),  # fractional seconds
    _sample("2026-11-04T22:59:59.000001Z"),
    _sample("2026-11-04T22:59:59+00:00"),  # not the canonical spelling
    _sample("2026-11-04T22:59:59+01:00"),
    _sample("2026-11-04 22:59:59Z"),
    _sample("2026-11-04T23:30:00Z", "3600s"),  # civil date rolls over
    _sample("2026-11-04T18:45:10Z", "19800s"),  # +05:30
    _sample("2026-11-04T18:45:10Z", "20700s"),  # +05:45
    _sample("2026-11-04T18:45:10Z", "-12600s"),  # -03:30
    _sample("2026-11-04T18:45:10Z", "61s"),
    _sample("2026-11-04T18:45:10Z", "3600.5s"),
    _sample("2026-11-04T18:45:10Z", 3600),  # a number, not a Duration string
    _sample("2026-11-04T18:45:10Z", True),
    _sample("2026-11-04T18:45:10Z", ...),  # no offset: "0s"
    _sample("0001-01-01T00:10:00Z", "-3600s"),  # civil time before year 1
    _sample("9999-12-31T23:10:00Z", "3600s"),  # civil time after 9999
    _sample("9999-12-31T18:40:10Z", "19800s"),  # the hour fits, this minute does not
    _sample(beatsPerMinute=None),
    _sample(beatsPerMinute=61.9),
    _sample(metadata=None),
    _sample(metadata="WRIST"),
    _sample(metadata={"motionContext": 7}),
    {"dataSource": None, "heartRate": _sample()["heartRate"]},
    {"heartRate": _sample()["heartRate"]},
    {"dataSource": {"platform": 1}, "heartRate": _sample()["heartRate"]},  # 1 == 1.0 == True, not in JSON
    {"dataSource": {"platform": 1.0}, "heartRate": _sample()["heartRate"]},
    {"dataSource": {"platform": True}, "heartRate": _sample()["heartRate"]},
    {"dataSource": {"application": {"webClientId": "w"}, "platform": "HEALTH_CONNECT"},
     "heartRate": _sample()["heartRate"]},
    {"dataSource": {"platform": "FITBIT", "tags": ["a", None]}, "heartRate": _sample()["heartRate"]},
]

BROKEN_SAMPLES = [
    _sample("2026-11-04T22:59:60Z"),
    _sample("2026-13-04T22:59:59Z"),
    _sample(12345),
    _sample(["2026-11-04T22:59:59Z"]),
    _sample("2026-11-04T22:59:59Z", None),
    _sample("2026-11-04T22:59:59Z", {"seconds": 1}),
    _sample("2026-11-04T22:59:59Z", "1e20s"),
    _sample(beatsPerMinute="sixty"),
    _sample(beatsPerMinute=[61]),
    {"dataSource": "FITBIT", "heartRate": _sample()["heartRate"]},
    {"heartRate": {"beatsPerMinute": "61"}},
    {"heartRate": {"sampleTime": "2026-11-04T22:59:59Z"}},
    {"heartRate": None},
    {"steps": {}},
    ["not", "an", "object"],
    "nor this",
]


@pytest.mark.parametrize("point", ODD_SAMPLES + BROKEN_SAMPLES, ids=lambda p: json.dumps(p)[-60:])
def test_unusual_samples_give_the_reference_row_or_its_error(point):
    ordinary = _sample("2026-11-04T22:59:58Z")
    body = json.dumps({"dataPoints": [ordinary, point, ordinary]}, default=str)
    _assert_same(_ctx("heart-rate", "list"), body)


def _interval(start: Any, end: Any, start_offset: Any = "3600s", end_offset: Any = ...) -> dict[str, Any]:
    span = {"startTime": start, "startUtcOffset": start_offset, "endTime": end}
    if end_offset is not ...:
        span["endUtcOffset"] = end_offset
    return span


@pytest.mark.parametrize("span", [
    _interval("2026-11-04T22:59:00Z", "2026-11-04T23:00:00Z"),
    _interval("2026-11-04T22:59:00Z", "2026-11-04T23:00:00Z", "3600s", "7200s"),
    _interval("2026-11-01T05:59:00Z", "2026-11-01T06:00:00Z", "-14400s", "-18000s"),  # US DST change
    _interval("2026-11-04T22:59:00.5Z", "2026-11-04T23:00:00Z"),
    _interval("2026-11-04T22:59:00Z", "2026-11-04T23:00:00Z", "19800s"),
    _interval("2026-11-04T22:59:00Z", None),
    {"startTime": "2026-11-04T22:59:00Z"},
    "2026-11-04T22:59:00Z",
], ids=lambda s: json.dumps(s)[:70])
@pytest.mark.parametrize("path_id", ["steps", "sleep"])
def test_unusual_intervals_give_the_reference_row_or_its_error(path_id, span):
    if path_id == "steps":
        point = {"steps": {"interval": span, "count": "12"}}
    else:
        point = {"name": "users/me/dataTypes/sleep/dataPoints/1", "dataSource": {"platform": "FITBIT"},
                 "sleep": {"interval": span, "metadata": {"processed": True}}}
    _assert_same(_ctx(path_id, "reconcile" if path_id == "steps" else "list"), json.dumps({"dataPoints": [point]}))


SLEEP = {"name": "users/me/dataTypes/sleep/dataPoints/8", "dataSource": {"platform": "FITBIT"},
         "sleep": {"interval": _interval("2026-11-03T22:41:00Z", "2026-11-04T06:09:00Z"), "type": "STAGES",
                   "summary": {"minutesAsleep": "420", "stagesSummary": [{"type": "DEEP", "minutes": "68"}]},
                   "metadata": {"processed": True, "mainSleep": True},
                   "updateTime": "2026-11-04T06:58:40.119803Z"}}


def _sleep_with(**changes: Any) -> dict[str, Any]:
    point = copy.deepcopy(SLEEP)
    for key, value in changes.items():
        if value is ...:
            point["sleep"].pop(key, None)
        else:
            point["sleep"][key] = value
    return point


@pytest.mark.parametrize("point", [
    SLEEP,
    _sleep_with(summary=...),  # no parent: NULL, not zero
    _sleep_with(summary=None),  # a null parent: zero, as the reference path reads it
    _sleep_with(summary={}),
    _sleep_with(summary="n/a"),
    _sleep_with(metadata=...),
    _sleep_with(metadata={"processed": False}),
    _sleep_with(updateTime="yesterday"),
    _sleep_with(summary={"minutesAsleep": "many"}),
    {**SLEEP, "name": ""},
    {**SLEEP, "name": None, "dataPointName": "users/me/dataTypes/sleep/dataPoints/9"},
], ids=lambda p: json.dumps(p)[-70:])
def test_unusual_sleeps_give_the_reference_row_or_its_error(point):
    _assert_same(_ctx("sleep", "list"), json.dumps({"dataPoints": [SLEEP, point]}))


@pytest.mark.parametrize(("path_id", "method", "item"), [
    ("steps", "dailyRollUp", {"civilStartTime": {"date": {"year": 2026, "month": 11, "day": 4}}}),
    ("steps", "dailyRollUp", {"civilStartTime": {"date": {"year": 2026, "month": 11, "day": 4}}, "steps": None}),
    ("steps", "dailyRollUp", {"civilStartTime": {"date": {"year": 2026, "month": 2, "day": 30}}}),
    ("heart-rate", "rollUp", {"startTime": "2026-11-01T05:59:00Z", "endTime": "2026-11-01T06:00:00Z",
                              "heartRate": {"beatsPerMinuteAvg": 61.5}}),
    ("heart-rate", "rollUp", {"startTime": "2026-11-01T05:59:00Z", "endTime": "2026-11-01T06:00:00Z"}),
    ("heart-rate", "rollUp", {"startTime": "2026-11-01T05:59:00Z", "heartRate": {}}),
    ("daily-resting-heart-rate", "reconcile", {"dailyRestingHeartRate": {"date": {"year": 2026, "month": 11,
                                                                                  "day": 4}}}),
    ("daily-resting-heart-rate", "reconcile", {"dailyRestingHeartRate": {"beatsPerMinute": "50"}}),
    ("active-minutes", "reconcile", {"activeMinutes": {
        "interval": _interval("2026-11-04T07:00:00Z", "2026-11-04T07:01:00Z"),
        "activeMinutesByActivityLevel": [{"activityLevel": "LIGHT", "activeMinutes": "x"}]}}),
])
def test_unusual_rollups_and_daily_points_give_the_reference_row_or_its_error(path_id, method, item):
    key = "rollupDataPoints" if method in ("rollUp", "dailyRollUp") else "dataPoints"
    _assert_same(_ctx(path_id, method, time_zone="America/New_York"), json.dumps({key: [item]}))


def test_a_page_mixing_sources_keeps_each_points_own_source():
    sources = [{"platform": "FITBIT"}, {"platform": "HEALTH_CONNECT", "application": {"packageName": "a"}}]
    points = [{**_sample(f"2026-11-04T10:00:{s:02d}Z"), "dataSource": sources[s % 2]} for s in range(40)]
    _assert_same(_ctx("heart-rate", "list"), json.dumps({"dataPoints": points}))


def _tcx_reference(ctx: PageContext, body: bytes) -> list[dict[str, Any]]:
    """The straightforward TCX reading (prefixed paths, every time parsed): what parse_tcx must equal."""
    import xml.etree.ElementTree as ET

    from fitbit.parse import PARSER_VERSION
    from fitbit.parse.tcx import NS
    from fitbit.timefmt import parse_instant, utc_text

    def number(node: Any, path: str) -> float | None:
        found = node.find(path, NS)
        return float(found.text) if found is not None and found.text else None

    rows = []
    for point in ET.fromstring(body).iterfind(".//t:Trackpoint", NS):
        stamp = point.find("t:Time", NS)
        if stamp is None or not stamp.text:
            continue
        hr = number(point, "t:HeartRateBpm/t:Value")
        rows.append({"participant_id": ctx.participant, "civil_date": ctx.civil_date.isoformat(),
                     "data_point_name": ctx.data_point, "point_time": utc_text(parse_instant(stamp.text)),
                     "latitude": number(point, "t:Position/t:LatitudeDegrees"),
                     "longitude": number(point, "t:Position/t:LongitudeDegrees"),
                     "altitude_m": number(point, "t:AltitudeMeters"), "distance_m": number(point, "t:DistanceMeters"),
                     "heart_rate_bpm": int(hr) if hr is not None else None, "raw_object": ctx.raw_object,
                     "parser_version": PARSER_VERSION, "fetched_at": ctx.fetched_at})
    return rows


def _tcx_ctx() -> PageContext:
    return PageContext("user1", "exercise-tcx", "exportExerciseTcx", "raw/t.tcx", "2026-11-05T06:00:00Z",
                       civil_date=START, data_point="7394")


def test_simulator_tcx_exports_give_the_reference_track_points(sim):
    compared = 0
    for user in USERS:
        token = sim.token(user)["access_token"]
        client = HealthClient(lambda token=token: token, base_url=SIM_BASE_URL, session=simulator_session(sim))
        for ctx, body in _simulator_pages(sim, user, "exercise", "list"):
            for row in parse_page(ctx, body).rows["exercise_sessions"]:
                if row["has_gps"]:
                    tcx = client.export_tcx(str(row["data_point_name"]).rsplit("/", 1)[-1])
                    rows = parse_page(_tcx_ctx(), tcx).rows["exercise_tcx_points"]
                    assert [list(r.items()) for r in rows] == [list(r.items()) for r in _tcx_reference(_tcx_ctx(), tcx)]
                    compared += len(rows)
    assert compared, "the simulator served no GPS exercise to compare"


@pytest.mark.parametrize("point", [
    "<Time>2026-11-04T07:30:00Z</Time>",
    "<Time>2026-11-04T07:30:00.5Z</Time><HeartRateBpm><Value>120</Value></HeartRateBpm>",
    "<Time>2026-11-04T08:30:00+01:00</Time><Position><LatitudeDegrees>52.5</LatitudeDegrees></Position>",
    "<Time></Time>",
    "<Position><LatitudeDegrees>52.5</LatitudeDegrees></Position><Position><LongitudeDegrees>13.4"
    "</LongitudeDegrees></Position><Time>2026-11-04T07:30:01Z</Time>",
    "<Time>2026-11-04T07:30:61Z</Time>",
])
def test_unusual_track_points_give_the_reference_rows_or_its_error(point):
    body = ('<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">'
            f"<Activities><Activity><Lap><Track><Trackpoint>{point}</Trackpoint></Track></Lap></Activity>"
            "</Activities></TrainingCenterDatabase>").encode()
    assert _outcome(lambda: parse_page(_tcx_ctx(), body).rows["exercise_tcx_points"]) == \
        _outcome(lambda: _tcx_reference(_tcx_ctx(), body))
