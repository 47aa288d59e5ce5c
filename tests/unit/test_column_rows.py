"""Column rows (issue #14): the typed route's rows stay columns up to staging, and nothing downstream can tell.

Every page below is parsed by ``parse_page`` (the typed route, by columns) and by the reference path; the
rows must be equal key for key and in order, and the NDJSON staging writes from the columns must be the
NDJSON it writes from the reference rows. The pages cover each way the sample-time columns are made:
hour runs (sorted either way, across an hour and a civil midnight), the per-sample memo (unsorted, two
offsets), each instant on its own (fractional seconds) and a page the typed route hands back (a minute 60).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from fitbit.parse import PageContext, parse_page, reference_rows
from fitbit.parse.page import ColumnRows, Constant, day_counts_rows, stamp, values_of
from helper.staging import ndjson

CHARGE = {"platform": "FITBIT", "device": {"displayName": "Charge 6", "formFactor": "WATCH"}}
PIXEL = {"platform": "FITBIT", "device": {"displayName": "Pixel Watch 3", "formFactor": "WATCH"}}


def _ctx() -> PageContext:
    return PageContext("user1", "heart-rate", "list", "raw/user1/x.json", "2026-11-05T06:00:00Z",
                       time_zone="Europe/Berlin")


def _hr(at: str, offset: str = "3600s", bpm: Any = "61", source: Any = CHARGE, **value: Any) -> dict[str, Any]:
    value = {"sampleTime": {"physicalTime": at, "utcOffset": offset}, "beatsPerMinute": bpm,
             "metadata": {"motionContext": "SEDENTARY", "sensorLocation": "WRIST"}, **value}
    if bpm is None:
        del value["beatsPerMinute"]
    return {"dataSource": source, "heartRate": value}


def _seconds(start_hour: int, count: int, day: int = 4) -> list[str]:
    """``count`` canonical texts a second apart from ``start_hour``:59:00 (so they cross the next hour)."""
    texts = []
    for i in range(count):
        total = start_hour * 3600 + 59 * 60 + i
        texts.append(f"2026-11-{day:02d}T{total // 3600 % 24:02d}:{total // 60 % 60:02d}:{total % 60:02d}Z")
    return texts


ASCENDING = [_hr(t) for t in _seconds(21, 90)]
PAGES = {
    "sorted oldest first, across an hour": ASCENDING,
    "sorted newest first (as the API sends them)": ASCENDING[::-1],
    "across the civil midnight (23:00Z is 00:00 in Berlin)": [_hr(t) for t in _seconds(22, 90)][::-1],
    "unsorted: sample by sample": ASCENDING[1::2] + ASCENDING[::2],
    "two offsets: sample by sample": [_hr(t) for t in _seconds(21, 30)] + [_hr(t, "7200s") for t in _seconds(23, 5)],
    "a half-hour offset (Kolkata): each instant": [_hr(t, "19800s") for t in _seconds(21, 5)],
    "two data sources": [_hr(t, source=CHARGE if i % 3 else PIXEL) for i, t in enumerate(_seconds(21, 20))],
    "integers sent as numbers and as text": [_hr(t, bpm=i if i % 2 else str(i)) for i, t in enumerate(_seconds(21, 9))],
    "a value absent": [_hr(t, bpm=None if i == 3 else "70") for i, t in enumerate(_seconds(21, 9))],
    "metadata null and missing": [_hr(t, metadata=None) for t in _seconds(21, 3)] + [
        {"heartRate": {"sampleTime": {"physicalTime": "2026-11-04T20:00:00Z", "utcOffset": "3600s"},
                       "beatsPerMinute": "60"}, "dataSource": CHARGE}],
    "a tail that is not MM:SSZ": [_hr(t) for t in _seconds(21, 5)] + [_hr("2026-11-04T22:60:00Z")],
    "fractional seconds": [_hr(t) for t in _seconds(21, 5)] + [_hr("2026-11-04T22:59:59.5Z")],
    "an INT64 value out of range": [_hr(t) for t in _seconds(21, 3)] + [_hr("2026-11-04T20:00:00Z", bpm=str(2**63))],
}
COLUMNAR = {"sorted oldest first, across an hour", "sorted newest first (as the API sends them)",
            "across the civil midnight (23:00Z is 00:00 in Berlin)", "unsorted: sample by sample",
            "two offsets: sample by sample", "two data sources", "integers sent as numbers and as text",
            "a value absent", "metadata null and missing", "fractional seconds",
            "a half-hour offset (Kolkata): each instant"}


def _lines(body: bytes) -> list[list[tuple[str, Any]]]:
    return [list(json.loads(line).items()) for line in body.decode().splitlines()]


@pytest.mark.parametrize("name", list(PAGES))
def test_the_column_rows_are_the_reference_rows_and_stage_as_the_same_ndjson(name):
    points = PAGES[name]
    parsed = parse_page(_ctx(), json.dumps({"dataPoints": points}))
    rows = parsed.rows["heart_rate_samples"]
    expected, rejected = reference_rows(_ctx(), points)
    assert isinstance(rows, ColumnRows) == (name in COLUMNAR)
    assert [list(row.items()) for row in rows] == [list(row.items()) for row in expected]
    assert parsed.rows.get("rejected_points", []) == rejected
    stamp(rows, "loaded_at", "2026-11-05T07:00:00Z")
    stamp(expected, "loaded_at", "2026-11-05T07:00:00Z")
    assert _lines(ndjson(rows)[0]) == _lines(ndjson(expected)[0])


def test_constant_columns_are_held_once_not_per_row():
    rows = parse_page(_ctx(), json.dumps({"dataPoints": ASCENDING[::-1]})).rows["heart_rate_samples"]
    assert isinstance(rows, ColumnRows)
    constants = {key for key, column in rows.columns.items() if isinstance(column, Constant)}
    assert {"participant_id", "civil_date", "utc_offset_s", "source_device", "raw_object"} <= constants
    assert not {"sample_time", "civil_time"} & constants


def test_column_rows_read_as_a_sequence_of_row_dicts():
    rows = ColumnRows(("a", "b"), {"a": [1, 2, 3], "b": Constant("x")}, 3)
    assert len(rows) == 3 and rows[0] == {"a": 1, "b": "x"} and rows[-1] == {"a": 3, "b": "x"}
    assert rows[1:] == [{"a": 2, "b": "x"}, {"a": 3, "b": "x"}]
    assert rows == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"a": 3, "b": "x"}]
    assert rows != [{"a": 1, "b": "x"}]
    with pytest.raises(IndexError):
        rows[3]
    assert list(values_of(rows, "b", "a")) == [("x", 1), ("x", 2), ("x", 3)]
    stamp(rows, "loaded_at", "now")
    assert list(rows[0]) == ["a", "b", "loaded_at"] and rows.column("loaded_at") == ["now"] * 3


def test_rows_per_day_share_one_dict_per_day():
    rows = ColumnRows(("civil_date", "v"), {"civil_date": ["2026-11-04", "2026-11-05", "2026-11-04"],
                                            "v": [1, 2, 3]}, 3)
    days = day_counts_rows(rows)
    assert [row["civil_date"] for row in days] == ["2026-11-04", "2026-11-05", "2026-11-04"]
    assert days[0] is days[2]
    assert day_counts_rows(ColumnRows(("civil_date",), {}, 0)) == []


def test_an_empty_page_gives_no_rows_and_no_ndjson():
    rows = parse_page(_ctx(), json.dumps({"dataPoints": []})).rows["heart_rate_samples"]
    assert len(rows) == 0 and list(rows) == [] and ndjson(rows) == (b"", 0)


def _minutes(count: int, offset: str = "3600s", start_offset: str | None = None) -> list[dict[str, Any]]:
    """Minute buckets of steps, newest first, ending at 23:01Z (00:01 in Berlin: across the civil midnight)."""
    points = []
    for i in range(count):
        end = 23 * 60 + 1 - i
        start = end - 1
        span = {"startTime": f"2026-11-04T{start // 60:02d}:{start % 60:02d}:00Z",
                "endTime": f"2026-11-04T{end // 60:02d}:{end % 60:02d}:00Z",
                "startUtcOffset": start_offset or offset, "endUtcOffset": offset}
        points.append({"steps": {"interval": span, "count": str(i)}, "dataSource": CHARGE})
    return points


INTERVALS = {
    "minute buckets by hour runs": (_minutes(90), True),
    "a start offset of its own (DST)": (_minutes(5, "3600s", "7200s"), True),
    "unsorted: each interval on its own": (_minutes(6)[::2] + _minutes(6)[1::2], True),
}


@pytest.mark.parametrize("name", list(INTERVALS))
def test_interval_columns_are_the_reference_rows(name):
    points, columnar = INTERVALS[name]
    ctx = PageContext("user1", "steps", "reconcile", "raw/user1/x.json", "2026-11-05T06:00:00Z",
                      time_zone="Europe/Berlin")
    rows = parse_page(ctx, json.dumps({"dataPoints": points})).rows["steps_intraday"]
    expected, _ = reference_rows(ctx, points)
    assert isinstance(rows, ColumnRows) == columnar
    assert [list(row.items()) for row in rows] == [list(row.items()) for row in expected]


def test_column_rows_stage_and_flush_into_the_warehouse(warehouse):
    from fitbit.catalogue import table_named

    table = table_named("heart_rate_samples")
    for batch, points in enumerate((ASCENDING[:40], ASCENDING[40:])):
        rows = parse_page(_ctx(), json.dumps({"dataPoints": points})).rows[table.name]
        assert isinstance(rows, ColumnRows)
        stamp(rows, "loaded_at", "2026-11-05T07:00:00Z")
        warehouse.stage(table, rows, f"raw/user1/page{batch}.json")
    assert warehouse.flush() == {table.name: 90}
    assert warehouse.query(f"SELECT count(DISTINCT sample_time), min(civil_time), max(civil_time), "
                           f"count(DISTINCT source_key) FROM {table.name}") == [
        (90, datetime(2026, 11, 4, 22, 59), datetime(2026, 11, 4, 23, 0, 29), 1)]
