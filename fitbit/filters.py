"""Filter expressions for ``list`` and ``:reconcile``, built from a catalogue entry.

API facts behind them (filters guide and discovery revision 20261030, checked 2026-11-23; team spec §1.4):

- only ``>=`` (inclusive) and ``<`` (exclusive) joined by ``AND``; literals in double quotes;
- the type appears in its snake_case spelling (a kebab-case name is a 400);
- civil bounds (``YYYY-MM-DD``) and physical bounds (RFC 3339 with ``Z``) must not be mixed in one
  expression, and the upper bound must be strictly greater than the lower (400 ``INVALID_TIME_RANGE``);
- the member depends on the record type: interval ``interval.civil_start_time`` / ``start_time``,
  sample ``sample_time.civil_time`` / ``physical_time``, daily ``date``, exercise
  ``interval.civil_start_time`` only, sleep ``interval.civil_end_time`` / ``end_time`` (a night is
  dated by the day it ends).

Builders are pure: they validate their inputs and raise ``ValueError`` with the reason, so a bad
window is caught before a request is spent on it. The expression shape is ``fitbit.calls.range_filter``;
a type's civil member is its catalogue entry's (``DataType.filter_member``).
"""

from __future__ import annotations

from datetime import date, datetime

from fitbit.calls import range_filter
from fitbit.catalogue import DataType, by_path_id
from fitbit.timefmt import physical_range

__all__ = ["civil_day_filter", "physical_member", "physical_time_filter"]


def _entry(data_type: DataType | str) -> DataType:
    return data_type if isinstance(data_type, DataType) else by_path_id(data_type)


def civil_day_filter(data_type: DataType | str, start: date, end: date) -> str:
    """The filter selecting the civil (local wall-clock) days ``[start, end)``.

    Args:
        data_type: a catalogue entry or its path id (``"steps"``).
        start: first day, inclusive.
        end: day after the last one (exclusive); must be later than ``start``.

    Returns:
        e.g. ``steps.interval.civil_start_time >= "2026-11-21" AND
        steps.interval.civil_start_time < "2026-11-22"`` (one line).

    Raises:
        ValueError: a bound is not a plain ``date`` or ``end`` is not after ``start``.
        KeyError: an unknown path id.
    """
    return _entry(data_type).civil_day_filter(start, end)


def physical_member(data_type: DataType | str) -> str:
    """The physical-time (UTC instant) filter member of a type.

    Raises:
        ValueError: the type has no physical-time member (daily types, exercise).
    """
    entry = _entry(data_type)
    f = entry.filter_id
    if entry.record_type == "sample":
        return f"{f}.sample_time.physical_time"
    if entry.record_type == "interval":
        return f"{f}.interval.start_time"
    if entry.record_type == "session" and entry.dated_by_end:
        return f"{f}.interval.end_time"
    raise ValueError(
        f"{entry.path_id} ({entry.record_type}) cannot be filtered on physical time; use civil_day_filter"
    )


def physical_time_filter(data_type: DataType | str, start: datetime, end: datetime) -> str:
    """The filter selecting points whose physical time lies in ``[start, end)``.

    Args:
        data_type: a catalogue entry or its path id (``"heart-rate"``).
        start: inclusive lower bound, timezone-aware.
        end: exclusive upper bound, timezone-aware, later than ``start``.

    Returns:
        e.g. ``heart_rate.sample_time.physical_time >= "2026-11-21T05:00:00Z" AND
        heart_rate.sample_time.physical_time < "2026-11-21T06:00:00Z"`` (one line).

    Raises:
        ValueError: naive bounds, ``end`` not after ``start``, or a type without a physical member.
    """
    return range_filter(physical_member(data_type), *physical_range(start, end))
