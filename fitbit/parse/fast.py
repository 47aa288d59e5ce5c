"""The fast path: data points to rows at the speed a day of 1-second heart rate needs.

Measured (benchmarks/, one participant-day of 1 s heart rate): the reference path spends most of its
time re-parsing timestamps, hashing the same dataSource and calling one closure per column. Here every
row starts as a copy of a per-page template (keys already in order), timestamps are memoised per hour
(the seconds are copied, not computed), sources per page, and one- or two-key paths are read inline.
Any row this path does not handle (any exception at all) is redone by the reference path, which rejects
the point or raises the page-level error, so both give identical rows, rejections and errors
(tests/contract/test_parse_fast_path.py). Measured 2026-11-23 (benchmarks/README.md): the work after
json.loads takes less than half the reference path's time (0.53 s against 1.20 s under load). Rollup
windows take their offsets from the participant's zone once per UTC hour whose offset does not change
within it (issue #14: 28 -> 13 ms for a day's 1-minute heart-rate rollup page).
"""

from __future__ import annotations

from typing import Any, Callable

from fitbit.parse.columns import MISSING, source_columns
from fitbit.parse.page import Row
from fitbit.parse.reference import (
    ACCOUNT_TIME_ZONE,
    POINT,
    PageState,
    date_of,
    exact_instant,
    isolated_row,
    rollup_time,
)
from fitbit.timefmt import parse_instant, utc_text


class _OffPath(Exception):
    """A row the fast path does not handle: it is redone by the reference path."""


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
        return exact_instant(text, offset)

    def _by_minute(self, text: str, offset: Any) -> tuple[str, str, int, str]:
        key = (text[:17], offset)
        minute = self._minutes.get(key)
        if minute is None:
            minute = self._minutes[key] = _memo_entry(text[:17] + "00Z", offset, 60, 17)
        if minute is _SLOW:
            return exact_instant(text, offset)
        return minute[0], text, minute[1], minute[2] + _SS[text[17:]]


def _memo_entry(start: str, offset: Any, unit_s: int, width: int) -> Any:
    """(civil date, offset s, civil prefix) shared by every second of the hour/minute starting at ``start``."""
    try:
        civil_date, utc, offset_s, civil = exact_instant(start, offset)
    except (ValueError, TypeError, OverflowError):
        return _SLOW
    if utc != start:
        return _SLOW  # not canonical: let the reference spelling decide
    if offset_s % unit_s:
        return _BY_MINUTE if unit_s == 3600 and offset_s % 60 == 0 else _SLOW
    return civil_date, offset_s, civil[:width]


def _hour_zone_offset(page: PageState, head: str) -> Any:
    """The participant zone's offset (a Duration text) through the whole UTC hour ``head`` (``YYYY-MM-DDTHH:``),
    or ``_SLOW`` when the hour is not canonical or the zone's offset changes within it (a transition at :30)."""
    first, last = head + "00:00Z", head + "59:59Z"
    try:
        moments = parse_instant(first), parse_instant(last)
    except (ValueError, TypeError, OverflowError):
        return _SLOW
    if utc_text(moments[0]) != first:
        return _SLOW
    offsets = {page.zone_offset(moment) for moment in moments}
    return f"{offsets.pop()}s" if len(offsets) == 1 else _SLOW


def memo_utc_text() -> Callable[[str], str]:
    """A memoising ``utc_text(parse_instant(text))`` for one page (a canonical UTC text is its own answer)."""
    instant = _Clock().instant
    return lambda text: instant(text, "0s")[1]


def fast_rows(page: PageState, items: list[Any]) -> list[Row]:
    plan, ctx = page.plan, page.ctx
    dt, method = plan.dt, ctx.method
    template = dict.fromkeys(plan.keys)
    template["participant_id"] = ctx.participant
    template.update(page.lineage)
    new_row = template.copy
    json_key, plain, nested, other = dt.json_key, plan.plain, plan.nested, plan.other
    rollup = method in ("rollUp", "dailyRollUp")
    fill_time = _time_filler(page, _Clock())
    named, keyed = dt.named and not rollup, dt.identifiable and not rollup
    sourced = plan.read.with_source and not rollup
    sources = _Sources().columns
    rows: list[Row] = []
    append = rows.append
    for index, item in enumerate(items):
        try:
            value = item[json_key] if not rollup else item.get(json_key)
            if type(value) is not dict:  # a rollup window without its value: the reference path says NULL
                raise _OffPath
            row = new_row()
            fill_time(row, item, value)
            if named:
                name = item.get("name") or item.get("dataPointName")
                if name and type(name) is not str:
                    raise _OffPath
                if keyed:
                    if not name:
                        raise _OffPath
                    row["name_derived"] = False
                row["data_point_name"] = name or None
            if sourced:
                row.update(sources(item.get("dataSource")))
            for name, key, convert, default in plain:
                raw = value.get(key)
                row[name] = default if raw is None else convert(raw)
            for name, parent_key, key, convert, default in nested:
                parent = value.get(parent_key, MISSING)
                if parent is MISSING:
                    row[name] = None
                elif type(parent) is not dict or (raw := parent.get(key)) is None:
                    row[name] = default
                else:
                    row[name] = convert(raw)
            for name, get in other:
                row[name] = get(value)
        except Exception:  # noqa: BLE001 - off the happy path: the reference path decides, error or rejection
            row = isolated_row(page, index, item)
            if row is None:
                continue
        append(row)
    return rows


def _time_filler(page: PageState, clock: _Clock) -> Callable[[Row, Any, Any], None]:
    """The time columns of one row, by shape; raises into the reference path for anything unusual."""
    instant, method, dt = clock.instant, page.ctx.method, page.plan.dt

    if method == "rollUp":
        zone_offsets: dict[str, Any] = {}

        def rollup(row: Row, item: Any, value: Any) -> None:
            start = item["startTime"]
            offset = _SLOW if _MM_SS.get(start[14:]) is None else zone_offsets.get(start[:14])
            if offset is None:
                offset = zone_offsets[start[:14]] = _hour_zone_offset(page, start[:14])
            if offset is _SLOW:
                row.update(rollup_time(item, page))
                return
            row["civil_date"], row["start_time"], row["utc_offset_s"], row["civil_start_time"] = instant(start, offset)
            row["end_time"] = instant(item["endTime"], "0s")[1]
            row["offset_source"] = ACCOUNT_TIME_ZONE
        return rollup
    if method == "dailyRollUp":
        def daily_rollup(row: Row, item: Any, value: Any) -> None:
            row["civil_date"] = date_of(item["civilStartTime"]["date"]).isoformat()
        return daily_rollup
    if dt.record_type == "daily":
        def daily(row: Row, item: Any, value: Any) -> None:
            row["civil_date"] = date_of(value["date"]).isoformat()
        return daily
    # Points that carry none of their own time fields take their offsets from the zone: the reference path.
    if dt.record_type == "sample":
        def sample(row: Row, item: Any, value: Any) -> None:
            at = value["sampleTime"]
            offset = at.get("utcOffset")
            if offset is None:
                if at.get("civilTime") is None:
                    raise _OffPath
                offset = "0s"
            row["civil_date"], row["sample_time"], row["utc_offset_s"], row["civil_time"] = instant(
                at["physicalTime"], offset)
            row["offset_source"] = POINT
        return sample
    by_end = dt.dated_by_end

    def interval(row: Row, item: Any, value: Any) -> None:
        span = value["interval"]
        start_offset, end_offset = span.get("startUtcOffset"), span.get("endUtcOffset")
        if start_offset is None or end_offset is None:
            if (start_offset is None and end_offset is None and span.get("civilStartTime") is None
                    and span.get("civilEndTime") is None):
                raise _OffPath
            start_offset = "0s" if start_offset is None else start_offset
            end_offset = "0s" if end_offset is None else end_offset
        start_date, row["start_time"], row["start_utc_offset_s"], row["civil_start_time"] = instant(
            span["startTime"], start_offset)
        end_date, row["end_time"], row["end_utc_offset_s"], row["civil_end_time"] = instant(
            span["endTime"], end_offset)
        row["civil_date"] = end_date if by_end else start_date
        row["offset_source"] = POINT
    return interval


class _Sources:
    """``source_columns`` memoised by equality, for sources whose equality implies equal JSON."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: list[tuple[Any, Row]] = []

    def columns(self, source: Any) -> Row:
        for seen, columns in self._seen:
            if seen == source:
                return columns
        columns = source_columns(source)
        if len(self._seen) < 16 and _strings_only(source):
            self._seen.append((source, columns))
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
