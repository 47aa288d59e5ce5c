"""The typed route: a data-points page decoded by msgspec straight into per-read Structs, rows built by column.

``json.loads`` builds a dict for every object of a page, including the fields no column reads (a 1-second
heart-rate point carries a civil time object and a whole data source); decoding into ``msgspec.Struct``
types generated from the catalogue's column paths skips the unread fields, checks the shapes the rows rely
on while decoding, and leaves values as attributes. Rows are then built one column at a time and stay
columns (``ColumnRows``: one list per column, a ``Constant`` for a value every point shares) up to the
staging writer: building a dict of 19 keys per row cost as much as the decode (issue #14). Sample times
come by whole columns (``fitbit.parse.samples``), data sources are parsed once per distinct raw text (once
per page when all its points share one), INT64 values converted once per distinct text.

The reference path stays the specification. This route takes only what it can prove equal to it: a page
that does not validate against the read's Structs, and any page with a point off the happy path (an
offset to derive from the zone, a name to derive, a poison value, a timestamp or value that does not
convert), is parsed again from its bytes by the existing path (``fitbit.parse`` → ``fast_rows`` →
``reference_row``), so its rows, counts, rejections and errors are exactly that path's
(tests/contract/test_parse_fast_path.py, tests/unit/test_parse_typed.py). Reads it does not cover (rollups,
selector and deeper paths, JSON / TIMESTAMP / duration columns: small pages) go to the existing path at
once: ``typed_read`` is None for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import cache
from operator import attrgetter
from typing import Any, Optional, Union

import msgspec
from msgspec import UNSET, Raw, Struct, UnsetType

from fitbit.catalogue import ValueColumn
from fitbit.catalogue.common import PARSED_LINEAGE
from fitbit.parse.columns import Getter, absent_value, converter, int64, source_columns
from fitbit.parse.fast import _Clock
from fitbit.parse.fetches import fetch_rows
from fitbit.parse.page import ColumnRows, Constant, PageContext, ParsedPage
from fitbit.parse.samples import Columns, canonical_intervals, canonical_samples
from fitbit.parse.reference import POINT, ROLLUPS, PageState, ReadPlan, date_of, read_plan

SOURCE_KEYS = ("source_key", "source_platform", "source_recording_method", "source_device",
               "source_manufacturer", "source_form_factor", "source_application")
_LEAF_TYPES: dict[str, Any] = {"INT64": Union[int, str, None], "FLOAT64": Union[float, str, None],
                               "STRING": Optional[str], "BOOL": Optional[bool]}
_NULL = Raw(b"null")


class OffPath(Exception):
    """A page this route does not handle: the existing path parses it instead."""


class Present(Struct, gc=False):
    """An object whose fields no column reads (a civil time): only its presence matters."""


_PRESENCE = Union[Present, None, UnsetType]


class SampleTime(Struct, gc=False):
    physicalTime: str
    utcOffset: Optional[str] = None
    civilTime: _PRESENCE = UNSET


class Interval(Struct, gc=False):
    startTime: str
    endTime: str
    startUtcOffset: Optional[str] = None
    endUtcOffset: Optional[str] = None
    civilStartTime: _PRESENCE = UNSET
    civilEndTime: _PRESENCE = UNSET


class CivilDate(Struct, gc=False):
    year: int
    month: int
    day: int


_TIME_FIELD = {"sample": ("sampleTime", SampleTime), "daily": ("date", CivilDate)}
_TIME_KEYS = {
    "sample": ("civil_date", "sample_time", "utc_offset_s", "civil_time", "offset_source"),
    "daily": ("civil_date",),
}
_INTERVAL_KEYS = ("civil_date", "start_time", "end_time", "start_utc_offset_s", "end_utc_offset_s",
                  "civil_start_time", "civil_end_time", "offset_source")



class TypedRead(Struct, frozen=True, gc=False):
    """The compiled typed decode of one (type, method): its page Struct and how its columns are made."""

    page: type
    value_attr: Callable[[Any], Any]
    values: tuple[tuple[str, Getter, Getter | None, Any], ...]  # name, get, convert (None: as decoded), default
    nested: tuple[tuple[str, Getter, Getter, Getter | None, Any], ...]  # name, parent, get, convert, default
    plan: ReadPlan


def _field_name(index: int) -> str:
    return f"f{index}"


def _value_struct(json_key: str, record_type: str, columns: tuple[ValueColumn, ...]) -> tuple[type, list, list] | None:
    """The value object's Struct: its time field and one field per column path (parents become Structs)."""
    leaves: dict[str, ValueColumn] = {}
    parents: dict[str, dict[str, ValueColumn]] = {}
    for column in columns:
        parts = column.path.split(".")
        if (column.conversion != "auto" or column.type not in _LEAF_TYPES or len(parts) > 2
                or any("[" in part for part in parts)):
            return None
        if len(parts) == 1:
            leaves[parts[0]] = column
        else:
            parents.setdefault(parts[0], {})[parts[1]] = column
    time_key = "interval" if record_type not in _TIME_FIELD else _TIME_FIELD[record_type][0]
    if (set(leaves) & set(parents)) or time_key in leaves or time_key in parents:
        return None
    time_type = Interval if record_type not in _TIME_FIELD else _TIME_FIELD[record_type][1]
    fields: list[tuple[str, Any, Any]] = [("time", time_type)]  # type: ignore[list-item]
    rename = {"time": time_key}
    plain, nested = [], []
    for index, (key, column) in enumerate(leaves.items()):
        rename[_field_name(index)] = key
        fields.append((_field_name(index), _LEAF_TYPES[column.type], None))
        plain.append((column, attrgetter(_field_name(index))))
    for index, (parent, children) in enumerate(parents.items(), start=len(leaves)):
        child_fields = [(_field_name(i), _LEAF_TYPES[c.type], None) for i, c in enumerate(children.values())]
        child = msgspec.defstruct(f"{json_key}_{parent}", child_fields, gc=False,
                                  rename={_field_name(i): k for i, k in enumerate(children)})
        rename[_field_name(index)] = parent
        fields.append((_field_name(index), Union[child, None, UnsetType], UNSET))
        parent_of = attrgetter(_field_name(index))  # one getter per parent: its children share one pass
        for i, column in enumerate(children.values()):
            nested.append((column, parent_of, attrgetter(_field_name(i))))
    return msgspec.defstruct(f"{json_key}_value", fields, gc=False, rename=rename), plain, nested


@cache
def typed_read(path_id: str, method: str) -> TypedRead | None:
    """The typed decode of a read, built once; None when this route does not cover the read."""
    plan = read_plan(path_id, method)
    dt = plan.dt
    if method in ROLLUPS or plan.items_key != "dataPoints" or dt.record_type not in ("sample", "interval", "daily"):
        return None
    built = _value_struct(dt.json_key, dt.record_type, plan.read.columns)
    if built is None:
        return None
    value, plain, nested = built
    point_fields: list[Any] = [("value", value)]
    rename = {"value": dt.json_key}
    if dt.named:
        point_fields += [("name", Optional[str], None), ("dataPointName", Optional[str], None)]
    if plan.read.with_source:
        point_fields.append(("dataSource", Raw, _NULL))
    names = [*_TIME_KEYS.get(dt.record_type, _INTERVAL_KEYS), *(("data_point_name",) if dt.named else ()),
             *(("name_derived",) if dt.identifiable else ()), *(SOURCE_KEYS if plan.read.with_source else ()),
             "participant_id", *(c.name for c, *_ in plain + nested), *PARSED_LINEAGE]
    if sorted(names) != sorted(plan.keys):
        return None  # a column this route would not fill
    point = msgspec.defstruct(f"{dt.json_key}_point", point_fields, gc=False, rename=rename)
    page = msgspec.defstruct(f"{dt.json_key}_page", [("dataPoints", list[point], []),  # type: ignore[valid-type]
                                                      ("nextPageToken", Optional[str], None)], gc=False)
    return TypedRead(page, attrgetter("value"),
                     tuple((c.name, get, _converter(c), absent_value(c)) for c, get in plain),
                     tuple((c.name, parent, get, _converter(c), absent_value(c)) for c, parent, get in nested), plan)


def _converter(column: ValueColumn) -> Callable[[Any], Any] | None:
    """The column's converter, or None where the Struct already decoded the value as the column holds it
    (``str`` of a str, ``bool`` of a bool)."""
    return None if column.type in ("STRING", "BOOL") else converter(column)


def typed_page(read: TypedRead, ctx: PageContext, body: bytes | str) -> ParsedPage | None:
    """The page parsed by the typed route, or None when the existing path must parse it."""
    try:
        decoded = decode(read, body)
        page = PageState(ctx, read.plan)
        rows = typed_rows(read, page, decoded.dataPoints)
    except Exception:  # noqa: BLE001 - any page off this route is parsed again by the existing path, which
        return None  # gives its rows, counts or error exactly
    token = decoded.nextPageToken or None
    return ParsedPage({read.plan.table: rows, **fetch_rows(ctx, read.plan, rows, token)}, decoded.dataPoints,
                      token, dict(page.counts))


def decode(read: TypedRead, body: bytes | str) -> Any:
    """The page decoded into the read's Structs (raises ``OffPath`` when it does not validate)."""
    try:
        return msgspec.json.decode(body, type=read.page)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise OffPath from None


def typed_rows(read: TypedRead, page: PageState, points: list[Any]) -> ColumnRows:
    """The rows of a decoded page as columns, in the reference path's key order; raises ``OffPath`` (or
    whatever a value raises) for a page the existing path must parse instead."""
    plan, ctx = read.plan, page.ctx
    if not points:
        return ColumnRows(plan.keys, {}, 0)
    values = list(map(read.value_attr, points))
    columns: Columns = _times(plan.dt.record_type, plan.dt.dated_by_end, values)
    if plan.dt.named:
        names = [p.name or p.dataPointName or None for p in points]
        if plan.dt.identifiable:
            if not all(names):
                raise OffPath  # a name to derive (and count): the reference path does it
            columns["name_derived"] = Constant(False)
        columns["data_point_name"] = names
    if plan.read.with_source:
        columns.update(_source_columns(points))
    columns["participant_id"] = Constant(ctx.participant)
    for name, get, convert, default in read.values:
        columns[name] = _column(list(map(get, values)), convert, default)
    parents_of: dict[Getter, list[Any]] = {}
    for name, parent_of, get, convert, default in read.nested:
        parents = parents_of.get(parent_of) or parents_of.setdefault(parent_of, list(map(parent_of, values)))
        try:
            children = list(map(get, parents))
        except AttributeError:  # a parent missing (NULL) or null (its fields' zeros): value by value
            columns[name] = [None if parent is UNSET else default if parent is None or (raw := get(parent)) is None
                             else _convert(convert, raw) for parent in parents]
        else:
            columns[name] = _column(children, convert, default)
    for name, stamp in page.lineage.items():
        columns[name] = Constant(stamp)
    return ColumnRows(plan.keys, columns, len(points))


def _column(raws: list[Any], convert: Callable[[Any], Any] | None, default: Any) -> Any:
    """A column from its decoded values (None: absent), by C-level maps when none is absent; one value on
    every point (a motion context, a sensor location) becomes a ``Constant``."""
    if convert is None and raws[0] is not None and raws.count(raws[0]) == len(raws):
        return Constant(raws[0])  # values of one type (a STRING or BOOL column), all equal
    if convert is int64:  # converted once per distinct value (out of range: raises, the page goes elsewhere)
        try:
            return list(map(_Ints().__getitem__, raws))
        except TypeError:  # int(None): a value absent
            pass
    if None in raws:
        return [default if raw is None else _convert(convert, raw) for raw in raws]
    return raws if convert is None else list(map(convert, raws))


class _Ints(dict):  # type: ignore[type-arg]
    """A decoded INT64 value (a number, or integers sent as strings) -> ``int64`` of it, computed on first use."""

    def __missing__(self, raw: Any) -> int:
        value = self[raw] = int64(raw)
        return value


def _convert(convert: Callable[[Any], Any] | None, raw: Any) -> Any:
    return raw if convert is None else convert(raw)


def _times(record_type: str, dated_by_end: bool, values: list[Any]) -> Columns:
    if record_type == "daily":
        return {"civil_date": [date_of_struct(v.time) for v in values]}
    clock = _Clock()
    if record_type == "sample":
        columns = canonical_samples(values)
        if columns is None:  # some point off the per-hour memo: each instant as the fast path reads it
            times = map(attrgetter("time"), values)
            stamps = [clock.instant(t.physicalTime, _offset(t.utcOffset, t.civilTime)) for t in times]
            columns = dict(zip(_TIME_KEYS["sample"], zip(*stamps)))
    else:
        columns = canonical_intervals(values, dated_by_end)
        if columns is None:
            spans = [_span(clock.instant, v.time, dated_by_end) for v in values]
            columns = dict(zip(_INTERVAL_KEYS, zip(*spans)))
    columns["offset_source"] = Constant(POINT)
    return columns


def date_of_struct(day: CivilDate) -> str:
    return date_of({"year": day.year, "month": day.month, "day": day.day}).isoformat()


def _offset(offset: str | None, civil: Any) -> str:
    """The point's own offset; proto3's omitted zero when it carries a civil time; else ``OffPath``
    (offsets from the participant's zone, counted: the reference path)."""
    if offset is not None:
        return offset
    if civil is None or civil is UNSET:
        raise OffPath
    return "0s"


def _span(instant: Callable[[str, Any], tuple[str, str, int, str]], span: Interval, dated_by_end: bool) -> tuple:
    start_offset, end_offset = span.startUtcOffset, span.endUtcOffset
    if start_offset is None or end_offset is None:
        civil = span.civilStartTime if span.civilStartTime not in (None, UNSET) else span.civilEndTime
        if start_offset is None and end_offset is None and civil in (None, UNSET):
            raise OffPath
        start_offset = "0s" if start_offset is None else start_offset
        end_offset = "0s" if end_offset is None else end_offset
    start_date, start, start_s, civil_start = instant(span.startTime, start_offset)
    end_date, end, end_s, civil_end = instant(span.endTime, end_offset)
    return (end_date if dated_by_end else start_date), start, end, start_s, end_s, civil_start, civil_end


_SOURCE = attrgetter("dataSource")


def _source_columns(points: list[Any]) -> Iterable[tuple[str, Any]]:
    """The data-source columns: ``Constant`` ones when every point carries the same source (the usual page)."""
    raws = list(map(_SOURCE, points))
    sources = _Sources()
    if raws.count(raws[0]) == len(raws):  # ``Raw`` compares its bytes: no copy of each point's source
        return zip(SOURCE_KEYS, map(Constant, sources[bytes(raws[0])]))
    return zip(SOURCE_KEYS, zip(*map(sources.__getitem__, map(bytes, raws))))


class _Sources(dict):  # type: ignore[type-arg]
    """A data source's raw JSON text -> its columns, parsed once per distinct text on a page (equal text,
    equal JSON)."""

    def __missing__(self, text: bytes) -> tuple[Any, ...]:
        columns = source_columns(json.loads(text))
        found = self[text] = tuple(columns[key] for key in SOURCE_KEYS)
        return found
