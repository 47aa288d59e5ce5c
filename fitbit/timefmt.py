"""Instants, durations and day ranges as the API writes them, and the one way this project writes a UTC instant.

API facts (discovery revision 20261030, checked 2026-11-23): instants are RFC 3339 (``google-datetime``,
``Z`` or an offset, up to nine fractional digits); durations are protobuf Duration strings such as
``"-18000s"`` (``google-duration``); civil days are ``YYYY-MM-DD``.

``utc_text`` is the single spelling of a UTC instant everywhere the project writes one: warehouse rows,
work messages, raw-object metadata and request bodies. It keeps microseconds when there are any
(``2026-11-21T07:15:22.481000Z``) and none otherwise (``2026-11-21T07:15:22Z``), and refuses a naive
datetime, whose instant would be a guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

__all__ = ["civil_range", "duration_seconds", "parse_instant", "physical_range", "utc_text"]


def utc_text(moment: datetime) -> str:
    """``moment`` as RFC 3339 in UTC with ``Z``.

    Raises:
        ValueError: ``moment`` is not a datetime or is naive.
    """
    if not isinstance(moment, datetime):
        raise ValueError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} is naive: physical times need a time zone (use UTC)")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant (``Z`` or an offset) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def duration_seconds(text: Any) -> float:
    """A protobuf Duration (``"3600s"``) as seconds; plain numbers pass through.

    Raises:
        ValueError: anything else.
    """
    if isinstance(text, (int, float)):
        return float(text)
    if not isinstance(text, str) or not text.endswith("s"):
        raise ValueError(f"not a protobuf Duration: {text!r}")
    return float(text[:-1])


def civil_range(start: date, end: date) -> tuple[str, str]:
    """Validate civil days ``[start, end)`` and return them as ``YYYY-MM-DD``.

    Raises:
        ValueError: a bound is not a plain ``date`` or ``end`` is not after ``start``.
    """
    for name, value in (("start", start), ("end", end)):
        # datetime is a subclass of date; accepting it would silently drop the time of day.
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"{name} must be a datetime.date (a civil day), got {type(value).__name__}")
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start}): the end day is exclusive")
    return start.isoformat(), end.isoformat()


def physical_range(start: datetime, end: datetime) -> tuple[str, str]:
    """Validate instants ``[start, end)`` and return them as UTC texts.

    Raises:
        ValueError: a naive bound or ``end`` not after ``start``.
    """
    low, high = utc_text(start), utc_text(end)
    if end <= start:
        raise ValueError(f"end ({high}) must be after start ({low}): the upper bound is exclusive")
    return low, high
