"""The shapes a data-type entry is made of, and the rules an entry must obey.

Why a model at all: every other part of the project (extract plan, parser, DDL, simulator generators,
docs) reads these objects instead of keeping its own list of data types, so adding a type touches one
entry. Entries validate themselves in ``__post_init__`` so a bad entry fails at import, not at 3 a.m.

API facts behind the enumerations (Google Health API v4, discovery revision 20261030, checked 2026-11-23):
record types interval / sample / daily / session; read methods list, reconcile, rollUp, dailyRollUp;
rollup range caps of 14 days (heart-rate, total-calories, active-minutes, calories-in-heart-rate-zone)
and 90 days otherwise (each entry declares its own: ``rollup_max_days``); page size 1440 default / 10000
max, 25 / 25 for sleep and exercise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, get_args

from fitbit import filters
from fitbit.calls import KEBAB_CASE, PAGE_SIZE_MAX
from fitbit.catalogue.columns import Column, ValueColumn
from fitbit.catalogue.common import DELETED_AT, LINEAGE, common_columns
from fitbit.catalogue.followups import FollowUp

RecordType = Literal["interval", "sample", "daily", "session"]
Method = Literal["list", "reconcile", "rollUp", "dailyRollUp"]
# Reads the scheduled daily run issues only when a setting switches them on (helper Settings, PlanOptions).
OptIn = Literal["heart_rate_seconds"]

RECORD_TYPES: frozenset[str] = frozenset(get_args(RecordType))
METHODS: frozenset[str] = frozenset(get_args(Method))
OPT_INS: frozenset[str] = frozenset(get_args(OptIn))

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
ACTIVITY = SCOPE_PREFIX + "activity_and_fitness.readonly"
HEALTH_METRICS = SCOPE_PREFIX + "health_metrics_and_measurements.readonly"
SLEEP = SCOPE_PREFIX + "sleep.readonly"
LOCATION = SCOPE_PREFIX + "location.readonly"
SETTINGS = SCOPE_PREFIX + "settings.readonly"

SESSION_PAGE_SIZE = 25
ROLLUP_CAP_SHORT_DAYS = 14
ROLLUP_CAP_LONG_DAYS = 90

_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")


def kebab_to_snake(name: str) -> str:
    return name.replace("-", "_")


def kebab_to_camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class TableSpec:
    """A warehouse table as the DDL generator and the loaders see it: every column, in order."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_field: str = "civil_date"
    cluster_fields: tuple[str, ...] = ("participant_id",)

    def __post_init__(self) -> None:
        if not _IDENT.match(self.name):
            raise ValueError(f"table {self.name!r}: table names are lower snake_case")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate columns")
        for wanted in (*self.key, self.partition_field, *self.cluster_fields):
            if wanted not in names:
                raise ValueError(f"table {self.name}: {wanted!r} is not a column")
        part = next(c for c in self.columns if c.name == self.partition_field)
        if part.type not in ("DATE", "TIMESTAMP"):
            raise ValueError(f"table {self.name}: partition field must be DATE or TIMESTAMP")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Read:
    """One way the pipeline reads a data type, and the table that read lands in.

    ``window_size`` is only for rollUp (a Duration string such as "60s"). ``opt_in`` names the setting
    that switches a read on; without one the scheduled daily run always issues it. Opt-in reads (1-second
    heart rate) are parsed and tested like any other.

    ``tracks_deletions``: the API has no tombstones (a deleted point simply stops appearing), so for this
    read every page records the keys it returned, and when all pages of a window's fetch are in, rows of the
    window the fetch no longer returned are marked ``deleted_at`` (``fitbit.parse.fetches``,
    ``helper/tombstones.py``). Only for ``list`` reads of session and sample types, whose keys are few.
    """

    method: Method
    table: str
    columns: tuple[ValueColumn, ...]
    key: tuple[str, ...]
    max_days: int
    page_size: int
    description: str
    window_size: str | None = None
    opt_in: OptIn | None = None
    with_source: bool = False
    tracks_deletions: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"read {self.table}: unknown method {self.method!r}")
        if not _IDENT.match(self.table):
            raise ValueError(f"read {self.table}: table names are lower snake_case")
        if not 1 <= self.page_size <= PAGE_SIZE_MAX:
            raise ValueError(f"read {self.table}: page size {self.page_size} outside 1..{PAGE_SIZE_MAX}")
        if self.max_days < 1:
            raise ValueError(f"read {self.table}: max_days must be positive")
        if (self.method == "rollUp") != (self.window_size is not None):
            raise ValueError(f"read {self.table}: window_size is required for rollUp and only for rollUp")
        if self.window_size is not None and not re.match(r"^[1-9][0-9]*s$", self.window_size):
            raise ValueError(f"read {self.table}: window_size must be whole seconds like '60s'")
        if self.with_source and self.method != "list":
            raise ValueError(f"read {self.table}: only list returns dataSource provenance")
        if self.tracks_deletions and self.method != "list":
            raise ValueError(f"read {self.table}: deletions are detected on list reads only")
        if self.opt_in is not None and self.opt_in not in OPT_INS:
            raise ValueError(f"read {self.table}: unknown opt-in setting {self.opt_in!r}")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"read {self.table}: duplicate column names")


@dataclass(frozen=True)
class DataType:
    """One Google Health data type: its three spellings, its time shape, how we read it, what follows.

    ``rollup_max_days`` is the API's cap on a rollUp / dailyRollUp range for this type (14 or 90 days).
    ``follow_ups`` are the units a loaded page of any of its reads implies (see ``followups``).
    ``identifiable`` types are keyed by their resource name; ``named`` ones carry it without being keyed by
    it (live ``list`` answers name weight and body-fat samples too).
    """

    path_id: str
    record_type: RecordType
    scope: str
    reads: tuple[Read, ...]
    description: str
    follow_ups: tuple[FollowUp, ...] = ()
    true_zeros: bool = False
    summed_daily: bool = False
    has_data_point_schema: bool = True
    identifiable: bool = False
    named: bool = False
    dated_by_end: bool = False
    rollup_max_days: int = ROLLUP_CAP_LONG_DAYS
    # Google pushes change notifications for this type (discovery 20261030, Subscription.dataTypes).
    webhook: bool = False
    filter_id: str = field(default="")
    json_key: str = field(default="")

    def __post_init__(self) -> None:
        if not KEBAB_CASE.match(self.path_id):
            raise ValueError(f"{self.path_id!r}: path ids are kebab-case")
        # The other two spellings are derived unless the API deviates; they must still be well formed.
        if not self.filter_id:
            object.__setattr__(self, "filter_id", kebab_to_snake(self.path_id))
        if not self.json_key:
            object.__setattr__(self, "json_key", kebab_to_camel(self.path_id))
        if not _SNAKE.match(self.filter_id):
            raise ValueError(f"{self.path_id}: filter id {self.filter_id!r} must be snake_case")
        if not _CAMEL.match(self.json_key):
            raise ValueError(f"{self.path_id}: JSON key {self.json_key!r} must be camelCase")
        if self.record_type not in RECORD_TYPES:
            raise ValueError(f"{self.path_id}: unknown record type {self.record_type!r}")
        if not self.scope.startswith(SCOPE_PREFIX) or not self.scope.endswith(".readonly"):
            raise ValueError(f"{self.path_id}: scope must be a googlehealth.*.readonly scope")
        if self.rollup_max_days not in (ROLLUP_CAP_SHORT_DAYS, ROLLUP_CAP_LONG_DAYS):
            raise ValueError(f"{self.path_id}: the API caps rollups at {ROLLUP_CAP_SHORT_DAYS} or "
                             f"{ROLLUP_CAP_LONG_DAYS} days")
        if not self.reads:
            raise ValueError(f"{self.path_id}: at least one read is required")
        for read in self.reads:
            self._check_read(read)
        if self.identifiable:
            object.__setattr__(self, "named", True)
        if self.summed_daily and not any(r.method == "dailyRollUp" for r in self.reads):
            raise ValueError(f"{self.path_id}: a summed type needs a dailyRollUp read for its daily total")

    def _check_read(self, read: Read) -> None:
        where = f"{self.path_id} / {read.table}"
        if not self.has_data_point_schema and read.method in ("list", "reconcile"):
            raise ValueError(f"{where}: this type has no DataPoint schema, only rollups can read it")
        if read.method in ("rollUp", "dailyRollUp"):
            if read.max_days > self.rollup_max_days:
                raise ValueError(f"{where}: rollup window {read.max_days} d exceeds the API cap of "
                                 f"{self.rollup_max_days} d")
            if self.record_type not in ("interval", "sample"):
                raise ValueError(f"{where}: only interval and sample types roll up")
        if self.record_type == "session" and read.page_size > SESSION_PAGE_SIZE:
            raise ValueError(f"{where}: sessions page at most {SESSION_PAGE_SIZE}")
        available = {c.name for c in self.leading_columns(read)} | {c.name for c in read.columns}
        missing = [k for k in read.key if k not in available]
        if missing:
            raise ValueError(f"{where}: key columns {missing} are not columns of the table")
        if read.tracks_deletions:
            if self.record_type not in ("session", "sample"):
                raise ValueError(f"{where}: deletions are tracked for session and sample types only")
            types = {c.name: c.type for c in (*self.leading_columns(read), *read.columns)}
            rest = [types[k] for k in read.key if k != "participant_id"]
            if read.key[0] != "participant_id" or sorted(rest) not in (["STRING"], ["STRING", "TIMESTAMP"]):
                raise ValueError(f"{where}: a read that tracks deletions is keyed by participant_id, one STRING "
                                 "and at most one TIMESTAMP column (the fetched keys table holds those)")
        for follow_up in self.follow_ups:
            lacking = [c for c in follow_up.row_columns if c not in available]
            if lacking:
                raise ValueError(f"{where}: follow-up {follow_up.description!r} reads {lacking}, not columns here")

    @property
    def filter_member(self) -> str:
        """The civil-time filter member that selects a user's local day (``fitbit.filters``)."""
        return filters.civil_member(self.filter_id, self.record_type, self.dated_by_end)

    def civil_day_filter(self, start: date, end: date) -> str:
        """The filter selecting the civil (local wall-clock) days ``[start, end)`` of this type, e.g.
        ``steps.interval.civil_start_time >= "2026-11-21" AND steps.interval.civil_start_time < "2026-11-22"``.

        Raises:
            ValueError: a bound is not a plain ``date`` or ``end`` is not after ``start``.
        """
        return filters.civil_filter(self.filter_member, start, end)

    def physical_time_filter(self, start: datetime, end: datetime) -> str:
        """The filter selecting points whose physical time lies in ``[start, end)`` (aware bounds).

        Raises:
            ValueError: naive bounds, ``end`` not after ``start``, or a type without a physical member
                (daily types, exercise).
        """
        member = filters.physical_member(self.filter_id, self.record_type, self.dated_by_end)
        return filters.physical_filter(member, start, end)

    @property
    def daily_read(self) -> Read | None:
        return next((r for r in self.reads if r.method == "dailyRollUp"), None)

    def leading_columns(self, read: Read) -> tuple[Column, ...]:
        """The columns every row of ``read`` carries before its value columns."""
        return common_columns(self.record_type, read.method, identifiable=self.identifiable,
                              with_source=read.with_source, named=self.named)

    def table(self, read: Read) -> TableSpec:
        """The warehouse table ``read`` lands in: leading columns, value columns, lineage (and ``deleted_at``
        when the read tracks deletions)."""
        tail = (DELETED_AT,) if read.tracks_deletions else ()
        return TableSpec(read.table, read.description,
                         (*self.leading_columns(read), *read.columns, *LINEAGE, *tail), read.key)
