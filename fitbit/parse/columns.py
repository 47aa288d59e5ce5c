"""Column accessors: a value column's path compiled once into ``value object -> column value``.

Rules (API facts: ../shared/docs/google-health-api.md §2–3, checked 2026-11-23): int64 arrive as JSON
strings, doubles as numbers; zero scalars and false booleans may be omitted. A column is filled with
0/false only when its catalogue entry says the field is a true zero (or a proto3 boolean) and its parent
object is present; otherwise absence stays NULL. A path step may select one array element by a field
value (``activeMinutesByActivityLevel[activityLevel=LIGHT]``); a present array without that element
is that element's zero.
"""

from __future__ import annotations

import hashlib
import json
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
        return (lambda v: int(duration_seconds(v))) if column.type == "INT64" else duration_seconds
    if column.conversion == "json":
        return lambda v: v
    by_type: dict[str, Getter] = {
        "INT64": int,
        "FLOAT64": float,
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
        "source_form_factor": device.get("formFactor"),
        "source_application": app.get("packageName") or app.get("googleWebClientId") or app.get("webClientId"),
    }
