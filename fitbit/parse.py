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

Accessors are compiled once per (type, method) so a 86,400-sample day is parsed in one pass.
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

from fitbit.catalogue import TCX_TABLE, Column, TableSpec, account_read, by_path_id, read_for, table_spec
from fitbit.errors import UnexpectedResponse

PARSER_VERSION = "2026.11.1"
_MISSING = object()
_NO_ELEMENT = object()  # the array exists but holds no element with the wanted value
_SELECTOR = re.compile(r"^(\w+)\[(\w+)=(\w+)\]$")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

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
    dt = by_path_id(ctx.data_type)
    read = read_for(ctx.data_type, ctx.method)
    spec = table_spec(ctx.data_type, ctx.method)
    key = "rollupDataPoints" if ctx.method in ("rollUp", "dailyRollUp") else "dataPoints"
    items = _items(data, key)
    accessors = _compiled(ctx.data_type, ctx.method)
    lineage = {"raw_object": ctx.raw_object, "parser_version": PARSER_VERSION, "fetched_at": ctx.fetched_at}
    zone = ZoneInfo(ctx.time_zone or "UTC") if ctx.method == "rollUp" else None
    rows: list[Row] = []
    for item in items:
        if not isinstance(item, dict):
            raise UnexpectedResponse("a data point is not a JSON object")
        value = item.get(dt.json_key)
        if ctx.method in ("rollUp", "dailyRollUp"):
            value = value if isinstance(value, dict) else {}
            if ctx.method == "rollUp":
                row = _rollup_time(item, zone)  # type: ignore[arg-type]
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
        for name, get in accessors:
            row[name] = get(value)
        row.update(lineage)
        rows.append(row)
    return ParsedPage({spec.name: rows}, items, _next_token(data))


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


def tables_for(data_type: str, method: str) -> tuple[TableSpec, ...]:
    if data_type == "exercise-tcx":
        return (TCX_TABLE,)
    if data_type in ("settings", "paired-devices"):
        return (account_read(data_type).table,)
    return (table_spec(data_type, method),)
