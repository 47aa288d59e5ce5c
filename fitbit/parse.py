"""Raw API pages → warehouse rows, with pure functions driven by the catalogue.

Rules applied here (API facts: ../shared/docs/google-health-api.md §2–3, checked 2026-11-23):
- int64 arrive as JSON strings; doubles as numbers; zero scalars and false booleans may be omitted.
  A column is filled with 0/false only when its catalogue entry says the field is a true zero (or a
  proto3 boolean) and its parent object is present; otherwise absence stays NULL.
- Civil time is computed as physical time + the point's own UTC offset, because the output-only
  ``civil*`` fields are missing on sleep and exercise intervals in live payloads.
- Daily types carry only a civil date. rollUp windows carry no offset: the account's IANA zone
  supplies it (``offset_source``). dailyRollUp windows are keyed by their own ``civilStartTime``.
- Sleep is dated by the civil day it ends (wake-up day); everything else by its civil start.

Accessors are compiled once per (type, method) so a 86,400-sample day is parsed in one pass. Rows on
the happy path take a fast route (``_fast_rows``); any other row is redone by the straightforward
``reference_rows``, so both give identical rows and errors (tests/unit/test_parse_fast_path.py).
Measured 2026-11-23 (benchmarks/README.md): on a day of 1 s heart rate the work after json.loads takes
less than half the straightforward path's time (0.53 s against 1.20 s under load).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from fitbit.catalogue import (
    Column, DataType, Read, account_read, by_path_id, read_for, table_spec,
)
from fitbit.catalogue.common import LINEAGE, common_columns
from fitbit.errors import UnexpectedResponse

PARSER_VERSION = "2026.11.1"
_MISSING = object()
_NO_ELEMENT = object()  # the array exists but holds no element with the wanted value
_SELECTOR = re.compile(r"^(\w+)\[(\w+)=(\w+)\]$")

Row = dict[str, Any]


@dataclass(frozen=True)
class PageContext:
    """Who and what a raw page belongs to (from the raw object's metadata)."""

    participant: str
    data_type: str
    method: str
    raw_object: str
    fetched_at: str
    time_zone: str | None = None
    civil_date: date | None = None  # the unit's first day, for pages without their own dates
    data_point: str | None = None


@dataclass(frozen=True)
class ParsedPage:
    rows: dict[str, list[Row]]
    items: list[Mapping[str, Any]]
    next_page_token: str | None


# --- small converters ---------------------------------------------------------------------------

def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def duration_seconds(text: Any) -> float:
    if isinstance(text, (int, float)):
        return float(text)
    if not isinstance(text, str) or not text.endswith("s"):
        raise ValueError(f"not a protobuf Duration: {text!r}")
    return float(text[:-1])


def _iso_utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment.microsecond else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _civil(moment: datetime, offset_s: int) -> datetime:
    return (moment + timedelta(seconds=offset_s)).replace(tzinfo=None)


def _iso_civil(moment: datetime) -> str:
    return moment.isoformat()


def _date_of(obj: Mapping[str, Any]) -> date:
    return date(int(obj["year"]), int(obj["month"]), int(obj["day"]))


def source_key(source: Mapping[str, Any] | None) -> str:
    if not source:
        return "none"
    return hashlib.sha1(json.dumps(source, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


# --- compiled column accessors ----------------------------------------------------------------

def _step(key: str) -> Callable[[Any], Any]:
    match = _SELECTOR.match(key)
    if not match:
        return lambda obj: obj.get(key, _MISSING) if isinstance(obj, dict) else _MISSING
    array_key, field, wanted = match.groups()

    def select(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return _MISSING
        for element in obj.get(array_key) or ():
            if isinstance(element, dict) and element.get(field) == wanted:
                return element
        return _NO_ELEMENT

    return select


def _convert(column: Column) -> Callable[[Any], Any]:
    if column.conversion == "duration_s":
        return (lambda v: int(duration_seconds(v))) if column.type == "INT64" else duration_seconds
    if column.conversion == "json":
        return lambda v: v
    return {
        "INT64": int,
        "FLOAT64": float,
        "STRING": str,
        "BOOL": bool,
        "TIMESTAMP": lambda v: _iso_utc(parse_instant(v)),
        "JSON": lambda v: v,
    }.get(column.type, str)


def compile_column(column: Column) -> Callable[[Any], Any]:
    """Return value_object -> column value (None when absent, 0/False for declared true zeros)."""
    steps = [_step(part) for part in column.path.split(".")]
    convert = _convert(column)
    default = (False if column.type == "BOOL" else 0) if column.zero_if_absent else None
    parents, last = steps[:-1], steps[-1]

    def get(value: Any) -> Any:
        obj = value
        for step in parents:
            obj = step(obj)
            if obj is _MISSING:
                return None
            if obj is _NO_ELEMENT:  # e.g. no MODERATE entry in a present point: that level's zero
                return default
        raw = last(obj)
        if raw is _MISSING or raw is None:
            return default
        try:
            return convert(raw)
        except (TypeError, ValueError):
            raise UnexpectedResponse(f"field {column.path} has an unreadable value") from None

    return get


@cache
def _compiled(path_id: str, method: str) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    read = read_for(path_id, method)
    return tuple((c.name, compile_column(c)) for c in read.columns)


# --- time columns per shape -------------------------------------------------------------------

def _interval_time(value: Mapping[str, Any], dated_by_end: bool) -> Row:
    interval = value.get("interval")
    if not isinstance(interval, dict) or "startTime" not in interval or "endTime" not in interval:
        raise UnexpectedResponse("data point without a complete interval")
    start, end = parse_instant(interval["startTime"]), parse_instant(interval["endTime"])
    start_off = int(duration_seconds(interval.get("startUtcOffset", "0s")))
    end_off = int(duration_seconds(interval.get("endUtcOffset", interval.get("startUtcOffset", "0s"))))
    civil_start, civil_end = _civil(start, start_off), _civil(end, end_off)
    # Sleep is selected by civil end time (>= D), so a night ending at 00:00 belongs to D, as in the filter.
    return {
        "civil_date": (civil_end if dated_by_end else civil_start).date().isoformat(),
        "start_time": _iso_utc(start), "end_time": _iso_utc(end),
        "start_utc_offset_s": start_off, "end_utc_offset_s": end_off,
        "civil_start_time": _iso_civil(civil_start), "civil_end_time": _iso_civil(civil_end),
    }


def _sample_time(value: Mapping[str, Any]) -> Row:
    sample = value.get("sampleTime")
    if not isinstance(sample, dict) or "physicalTime" not in sample:
        raise UnexpectedResponse("data point without a sample time")
    moment = parse_instant(sample["physicalTime"])
    offset = int(duration_seconds(sample.get("utcOffset", "0s")))
    civil = _civil(moment, offset)
    return {"civil_date": civil.date().isoformat(), "sample_time": _iso_utc(moment),
            "utc_offset_s": offset, "civil_time": _iso_civil(civil)}


def _rollup_time(item: Mapping[str, Any], zone: ZoneInfo) -> Row:
    start, end = parse_instant(item["startTime"]), parse_instant(item["endTime"])
    offset = int(start.astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
    civil = _civil(start, offset)
    return {"civil_date": civil.date().isoformat(), "start_time": _iso_utc(start), "end_time": _iso_utc(end),
            "utc_offset_s": offset, "civil_start_time": _iso_civil(civil), "offset_source": "account_time_zone"}


def _source_columns(source: Mapping[str, Any] | None) -> Row:
    source = source or {}
    device = source.get("device") or {}
    app = source.get("application") or {}
    return {
        "source_key": source_key(source),
        "source_platform": source.get("platform"),
        "source_recording_method": source.get("recordingMethod"),
        "source_device": device.get("displayName"),
        "source_form_factor": device.get("formFactor"),
        "source_application": app.get("packageName") or app.get("googleWebClientId") or app.get("webClientId"),
    }


# --- pages --------------------------------------------------------------------------------------

def _items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise UnexpectedResponse(f"'{key}' is not a list")
    return items


def _next_token(data: Mapping[str, Any]) -> str | None:
    token = data.get("nextPageToken")
    return token if isinstance(token, str) and token else None


def load_json(body: bytes | str) -> Mapping[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnexpectedResponse("raw page is not valid JSON") from None
    if not isinstance(data, dict):
        raise UnexpectedResponse("raw page is not a JSON object")
    return data


def parse_page(ctx: PageContext, body: bytes | str) -> ParsedPage:
    """Turn one raw page into rows per table. Raises UnexpectedResponse for unreadable shapes."""
    if ctx.data_type == "exercise-tcx":
        from fitbit.tcx import parse_tcx

        return ParsedPage({"exercise_tcx_points": parse_tcx(ctx, body)}, [], None)
    data = load_json(body)
    if ctx.data_type in ("settings", "paired-devices"):
        return _parse_account(ctx, data)
    plan = _plan(ctx.data_type, ctx.method)
    items = _items(data, plan.items_key)
    page = _Page(ctx, plan)
    return ParsedPage({plan.table: _fast_rows(page, items)}, items, _next_token(data))


def reference_rows(ctx: PageContext, items: list[Any]) -> list[Row]:
    """The straightforward mapping, one row at a time: the specification ``parse_page`` is tested against.

    ``parse_page`` takes a faster route for rows on the happy path and falls back to this one, row by
    row, for anything else (so unusual rows and errors behave exactly as here).
    """
    page = _Page(ctx, _plan(ctx.data_type, ctx.method))
    return [_reference_row(page, item) for item in items]


# --- the read plan: everything a (type, method) shares, compiled once ---------------------------

@dataclass(frozen=True)
class _Plan:
    dt: DataType
    read: Read
    table: str
    items_key: str
    accessors: tuple[tuple[str, Callable[[Any], Any]], ...]
    keys: tuple[str, ...]  # row keys in the order the reference path writes them
    plain: tuple[tuple[str, str, Callable[[Any], Any], Any], ...]  # name, key, convert, default
    nested: tuple[tuple[str, str, str, Callable[[Any], Any], Any], ...]  # name, parent, key, convert, default
    other: tuple[tuple[str, Callable[[Any], Any]], ...]  # selectors, deeper paths: the compiled accessor


@cache
def _plan(path_id: str, method: str) -> _Plan:
    dt, read = by_path_id(path_id), read_for(path_id, method)
    accessors = _compiled(path_id, method)
    plain, nested, other = [], [], []
    for column, (name, get) in zip(read.columns, accessors):
        parts = column.path.split(".")
        default = (False if column.type == "BOOL" else 0) if column.zero_if_absent else None
        if any("[" in part for part in parts) or len(parts) > 2:
            other.append((name, get))
        elif len(parts) == 1:
            plain.append((name, parts[0], _convert(column), default))
        else:
            nested.append((name, parts[0], parts[1], _convert(column), default))
    common = [c.name for c in common_columns(dt, read) if c.name != "participant_id"]
    lineage = [c.name for c in LINEAGE if c.name != "loaded_at"]
    keys = (*common, "participant_id", *(name for name, _ in accessors), *lineage)
    items_key = "rollupDataPoints" if method in ("rollUp", "dailyRollUp") else "dataPoints"
    return _Plan(dt, read, table_spec(path_id, method).name, items_key, accessors, keys,
                 tuple(plain), tuple(nested), tuple(other))


class _Page:
    """Per-page state: the context, lineage, the account zone (rollUp) and memo tables."""

    __slots__ = ("ctx", "plan", "lineage", "zone", "clock", "sources")

    def __init__(self, ctx: PageContext, plan: _Plan) -> None:
        self.ctx, self.plan = ctx, plan
        self.lineage = {"raw_object": ctx.raw_object, "parser_version": PARSER_VERSION, "fetched_at": ctx.fetched_at}
        self.zone = ZoneInfo(ctx.time_zone or "UTC") if ctx.method == "rollUp" else None
        self.clock = _Clock()
        self.sources: list[tuple[Any, Row]] = []

    def source_columns(self, source: Any) -> Row:
        """``_source_columns`` memoised by equality; only for sources whose equality implies equal JSON."""
        for seen, columns in self.sources:
            if seen == source:
                return columns
        columns = _source_columns(source)
        if len(self.sources) < 16 and _strings_only(source):
            self.sources.append((source, columns))
        return columns


def _strings_only(obj: Any) -> bool:
    """True when ``obj`` holds only dicts, lists, strings and nulls: then ``==`` implies equal JSON text
    (``1 == 1.0 == True`` would not)."""
    if obj is None or type(obj) is str:
        return True
    if type(obj) is dict:
        return all(type(k) is str and _strings_only(v) for k, v in obj.items())
    if type(obj) is list:
        return all(_strings_only(v) for v in obj)
    return False


# --- the reference path -------------------------------------------------------------------------

def _reference_row(page: _Page, item: Any) -> Row:
    ctx, plan = page.ctx, page.plan
    dt, read = plan.dt, plan.read
    if not isinstance(item, dict):
        raise UnexpectedResponse("a data point is not a JSON object")
    value = item.get(dt.json_key)
    if ctx.method in ("rollUp", "dailyRollUp"):
        value = value if isinstance(value, dict) else {}
        if ctx.method == "rollUp":
            row = _rollup_time(item, page.zone)  # type: ignore[arg-type]
        else:
            row = {"civil_date": _date_of(item["civilStartTime"]["date"]).isoformat()}
    else:
        if not isinstance(value, dict):
            raise UnexpectedResponse(f"data point lacks its '{dt.json_key}' value")
        if dt.record_type == "daily":
            row = {"civil_date": _date_of(value["date"]).isoformat()}
        elif dt.record_type == "sample":
            row = _sample_time(value)
        else:
            row = _interval_time(value, dt.dated_by_end)
        if dt.identifiable:
            name = item.get("name") or item.get("dataPointName")
            if not name:
                raise UnexpectedResponse(f"{dt.path_id} point without a resource name")
            row["data_point_name"] = name
        if read.with_source:
            row.update(_source_columns(item.get("dataSource")))
    row["participant_id"] = ctx.participant
    for name, get in plan.accessors:
        row[name] = get(value)
    row.update(page.lineage)
    return row


# --- the fast path ------------------------------------------------------------------------------
# Measured (benchmarks/, one participant-day of 1 s heart rate): the reference path spends most of its
# time re-parsing timestamps, hashing the same dataSource and calling one closure per column. Here every
# row starts as a copy of a per-page template (keys already in order), timestamps are memoised per hour
# (the seconds are copied, not computed), sources per page, and one- or two-key paths are read inline.

class _OffPath(Exception):
    """A row the fast path does not handle: it is redone by the reference path."""


_OFF_PATH = (_OffPath, LookupError, TypeError, ValueError, AttributeError, ArithmeticError, UnexpectedResponse)
_SLOW = object()
_BY_MINUTE = object()
_MM_SS = {f"{m:02d}:{s:02d}Z": f"{m:02d}:{s:02d}" for m in range(60) for s in range(60)}
_SS = {f"{s:02d}Z": f"{s:02d}" for s in range(60)}


class _Clock:
    """(RFC 3339 UTC text, offset) -> (civil date, UTC text, offset s, civil text), memoised per hour.

    Only canonical ``YYYY-MM-DDTHH:MM:SSZ`` texts take the memo: their UTC text is themselves and their
    civil time shares minutes and seconds with it when the offset is whole hours (whole minutes: memo per
    minute, e.g. Asia/Kolkata +05:30). Anything else is computed exactly as the reference path does.
    """

    __slots__ = ("_hours", "_minutes")

    def __init__(self) -> None:
        self._hours: dict[tuple[str, Any], Any] = {}
        self._minutes: dict[tuple[str, Any], Any] = {}

    def instant(self, text: str, offset: Any) -> tuple[str, str, int, str]:
        tail = _MM_SS.get(text[14:])
        if tail is not None:
            key = (text[:14], offset)
            hour = self._hours.get(key)
            if hour is None:
                hour = self._hours[key] = _memo_entry(text[:14] + "00:00Z", offset, 3600, 14)
            if hour is _BY_MINUTE:
                return self._by_minute(text, offset)
            if hour is not _SLOW:
                return hour[0], text, hour[1], hour[2] + tail
        return _exact_instant(text, offset)

    def _by_minute(self, text: str, offset: Any) -> tuple[str, str, int, str]:
        key = (text[:17], offset)
        minute = self._minutes.get(key)
        if minute is None:
            minute = self._minutes[key] = _memo_entry(text[:17] + "00Z", offset, 60, 17)
        if minute is _SLOW:
            return _exact_instant(text, offset)
        return minute[0], text, minute[1], minute[2] + _SS[text[17:]]


def _memo_entry(start: str, offset: Any, unit_s: int, width: int) -> Any:
    """(civil date, offset s, civil prefix) shared by every second of the hour/minute starting at ``start``."""
    try:
        civil_date, utc, offset_s, civil = _exact_instant(start, offset)
    except (ValueError, TypeError, OverflowError):
        return _SLOW
    if utc != start:
        return _SLOW  # not canonical: let the reference spelling decide
    if offset_s % unit_s:
        return _BY_MINUTE if unit_s == 3600 and offset_s % 60 == 0 else _SLOW
    return civil_date, offset_s, civil[:width]


def utc_text() -> Callable[[str], str]:
    """A memoising ``_iso_utc(parse_instant(text))`` for one page (a canonical UTC text is its own answer)."""
    instant = _Clock().instant
    return lambda text: instant(text, "0s")[1]


def _exact_instant(text: str, offset: Any) -> tuple[str, str, int, str]:
    moment = parse_instant(text)
    offset_s = int(duration_seconds(offset))
    civil = _civil(moment, offset_s)
    return civil.date().isoformat(), _iso_utc(moment), offset_s, _iso_civil(civil)


def _fast_rows(page: _Page, items: list[Any]) -> list[Row]:
    plan, ctx = page.plan, page.ctx
    dt, method = plan.dt, ctx.method
    template = dict.fromkeys(plan.keys)
    template["participant_id"] = ctx.participant
    template.update(page.lineage)
    new_row = template.copy
    json_key, plain, nested, other = dt.json_key, plan.plain, plan.nested, plan.other
    rollup = method in ("rollUp", "dailyRollUp")
    fill_time = _time_filler(page)
    named, sourced = dt.identifiable and not rollup, plan.read.with_source and not rollup
    source_columns = page.source_columns
    rows: list[Row] = []
    append = rows.append
    for item in items:
        try:
            value = item[json_key] if not rollup else item.get(json_key)
            if type(value) is not dict:
                if not rollup:
                    raise _OffPath
                value = {}
            row = new_row()
            fill_time(row, item, value)
            if named:
                name = item.get("name") or item.get("dataPointName")
                if not name:
                    raise _OffPath
                row["data_point_name"] = name
            if sourced:
                row.update(source_columns(item.get("dataSource")))
            for name, key, convert, default in plain:
                raw = value.get(key)
                row[name] = default if raw is None else convert(raw)
            for name, parent_key, key, convert, default in nested:
                parent = value.get(parent_key, _MISSING)
                if parent is _MISSING:
                    row[name] = None
                elif type(parent) is not dict or (raw := parent.get(key)) is None:
                    row[name] = default
                else:
                    row[name] = convert(raw)
            for name, get in other:
                row[name] = get(value)
        except _OFF_PATH:
            row = _reference_row(page, item)
        append(row)
    return rows


def _time_filler(page: _Page) -> Callable[[Row, Any, Any], None]:
    """The time columns of one row, by shape; raises into the reference path for anything unusual."""
    instant, method, dt = page.clock.instant, page.ctx.method, page.plan.dt

    if method == "rollUp":
        zone = page.zone

        def rollup(row: Row, item: Any, value: Any) -> None:
            row.update(_rollup_time(item, zone))  # type: ignore[arg-type]
        return rollup
    if method == "dailyRollUp":
        def daily_rollup(row: Row, item: Any, value: Any) -> None:
            row["civil_date"] = _date_of(item["civilStartTime"]["date"]).isoformat()
        return daily_rollup
    if dt.record_type == "daily":
        def daily(row: Row, item: Any, value: Any) -> None:
            row["civil_date"] = _date_of(value["date"]).isoformat()
        return daily
    if dt.record_type == "sample":
        def sample(row: Row, item: Any, value: Any) -> None:
            at = value["sampleTime"]
            row["civil_date"], row["sample_time"], row["utc_offset_s"], row["civil_time"] = instant(
                at["physicalTime"], at.get("utcOffset", "0s"))
        return sample
    by_end = dt.dated_by_end

    def interval(row: Row, item: Any, value: Any) -> None:
        span = value["interval"]
        start_offset = span.get("startUtcOffset", "0s")
        start_date, row["start_time"], row["start_utc_offset_s"], row["civil_start_time"] = instant(
            span["startTime"], start_offset)
        end_date, row["end_time"], row["end_utc_offset_s"], row["civil_end_time"] = instant(
            span["endTime"], span.get("endUtcOffset", start_offset))
        row["civil_date"] = end_date if by_end else start_date
    return interval


def _parse_account(ctx: PageContext, data: Mapping[str, Any]) -> ParsedPage:
    account = account_read(ctx.data_type)
    items = [data] if account.items_key is None else _items(data, account.items_key)
    day = (ctx.civil_date or date.today()).isoformat()
    lineage = {"raw_object": ctx.raw_object, "parser_version": PARSER_VERSION, "fetched_at": ctx.fetched_at}
    value_columns = [c for c in account.table.columns if c.path not in ("unused",)]
    getters = [(c.name, compile_column(c)) for c in value_columns]
    rows = [{"participant_id": ctx.participant, "civil_date": day,
             **{name: get(item) for name, get in getters}, **lineage} for item in items]
    return ParsedPage({account.table.name: rows}, items, _next_token(data))
