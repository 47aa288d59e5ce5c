"""Unit kinds: everything a unit can ask for, each declaring how it is fetched, stored, parsed and followed up.

A work unit names its kind by ``(data_type, method)``. Three kinds exist, all answering the same questions
(``UnitKind``), so that extract, transform_load, the parser and the message decoder look the kind up
instead of switching on names:

- ``TypeRead``: one ``Read`` of a catalogue ``DataType`` (``steps`` / ``reconcile``): a data-point page;
- ``AccountRead``: a ``users.*`` read once per participant per run (``settings``, ``paired-devices``);
- ``Detail``: a per-data-point export a follow-up asks for (``exercise-tcx``): one object, stored once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo

from fitbit.calls import (
    DATA_POINTS,
    ApiCall,
    daily_roll_up_call,
    items_key,
    list_call,
    reconcile_call,
    roll_up_call,
)
from fitbit.catalogue.columns import ValueColumn
from fitbit.catalogue.common import CIVIL_DATE, LINEAGE, PARTICIPANT
from fitbit.catalogue.followups import NEXT_PAGE, FollowUp
from fitbit.catalogue.model import DataType, Read, TableSpec
from fitbit.errors import MalformedMessage
from fitbit.unit import Unit

__all__ = ["JSON", "AccountRead", "Detail", "PageFormat", "TypeRead", "UnitKind"]

JSON = "application/json"
# How the parser reads a raw page: data points through the compiled read (``fitbit.parse``), an
# account envelope by its value columns, or a TCX track export.
PageFormat = Literal["data-points", "account", "tcx"]


class UnitKind(Protocol):
    @property
    def name(self) -> str:
        """The unit's ``data_type`` in work messages."""

    @property
    def method(self) -> str: ...

    @property
    def scope(self) -> str:
        """The OAuth scope its request needs."""

    @property
    def table(self) -> TableSpec:
        """The warehouse table its page lands in."""

    @property
    def content_type(self) -> str:
        """The raw page's content type in the raw store."""

    @property
    def file_suffix(self) -> str: ...

    @property
    def page_format(self) -> PageFormat: ...

    @property
    def items_key(self) -> str | None:
        """The envelope array holding its items; None when the page is one object or a file."""

    @property
    def per_data_point(self) -> bool:
        """True for details: one object per data point, stored once (a re-export is skipped)."""

    @property
    def follow_ups(self) -> tuple[FollowUp, ...]: ...

    def call(self, unit: Unit, time_zone: str | None) -> ApiCall:
        """The single API request ``unit`` stands for (``time_zone``: the account's IANA zone, if known)."""


def _window(unit: Unit) -> tuple[date, date]:
    if unit.start is None or unit.end is None:
        raise MalformedMessage(f"unit {unit.label} has no window")
    return unit.start, unit.end


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


class _JsonPages:
    """Kinds whose pages are JSON envelopes, one object per page."""

    content_type: ClassVar[str] = JSON
    file_suffix: ClassVar[str] = ".json"
    per_data_point: ClassVar[bool] = False


@dataclass(frozen=True)
class TypeRead(_JsonPages):
    """One read of a data type as a unit kind (the pair a unit's ``data_type`` and ``method`` name)."""

    data_type: DataType
    read: Read

    page_format: ClassVar[PageFormat] = "data-points"

    @property
    def name(self) -> str:
        return self.data_type.path_id

    @property
    def method(self) -> str:
        return self.read.method

    @property
    def scope(self) -> str:
        return self.data_type.scope

    @cached_property
    def table(self) -> TableSpec:
        return self.data_type.table(self.read)

    @property
    def items_key(self) -> str | None:
        return items_key(DATA_POINTS + self.read.method)

    @property
    def follow_ups(self) -> tuple[FollowUp, ...]:
        return (NEXT_PAGE, *self.data_type.follow_ups)

    def call(self, unit: Unit, time_zone: str | None) -> ApiCall:
        """Civil-day filters for list / reconcile, civil dates for dailyRollUp, and local midnights in
        the account's zone (UTC when unknown) for rollUp, whose range is physical."""
        start, end = _window(unit)
        dt, read = self.data_type, self.read
        if read.method == "dailyRollUp":
            return daily_roll_up_call(dt.path_id, start=start, end=end, page_size=read.page_size,
                                      page_token=unit.page_token)
        if read.method == "rollUp":
            zone = ZoneInfo(time_zone or "UTC")
            return roll_up_call(dt.path_id, start=_local_midnight_utc(start, zone),
                                end=_local_midnight_utc(end, zone), window_size=read.window_size or "",
                                page_size=read.page_size, page_token=unit.page_token)
        build = list_call if read.method == "list" else reconcile_call
        return build(dt.path_id, filter=dt.civil_day_filter(start, end), page_size=read.page_size,
                     page_token=unit.page_token)


@dataclass(frozen=True)
class AccountRead(_JsonPages):
    """A ``users.*`` endpoint read once per participant per run; its rows are its items' value columns.

    ``build`` turns a page token into the request; the table is the participant, the civil day the
    read was made for, the value columns and the lineage.
    """

    name: str
    scope: str
    build: Callable[[str | None], ApiCall]
    table_name: str
    description: str
    values: tuple[ValueColumn, ...]
    key: tuple[str, ...]

    method: ClassVar[str] = "get"
    page_format: ClassVar[PageFormat] = "account"

    @cached_property
    def table(self) -> TableSpec:
        return TableSpec(self.table_name, self.description, (PARTICIPANT, CIVIL_DATE, *self.values, *LINEAGE),
                         self.key)

    @property
    def items_key(self) -> str | None:
        return self.build(None).items_key

    @property
    def follow_ups(self) -> tuple[FollowUp, ...]:
        return (NEXT_PAGE,)

    def call(self, unit: Unit, time_zone: str | None) -> ApiCall:
        return self.build(unit.page_token)


@dataclass(frozen=True)
class Detail:
    """A per-data-point export a follow-up asks for: one request, one file, one object ever per point."""

    name: str
    method: str
    scope: str
    build: Callable[[str], ApiCall]
    table: TableSpec
    content_type: str
    file_suffix: str
    page_format: PageFormat

    items_key: ClassVar[None] = None
    per_data_point: ClassVar[bool] = True
    follow_ups: ClassVar[tuple[FollowUp, ...]] = ()

    def call(self, unit: Unit, time_zone: str | None) -> ApiCall:
        if not unit.data_point:
            raise MalformedMessage(f"{self.name} unit {unit.label} names no data point")
        return self.build(unit.data_point)
