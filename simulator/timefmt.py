"""Wire formats for time, as the Google Health API writes and reads them.

Facts (discovery revision 20261030, checked 2026-11-23): instants are RFC 3339 UTC strings with
``Z`` (``google-datetime``); offsets and durations are ``google-duration`` strings, decimal seconds
plus ``s`` (``"3600s"``, ``"-18000s"``); civil times are ``CivilDateTime`` messages
``{"date": {year, month, day}, "time": {hours, minutes, seconds, nanos}}`` whose zero members are
omitted, so local midnight is ``"time": {}``. The simulator keeps every instant as integer epoch
seconds and every civil time as "naive epoch" seconds (the wall clock read as if it were UTC), so
``civil = physical + offset`` is plain integer arithmetic.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import date, datetime, timezone
from functools import lru_cache

DAY_S = 86400

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_CIVIL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2}))?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DURATION = re.compile(r"^(-?)(\d+)(?:\.(\d{1,9}))?s$")


@lru_cache(maxsize=1 << 14)
def _day(days: int) -> tuple[dict[str, int], str]:
    """Date message and ``YYYY-MM-DDT`` prefix of a day number (cached: pages repeat the same days).

    The date dict is shared between rendered points; responses are serialised, never mutated.
    """
    tm = time.gmtime(days * DAY_S)
    return {"year": tm.tm_year, "month": tm.tm_mon, "day": tm.tm_mday}, time.strftime("%Y-%m-%dT", tm)


# Issue #14: a day's points render ~450,000 instants and ~300,000 civil times per 30 participants; the
# time-of-day part of each is looked up (built once per second of the day used) instead of formatted.
_CLOCK_TEXT: dict[int, str] = {}
_CLOCK: dict[int, dict[str, int]] = {}


def _clock_text(second: int) -> str:
    hours, rest = divmod(second, 3600)
    minutes, seconds = divmod(rest, 60)
    text = _CLOCK_TEXT[second] = f"{hours:02d}:{minutes:02d}:{seconds:02d}Z"
    return text


def rfc3339(epoch: int) -> str:
    """Render an instant the way Google does: whole seconds, UTC, ``Z``."""
    days, rest = divmod(epoch, DAY_S)
    return _day(days)[1] + (_CLOCK_TEXT.get(rest) or _clock_text(rest))


def rfc3339_millis(epoch: int) -> str:
    """An instant as Health Connect data arrives through the API: millisecond precision."""
    return rfc3339(epoch)[:-1] + ".000Z"


def rfc3339_micros(epoch: int, micros: int) -> str:
    """createTime/updateTime carry microseconds on the live API; keep that texture."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{micros:06d}Z"


def parse_rfc3339(text: str) -> int | None:
    """Parse an RFC 3339 instant with a zone; fractions are truncated. None when malformed."""
    m = _RFC3339.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    try:
        datetime(y, mo, d, h, mi, s)  # noqa: DTZ001 - only checks the fields form a real calendar time
    except ValueError:
        return None
    epoch = calendar.timegm((y, mo, d, h, mi, s))
    zone = m.group(8)
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        epoch -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return epoch


def duration(seconds: int) -> str:
    return f"{seconds}s"


def parse_duration(text: str) -> float | None:
    """Parse a google-duration string ("60s", "0.5s", "-3s"). None when malformed."""
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m:
        return None
    value = int(m.group(2)) + (int(m.group(3).ljust(9, "0")) / 1e9 if m.group(3) else 0.0)
    return -value if m.group(1) else value


def date_dict(d: date) -> dict[str, int]:
    return {"year": d.year, "month": d.month, "day": d.day}


def civil_dict(naive: int) -> dict[str, dict[str, int]]:
    """CivilDateTime for a naive-epoch wall-clock time; zero members omitted, midnight is ``{}``."""
    days, rest = divmod(naive, DAY_S)
    clock = _CLOCK.get(rest)
    if clock is None:  # shared between rendered points, like the date: responses are never mutated
        hours, left = divmod(rest, 3600)
        minutes, seconds = divmod(left, 60)
        clock = _CLOCK[rest] = {k: v for k, v in (("hours", hours), ("minutes", minutes), ("seconds", seconds)) if v}
    return {"date": _day(days)[0], "time": clock}


def parse_civil(text: str) -> int | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS`` (no zone) as naive-epoch seconds. None if malformed."""
    m = _CIVIL.match(text)
    if not m:
        return None
    parts = [int(g) if g is not None else 0 for g in m.groups()]
    try:
        datetime(*parts)  # type: ignore[arg-type]  # noqa: DTZ001 - a civil time has no zone by design
    except ValueError:
        return None
    return calendar.timegm(tuple(parts))  # type: ignore[arg-type]


def parse_date(text: str) -> date | None:
    m = _DATE.match(text)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def naive_midnight(d: date) -> int:
    """Naive-epoch seconds of a civil date's midnight."""
    return calendar.timegm((d.year, d.month, d.day, 0, 0, 0))


def naive_date(naive: int) -> date:
    tm = time.gmtime(naive)
    return date(tm.tm_year, tm.tm_mon, tm.tm_mday)


def utc_datetime(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)
