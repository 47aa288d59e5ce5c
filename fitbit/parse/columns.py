"""Column accessors: a value column's path compiled once into ``value object -> column value``.

Rules (API facts: ../shared/docs/google-health-api.md §2–3, checked 2026-11-23): int64 arrive as JSON
strings, doubles as numbers; zero scalars and false booleans may be omitted. A column is filled with
0/false only when its catalogue entry says the field is a true zero (or a proto3 boolean) and its parent
object is present; otherwise absence stays NULL. A path step may select one array element by a field
value (``activeMinutesByActivityLevel[activityLevel=LIGHT]``); a present array without that element
is that element's zero.

Values a column cannot hold are poison, not errors: doubles arrive as the JSON strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` on live accounts (``daily-sleep-temperature-derivations``, team spec
§12), which float() accepts and no load job does (NDJSON has no NaN; DuckDB averages turn NaN). The
converter raises ``PoisonValue``; ``read_value`` turns that into NULL and a count by kind, so one bad
value never costs its row or its page. Per-value isolation of other poison (INT64 bounds, timestamp
ranges, a ``rejected_points`` table) extends ``PoisonValue`` and ``finite``: keep the checks here.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any, Callable, Mapping

from fitbit.catalogue import ValueColumn
from fitbit.errors import UnexpectedResponse
from fitbit.parse.page import Row
from fitbit.timefmt import duration_seconds, parse_instant, utc_text

MISSING = object()
_NO_ELEMENT = object()  # the array exists but holds no element with the wanted value
_SELECTOR = re.compile(r"^(\w+)\[(\w+)=(\w+)\]$")

Getter = Callable[[Any], Any]
Note = Callable[[str], None]  # counts something about a page by kind (never a value)

NON_FINITE_NULLED = "non_finite_nulled"


class PoisonValue(ValueError):
    """A value its column cannot hold; the row keeps NULL in its place and the page counts ``kind``."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def finite(value: float) -> float:
    """``value`` if it is a finite number; NaN and infinities (``"NaN"``, ``"Infinity"``, a bare ``NaN``) are poison.

    Raises:
        PoisonValue: the value is not finite.
    """
    if not math.isfinite(value):
        raise PoisonValue(NON_FINITE_NULLED)
    return value


def finite_float(raw: Any) -> float:
    return finite(float(raw))


def read_value(get: Getter, value: Any, note: Note) -> Any:
    """``get(value)``, or NULL (noted by kind) when the value is poison for its column."""
    try:
        return get(value)
    except PoisonValue as poison:
        note(poison.kind)
        return None


def _step(key: str) -> Getter:
    match = _SELECTOR.match(key)
    if not match:
        return lambda obj: obj.get(key, MISSING) if isinstance(obj, dict) else MISSING
    array_key, field, wanted = match.groups()

    def select(obj: Any) -> Any:
        if not isinstance(obj, dict):
            return MISSING
        for element in obj.get(array_key) or ():
            if isinstance(element, dict) and element.get(field) == wanted:
                return element
        return _NO_ELEMENT

    return select


def converter(column: ValueColumn) -> Getter:
    """Raw JSON value -> column value (raises TypeError / ValueError on a value of the wrong shape)."""
    if column.conversion == "duration_s":
        if column.type == "INT64":
            return lambda v: int(finite(duration_seconds(v)))
        return lambda v: finite(duration_seconds(v))
    if column.conversion == "json":
        return lambda v: v
    by_type: dict[str, Getter] = {
        "INT64": int,
        "FLOAT64": finite_float,
        "STRING": str,
        "BOOL": bool,
        "TIMESTAMP": lambda v: utc_text(parse_instant(v)),
        "JSON": lambda v: v,
    }
    return by_type.get(column.type, str)


def absent_value(column: ValueColumn) -> Any:
    """What an absent field becomes: NULL, or the declared true zero (0 / false)."""
    if not column.zero_if_absent:
        return None
    return False if column.type == "BOOL" else 0


def compile_column(column: ValueColumn) -> Getter:
    """Return value_object -> column value (None when absent, 0/False for declared true zeros)."""
    steps = [_step(part) for part in column.path.split(".")]
    convert = converter(column)
    default = absent_value(column)
    parents, last = steps[:-1], steps[-1]

    def get(value: Any) -> Any:
        obj = value
        for step in parents:
            obj = step(obj)
            if obj is MISSING:
                return None
            if obj is _NO_ELEMENT:  # e.g. no MODERATE entry in a present point: that level's zero
                return default
        raw = last(obj)
        if raw is MISSING or raw is None:
            return default
        try:
            return convert(raw)
        except PoisonValue:
            raise
        except (TypeError, ValueError):
            raise UnexpectedResponse(f"field {column.path} has an unreadable value") from None

    return get


def source_key(source: Mapping[str, Any] | None) -> str:
    """A stable hash of a data source (device + platform + application); part of raw-sample keys."""
    if not source:
        return "none"
    return hashlib.sha1(json.dumps(source, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def source_columns(source: Mapping[str, Any] | None) -> Row:
    source = source or {}
    device = source.get("device") or {}
    app = source.get("application") or {}
    return {
        "source_key": source_key(source),
        "source_platform": source.get("platform"),
        "source_recording_method": source.get("recordingMethod"),
        "source_device": device.get("displayName"),
        "source_manufacturer": device.get("manufacturer"),
        "source_form_factor": device.get("formFactor"),
        "source_application": app.get("packageName") or app.get("googleWebClientId") or app.get("webClientId"),
    }
