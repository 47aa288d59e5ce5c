"""The reference path: data points to rows one at a time, the straightforward way.

This is the specification: ``fitbit.parse.parse_page`` takes a faster route for rows on the happy path
(``fitbit.parse.fast``) and is tested equal to ``reference_rows`` (tests/unit/test_parse_fast_path.py),
falling back to ``reference_row`` for any row it does not handle, so unusual rows and errors behave
exactly as here.

Rules (API facts: ../shared/docs/google-health-api.md §2–3 and §12, checked 2026-11-30):
- civil time is computed as physical time + the point's own UTC offset, because the output-only
  ``civil*`` fields are missing on sleep and exercise intervals in live payloads;
- proto3 JSON omits a zero offset, so a point that carries any of its own time fields (an offset or a
  civil time) has a zero offset where one is missing; a point that carries none of them (phone data
  synced through Health Connect) takes its offsets from the participant's IANA zone at each instant, and
  ``offset_source`` says so. No zone known is ``TimeZoneUnknown``, never a silent UTC;
- daily types carry only a civil date; rollUp windows carry no offset: the account's IANA zone supplies
  it (``offset_source``); dailyRollUp windows are keyed by their own ``civilStartTime``;
- a rollup window without its value object has no value yet (NULL), while a present but empty one holds
  true zeros;
- sleep is dated by the civil day it ends (wake-up day); everything else by its civil start;
- an identifiable point without a resource name is keyed by its source and start
  (``derived/<source_key>/<start>``) and marked ``name_derived``: one such point never fails its page.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from fitbit.catalogue import DataType, Read, by_path_id, read_for, unit_kind
from fitbit.catalogue.common import PARSED_LINEAGE
from fitbit.errors import TimeZoneUnknown, UnexpectedResponse
from fitbit.parse.columns import Getter, absent_value, compile_column, converter, read_value, source_columns
from fitbit.parse.page import PageContext, Row, lineage
from fitbit.timefmt import duration_seconds, parse_instant, utc_text

ROLLUPS = ("rollUp", "dailyRollUp")
POINT, ACCOUNT_TIME_ZONE = "point", "account_time_zone"  # offset_source values
OFFSETS_DERIVED, NAMES_DERIVED = "offsets_derived", "names_derived"  # ParsedPage.counts kinds
_INTERVAL_OWN_TIME = ("startUtcOffset", "endUtcOffset", "civilStartTime", "civilEndTime")
_SAMPLE_OWN_TIME = ("utcOffset", "civilTime")


@dataclass(frozen=True)
class ReadPlan:
    """Everything the pages of one (type, method) share, compiled once."""

    dt: DataType
    read: Read
    table: str
    items_key: str
    accessors: tuple[tuple[str, Getter], ...]
    keys: tuple[str, ...]  # row keys in the order the reference path writes them
    plain: tuple[tuple[str, str, Getter, Any], ...]  # name, key, convert, default
    nested: tuple[tuple[str, str, str, Getter, Any], ...]  # name, parent, key, convert, default
    other: tuple[tuple[str, Getter], ...]  # selectors, deeper paths: the compiled accessor


@cache
def read_plan(path_id: str, method: str) -> ReadPlan:
    dt, read, kind = by_path_id(path_id), read_for(path_id, method), unit_kind(path_id, method)
    accessors = tuple((c.name, compile_column(c)) for c in read.columns)
    plain, nested, other = [], [], []
    for column, (name, get) in zip(read.columns, accessors):
        parts = column.path.split(".")
        if any("[" in part for part in parts) or len(parts) > 2:
            other.append((name, get))
        elif len(parts) == 1:
            plain.append((name, parts[0], converter(column), absent_value(column)))
        else:
            nested.append((name, parts[0], parts[1], converter(column), absent_value(column)))
    leading = [c.name for c in dt.leading_columns(read) if c.name != "participant_id"]
    keys = (*leading, "participant_id", *(name for name, _ in accessors), *PARSED_LINEAGE)
    if kind.items_key is None:
        raise ValueError(f"{path_id} / {method}: a data-point read without an item array")
    return ReadPlan(dt, read, kind.table.name, kind.items_key, accessors, keys, tuple(plain), tuple(nested),
                    tuple(other))


class PageState:
    """Per-page state: the context, its read plan, lineage, the account zone and the page's counts."""

    __slots__ = ("ctx", "plan", "lineage", "_zone", "counts")

    def __init__(self, ctx: PageContext, plan: ReadPlan) -> None:
        self.ctx, self.plan = ctx, plan
        self.lineage = lineage(ctx)
        self._zone: ZoneInfo | None = None
        self.counts: Counter[str] = Counter()

    def note(self, kind: str) -> None:
        self.counts[kind] += 1

    @property
    def zone(self) -> ZoneInfo:
        """The participant's IANA zone (raises ``TimeZoneUnknown`` when the context has none)."""
        if self._zone is None:
            if not self.ctx.time_zone:
                raise TimeZoneUnknown(f"{self.ctx.data_type} page {self.ctx.raw_object} has times without offsets "
                                      f"and participant {self.ctx.participant} has no known time zone")
            self._zone = ZoneInfo(self.ctx.time_zone)
        return self._zone

    def zone_offset(self, moment: datetime) -> int:
        """The zone's UTC offset at ``moment``, seconds."""
        return int(moment.astimezone(self.zone).utcoffset().total_seconds())  # type: ignore[union-attr]


def civil(moment: datetime, offset_s: int) -> datetime:
    return (moment + timedelta(seconds=offset_s)).replace(tzinfo=None)


def date_of(obj: Mapping[str, Any]) -> date:
    return date(int(obj["year"]), int(obj["month"]), int(obj["day"]))


def exact_instant(text: str, offset: Any) -> tuple[str, str, int, str]:
    """(civil date, UTC text, offset s, civil text) of an instant and its Duration offset."""
    moment = parse_instant(text)
    offset_s = int(duration_seconds(offset))
    wall = civil(moment, offset_s)
    return wall.date().isoformat(), utc_text(moment), offset_s, wall.isoformat()


def _offsets(page: PageState, block: Mapping[str, Any], own_time: tuple[str, ...],
             at: tuple[tuple[str, datetime], ...]) -> tuple[list[int], str]:
    """The offsets (seconds) of a time block's instants, ``(offset key, instant)`` each, and their source."""
    if any(block.get(key) is not None for key in own_time):  # its own time: a missing offset is proto3's zero
        return [0 if block.get(key) is None else int(duration_seconds(block[key])) for key, _ in at], POINT
    return [page.zone_offset(moment) for _, moment in at], ACCOUNT_TIME_ZONE


def _interval_time(page: PageState, value: Mapping[str, Any], dated_by_end: bool) -> Row:
    interval = value.get("interval")
    if not isinstance(interval, dict) or "startTime" not in interval or "endTime" not in interval:
        raise UnexpectedResponse("data point without a complete interval")
    start, end = parse_instant(interval["startTime"]), parse_instant(interval["endTime"])
    (start_off, end_off), source = _offsets(page, interval, _INTERVAL_OWN_TIME,
                                            (("startUtcOffset", start), ("endUtcOffset", end)))
    civil_start, civil_end = civil(start, start_off), civil(end, end_off)
    # Sleep is selected by civil end time (>= D), so a night ending at 00:00 belongs to D, as in the filter.
    return {
        "civil_date": (civil_end if dated_by_end else civil_start).date().isoformat(),
        "start_time": utc_text(start), "end_time": utc_text(end),
        "start_utc_offset_s": start_off, "end_utc_offset_s": end_off,
        "civil_start_time": civil_start.isoformat(), "civil_end_time": civil_end.isoformat(),
        "offset_source": source,
    }


def _sample_time(page: PageState, value: Mapping[str, Any]) -> Row:
    sample = value.get("sampleTime")
    if not isinstance(sample, dict) or "physicalTime" not in sample:
        raise UnexpectedResponse("data point without a sample time")
    moment = parse_instant(sample["physicalTime"])
    (offset,), source = _offsets(page, sample, _SAMPLE_OWN_TIME, (("utcOffset", moment),))
    wall = civil(moment, offset)
    return {"civil_date": wall.date().isoformat(), "sample_time": utc_text(moment),
            "utc_offset_s": offset, "civil_time": wall.isoformat(), "offset_source": source}


def rollup_time(item: Mapping[str, Any], page: PageState) -> Row:
    start, end = parse_instant(item["startTime"]), parse_instant(item["endTime"])
    offset = page.zone_offset(start)
    wall = civil(start, offset)
    return {"civil_date": wall.date().isoformat(), "start_time": utc_text(start), "end_time": utc_text(end),
            "utc_offset_s": offset, "civil_start_time": wall.isoformat(), "offset_source": ACCOUNT_TIME_ZONE}


def derived_name(row: Row) -> str:
    """The key of an identifiable point sent without a resource name: its source and start, stable across fetches."""
    return f"derived/{row.get('source_key') or 'none'}/{row.get('start_time') or row.get('sample_time')}"


def reference_row(page: PageState, item: Any) -> Row:
    ctx, plan = page.ctx, page.plan
    dt, read = plan.dt, plan.read
    if not isinstance(item, dict):
        raise UnexpectedResponse("a data point is not a JSON object")
    value = item.get(dt.json_key)
    if ctx.method in ROLLUPS:
        if ctx.method == "rollUp":
            row = rollup_time(item, page)
        else:
            row = {"civil_date": date_of(item["civilStartTime"]["date"]).isoformat()}
    else:
        if not isinstance(value, dict):
            raise UnexpectedResponse(f"data point lacks its '{dt.json_key}' value")
        if dt.record_type == "daily":
            row = {"civil_date": date_of(value["date"]).isoformat()}
        elif dt.record_type == "sample":
            row = _sample_time(page, value)
        else:
            row = _interval_time(page, value, dt.dated_by_end)
        if row.get("offset_source") == ACCOUNT_TIME_ZONE:
            page.note(OFFSETS_DERIVED)
        name = item.get("name") or item.get("dataPointName") or None
        if dt.named:
            row["data_point_name"] = name
        if dt.identifiable:
            row["name_derived"] = not name
        if read.with_source:
            row.update(source_columns(item.get("dataSource")))
        if dt.identifiable and not name:
            row["data_point_name"] = derived_name(row)
            page.note(NAMES_DERIVED)
    row["participant_id"] = ctx.participant
    if ctx.method in ROLLUPS and not isinstance(value, dict):
        for name, _ in plan.accessors:  # a window without its value object: not computed (NULL), not zero
            row[name] = None
    else:
        for name, get in plan.accessors:
            row[name] = read_value(get, value, page.note)
    row.update(page.lineage)
    return row


def reference_rows(ctx: PageContext, items: list[Any]) -> list[Row]:
    """The straightforward mapping, one row at a time: the specification ``parse_page`` is tested against."""
    page = PageState(ctx, read_plan(ctx.data_type, ctx.method))
    return [reference_row(page, item) for item in items]
