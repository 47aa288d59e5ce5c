"""Warehouse columns: a ``Column`` is what the DDL sees; a ``ValueColumn`` also says where its value comes from.

Two kinds on purpose. Value columns are read from the API's value object by ``path`` (the parser compiles
the path once per read); every other column (participant, civil date, time, source, lineage, TCX track
points, the processing log) is filled by the code that owns it, so it has no path at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = ["BQ_TYPES", "BqType", "Column", "Conversion", "ValueColumn", "value_column"]

BqType = Literal["STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATETIME", "DATE", "JSON"]
# How a raw JSON value becomes a column value. "duration_s" turns "3600s" into 3600.0.
Conversion = Literal["auto", "duration_s", "json", "civil_date"]

BQ_TYPES: frozenset[str] = frozenset(get_args(BqType))

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
# A column path: dotted keys, each optionally selecting one array element by a field value,
# e.g. "activeMinutesByActivityLevel[activityLevel=LIGHT].activeMinutes".
_PATH_STEP = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\[[A-Za-z][A-Za-z0-9]*=[A-Z0-9_]+\])?$")


@dataclass(frozen=True)
class Column:
    """One warehouse column: name, BigQuery type and the description that lands in the DDL."""

    name: str
    type: BqType
    description: str

    def __post_init__(self) -> None:
        if not _IDENT.match(self.name):
            raise ValueError(f"column name {self.name!r} must be lower snake_case")
        if self.type not in BQ_TYPES:
            raise ValueError(f"column {self.name}: unknown BigQuery type {self.type!r}")
        if not self.description:
            raise ValueError(f"column {self.name}: a description is required (it lands in the DDL)")


@dataclass(frozen=True)
class ValueColumn(Column):
    """A column fed from the API's value object.

    ``path`` is read relative to the value object (the union key's object for data points, the
    rollup value for rollups, the item for account reads). ``zero_if_absent`` is only for fields the API
    documents as true zeros and for proto3 booleans (proto3 JSON omits zeros and false); it applies only
    when the field's parent object is present. Every other absent field stays NULL: absence is not zero.
    """

    path: str
    conversion: Conversion = "auto"
    zero_if_absent: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not all(_PATH_STEP.match(step) for step in self.path.split(".")):
            raise ValueError(f"column {self.name}: malformed path {self.path!r}")
        if self.conversion == "duration_s" and self.type not in ("FLOAT64", "INT64"):
            raise ValueError(f"column {self.name}: durations are stored as seconds (FLOAT64 or INT64)")
        if self.conversion == "json" and self.type != "JSON":
            raise ValueError(f"column {self.name}: json conversion needs a JSON column")
        if self.zero_if_absent and self.type not in ("INT64", "FLOAT64", "BOOL"):
            raise ValueError(f"column {self.name}: only numeric and boolean columns default when absent")


def value_column(name: str, type_: BqType, path: str, description: str, *, conversion: Conversion = "auto",
                 zero_if_absent: bool = False) -> ValueColumn:
    """A ``ValueColumn`` in the order entries read best: name, type, API path, description."""
    return ValueColumn(name, type_, description, path, conversion, zero_if_absent)
