"""The shapes a catalogue entry is made of, and the rules an entry must obey.

Why a model at all: every other part of the project (extract plan, parser, DDL, simulator generators,
docs) reads these objects instead of keeping its own list of data types, so adding a type touches one
entry. Entries validate themselves in ``__post_init__`` so a bad entry fails at import, not at 3 a.m.

API facts behind the enumerations (Google Health API v4, discovery revision 20261030, checked 2026-11-23):
record types interval / sample / daily / session; read methods list, reconcile, rollUp, dailyRollUp;
rollup range caps of 14 days (heart-rate, total-calories, active-minutes, calories-in-heart-rate-zone)
and 90 days otherwise; page size 1440 default / 10000 max, 25 / 25 for sleep and exercise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, get_args

RecordType = Literal["interval", "sample", "daily", "session"]
Method = Literal["list", "reconcile", "rollUp", "dailyRollUp"]
BqType = Literal["STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATETIME", "DATE", "JSON"]
# How a raw JSON value becomes a column value. "duration_s" turns "3600s" into 3600.0.
Conversion = Literal["auto", "duration_s", "json", "civil_date"]
FollowUpKind = Literal["exercise_tcx", "sleep_refetch"]

RECORD_TYPES: frozenset[str] = frozenset(get_args(RecordType))
METHODS: frozenset[str] = frozenset(get_args(Method))
BQ_TYPES: frozenset[str] = frozenset(get_args(BqType))

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
PAGE_SIZE_MAX = 10000
SESSION_PAGE_SIZE = 25
ROLLUP_CAP_SHORT_DAYS = 14
ROLLUP_CAP_LONG_DAYS = 90
# Types whose rollup range is capped at 14 days by the API (discovery, RollUpDataPointsRequest.range).
SHORT_ROLLUP_TYPES = frozenset({"heart-rate", "total-calories", "active-minutes", "calories-in-heart-rate-zone"})

_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
# A column path: dotted keys, each optionally selecting one array element by a field value,
# e.g. "activeMinutesByActivityLevel[activityLevel=LIGHT].activeMinutes".
_PATH_STEP = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\[[A-Za-z][A-Za-z0-9]*=[A-Z0-9_]+\])?$")


def kebab_to_snake(name: str) -> str:
    return name.replace("-", "_")


def kebab_to_camel(name: str) -> str:
    head, *rest = name.split("-")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class Column:
    """One warehouse column fed from the API's value object.

    ``path`` is read relative to the value object (the union key's object for data points, the
    rollup value for rollups). ``zero_if_absent`` is only for fields the API documents as true zeros
    and for proto3 booleans (proto3 JSON omits zeros and false); it applies only when the field's
    parent object is present. Every other absent field stays NULL: absence is not zero.
    """

    name: str
    type: BqType
    path: str
    description: str
    conversion: Conversion = "auto"
    zero_if_absent: bool = False

    def __post_init__(self) -> None:
        if not _IDENT.match(self.name):
            raise ValueError(f"column name {self.name!r} must be lower snake_case")
        if self.type not in BQ_TYPES:
            raise ValueError(f"column {self.name}: unknown BigQuery type {self.type!r}")
        if not all(_PATH_STEP.match(step) for step in self.path.split(".")):
            raise ValueError(f"column {self.name}: malformed path {self.path!r}")
        if not self.description:
            raise ValueError(f"column {self.name}: a description is required (it lands in the DDL)")
        if self.conversion == "duration_s" and self.type not in ("FLOAT64", "INT64"):
            raise ValueError(f"column {self.name}: durations are stored as seconds (FLOAT64 or INT64)")
        if self.conversion == "json" and self.type != "JSON":
            raise ValueError(f"column {self.name}: json conversion needs a JSON column")
        if self.zero_if_absent and self.type not in ("INT64", "FLOAT64", "BOOL"):
            raise ValueError(f"column {self.name}: only numeric and boolean columns default when absent")


@dataclass(frozen=True)
class Read:
    """One way the pipeline reads a data type, and the table that read lands in.

    ``window_size`` is only for rollUp (a Duration string such as "60s"). ``in_daily_plan`` says
    whether the scheduled daily run issues this read; opt-in reads (1-second heart rate) are still
    parsed and tested, and can be switched on by setting.
    """

    method: Method
    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    max_days: int
    page_size: int
    description: str
    window_size: str | None = None
    in_daily_plan: bool = True
    with_source: bool = False

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
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"read {self.table}: duplicate column names")


@dataclass(frozen=True)
class FollowUp:
    """A detail request a loaded page implies, declared here rather than emitted ad hoc.

    exercise_tcx: each exercise with GPS gets its TCX track exported (exportExerciseTcx).
    sleep_refetch: a sleep whose ``metadata.processed`` is not true is re-read after a delay,
    because Google rewrites it in place once staging finishes.
    """

    kind: FollowUpKind
    description: str
    scope: str | None = None


@dataclass(frozen=True)
class DataType:
    """One Google Health data type: its three spellings, its time shape and how we read it."""

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
    dated_by_end: bool = False
    # Google pushes change notifications for this type (discovery 20261030, Subscription.dataTypes).
    webhook: bool = False
    filter_id: str = field(default="")
    json_key: str = field(default="")

    def __post_init__(self) -> None:
        if not _KEBAB.match(self.path_id):
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
        if not self.reads:
            raise ValueError(f"{self.path_id}: at least one read is required")
        for read in self.reads:
            self._check_read(read)
        if self.summed_daily and not any(r.method == "dailyRollUp" for r in self.reads):
            raise ValueError(f"{self.path_id}: a summed type needs a dailyRollUp read for its daily total")

    def _check_read(self, read: Read) -> None:
        where = f"{self.path_id} / {read.table}"
        if not self.has_data_point_schema and read.method in ("list", "reconcile"):
            raise ValueError(f"{where}: this type has no DataPoint schema, only rollups can read it")
        if read.method in ("rollUp", "dailyRollUp"):
            cap = ROLLUP_CAP_SHORT_DAYS if self.path_id in SHORT_ROLLUP_TYPES else ROLLUP_CAP_LONG_DAYS
            if read.max_days > cap:
                raise ValueError(f"{where}: rollup window {read.max_days} d exceeds the API cap of {cap} d")
            if self.record_type not in ("interval", "sample"):
                raise ValueError(f"{where}: only interval and sample types roll up")
        expected_page = SESSION_PAGE_SIZE if self.record_type == "session" else None
        if expected_page and read.page_size > expected_page:
            raise ValueError(f"{where}: sessions page at most {expected_page}")
        available = {c.name for c in read.columns} | set(self.common_columns(read))
        missing = [k for k in read.key if k not in available]
        if missing:
            raise ValueError(f"{where}: key columns {missing} are not columns of the table")

    @property
    def filter_member(self) -> str:
        """The civil-time filter member that selects a user's local day (filters guide, §1.4)."""
        if self.record_type == "daily":
            return f"{self.filter_id}.date"
        if self.record_type == "sample":
            return f"{self.filter_id}.sample_time.civil_time"
        if self.dated_by_end:
            return f"{self.filter_id}.interval.civil_end_time"
        return f"{self.filter_id}.interval.civil_start_time"

    @property
    def daily_read(self) -> Read | None:
        return next((r for r in self.reads if r.method == "dailyRollUp"), None)

    def common_columns(self, read: Read) -> tuple[str, ...]:
        """Names of the columns every row of this read carries besides its value columns."""
        from fitbit.catalogue.common import common_column_names

        return common_column_names(self, read)


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
