"""Filter expressions for ``list`` and ``:reconcile``: which member selects a type's days or instants.

API facts behind them (filters guide and discovery revision 20261030, checked 2026-11-23; team spec §1.4):

- only ``>=`` (inclusive) and ``<`` (exclusive) joined by ``AND``; literals in double quotes;
- the type appears in its snake_case spelling (a kebab-case name is a 400);
- civil bounds (``YYYY-MM-DD``) and physical bounds (RFC 3339 with ``Z``) must not be mixed in one
  expression, and the upper bound must be strictly greater than the lower (400 ``INVALID_TIME_RANGE``);
- the member depends on the record type: interval ``interval.civil_start_time`` / ``start_time``,
  sample ``sample_time.civil_time`` / ``physical_time``, daily ``date``, exercise
  ``interval.civil_start_time`` only, sleep ``interval.civil_end_time`` / ``end_time`` (a night is
  dated by the day it ends).

Pure functions of a type's filter spelling and time shape; a catalogue entry applies them
(``DataType.civil_day_filter``, ``DataType.physical_time_filter``). Bounds are validated and a bad one
raises ``ValueError`` with the reason, so a bad window is caught before a request is spent on it.
"""

from __future__ import annotations

from datetime import date, datetime

from fitbit.timefmt import civil_range, physical_range

__all__ = ["civil_filter", "civil_member", "physical_filter", "physical_member", "range_filter"]


def range_filter(member: str, low: str, high: str) -> str:
    """``member >= "low" AND member < "high"``: the one filter shape the pipeline sends."""
    return f'{member} >= "{low}" AND {member} < "{high}"'


def civil_member(filter_id: str, record_type: str, dated_by_end: bool) -> str:
    """The civil-time member that selects a user's local day (filters guide, §1.4)."""
    if record_type == "daily":
        return f"{filter_id}.date"
    if record_type == "sample":
        return f"{filter_id}.sample_time.civil_time"
    if dated_by_end:
        return f"{filter_id}.interval.civil_end_time"
    return f"{filter_id}.interval.civil_start_time"


def physical_member(filter_id: str, record_type: str, dated_by_end: bool) -> str:
    """The physical-time (UTC instant) member of a type.

    Raises:
        ValueError: the type has no physical-time member (daily types, exercise).
    """
    if record_type == "sample":
        return f"{filter_id}.sample_time.physical_time"
    if record_type == "interval":
        return f"{filter_id}.interval.start_time"
    if record_type == "session" and dated_by_end:
        return f"{filter_id}.interval.end_time"
    raise ValueError(f"{filter_id} ({record_type}) cannot be filtered on physical time; use civil_day_filter")


def civil_filter(member: str, start: date, end: date) -> str:
    """The civil days ``[start, end)`` of ``member``.

    Raises:
        ValueError: a bound is not a plain ``date`` or ``end`` is not after ``start``.
    """
    return range_filter(member, *civil_range(start, end))


def physical_filter(member: str, start: datetime, end: datetime) -> str:
    """The instants ``[start, end)`` of ``member``.

    Raises:
        ValueError: naive bounds or ``end`` not after ``start``.
    """
    return range_filter(member, *physical_range(start, end))
