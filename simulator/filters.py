"""The AIP-160 subset the data-point ``filter`` parameter accepts, with the API's error reasons.

Grammar (discovery ListDataPointsRequest.filter, filters guide; checked 2026-11-23):
``restriction (AND restriction)*`` where a restriction is ``<member> (>= | <) "<literal>"``.
Members, by record type of the collection (type ids are snake_case):

- interval: ``{t}.interval.start_time`` (RFC 3339 with zone), ``{t}.interval.civil_start_time``
- sample: ``{t}.sample_time.physical_time``, ``{t}.sample_time.civil_time``
- daily: ``{t}.date`` (``YYYY-MM-DD``)
- session: ``exercise.interval.civil_start_time``; sleep ``sleep.interval.end_time`` /
  ``sleep.interval.civil_end_time`` (sleep is selected by when it ended)

Civil literals are ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS``. Physical and civil bounds cannot be
mixed; the upper bound must exceed the lower. ``OR`` is rejected everywhere (the guide forbids it;
discovery mentions it for sleep only, and no client needs it). Every failure is 400
``INVALID_ARGUMENT`` with reason ``INVALID_DATA_POINT_FILTER`` and the specific cause in
``metadata.detailedReasons``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from fitbit.catalogue import DATA_TYPES, DataType
from simulator.errors import filter_error
from simulator.timefmt import naive_midnight, parse_civil, parse_date, parse_rfc3339

_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<op>>=|<=|!=|>|<|=|:)|(?P<paren>[()])|'
                    r'(?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)|(?P<bare>[0-9][0-9A-Za-z:.+\-]*))')
_KNOWN_SNAKE = {dt.filter_id for dt in DATA_TYPES} | {
    "active_energy_burned", "activity_level", "basal_energy_burned", "blood_glucose", "core_body_temperature",
    "electrocardiogram", "height", "hydration_log", "nutrition_log", "vo2_max", "run_vo2_max",
    "swim_lengths_data", "calories_in_heart_rate_zone", "respiratory_rate_sleep_summary",
}


@dataclass(frozen=True)
class TimeFilter:
    """A parsed filter: which time of a record it bounds, in which clock, and the bounds."""

    field: str  # start | end | sample | date
    civil: bool  # civil (naive wall clock) or physical (UTC instant); dates count as civil
    lo: int | None
    hi: int | None

    def admits(self, value: int) -> bool:
        return (self.lo is None or value >= self.lo) and (self.hi is None or value < self.hi)


def members(dt: DataType) -> dict[str, tuple[str, str]]:
    """Allowed member paths (after ``{t}.``) -> (field, clock) for a data type."""
    if dt.record_type == "interval":
        return {"interval.start_time": ("start", "physical"), "interval.civil_start_time": ("start", "civil")}
    if dt.record_type == "sample":
        return {"sample_time.physical_time": ("sample", "physical"), "sample_time.civil_time": ("sample", "civil")}
    if dt.record_type == "daily":
        return {"date": ("date", "date")}
    if dt.dated_by_end:
        return {"interval.end_time": ("end", "physical"), "interval.civil_end_time": ("end", "civil")}
    return {"interval.civil_start_time": ("start", "civil")}


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise filter_error(f"Invalid filter syntax near position {pos}.", "INVALID_DATA_POINT_FILTER_SYNTAX")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _literal(clock: str, raw: str) -> int:
    if clock == "physical":
        value = parse_rfc3339(raw)
    elif clock == "civil":
        value = parse_civil(raw)
    else:
        d = parse_date(raw)
        value = naive_midnight(d) if d else None
    if value is None:
        expected = {"physical": "an RFC-3339 timestamp with a time zone", "civil": "YYYY-MM-DD[THH:mm:ss]",
                    "date": "YYYY-MM-DD"}[clock]
        raise filter_error(f"Invalid literal \"{raw}\": expected {expected}.",
                           "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE")
    return value


def parse_filter(text: str, dt: DataType, reject_sleep_filters: bool = False) -> TimeFilter | None:
    """Parse ``text`` for collection ``dt``; None for an empty filter.

    Raises:
        ApiError: 400 INVALID_ARGUMENT / INVALID_DATA_POINT_FILTER with a detailed reason.
    """
    if not text.strip():
        return None
    if reject_sleep_filters and dt.path_id == "sleep":
        raise filter_error("Filtering is not supported for the sleep data type.",
                           "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER")
    toks = _tokens(text)
    allowed = members(dt)
    bounds: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    i = 0
    while True:
        if i >= len(toks):
            raise filter_error("Unexpected end of filter.", "INVALID_DATA_POINT_FILTER_UNEXPECTED_END_OF_INPUT")
        kind, member = toks[i]
        if kind == "paren" or (kind == "word" and member in ("OR", "NOT")):
            raise filter_error("Only restrictions joined by AND are supported.",
                               "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE")
        if kind != "word":
            raise filter_error(f"Unexpected token {member}.", "INVALID_DATA_POINT_FILTER_UNEXPECTED_TOKEN")
        type_part, _, path = member.partition(".")
        if "-" in type_part:
            raise filter_error(f"Invalid data type {type_part!r} in filter: use the snake_case id.")
        if type_part != dt.filter_id:
            reason = ("INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH" if type_part in _KNOWN_SNAKE
                      else "INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION")
            raise filter_error(f"Filter field {member} does not belong to collection {dt.path_id}.", reason)
        if path not in allowed:
            raise filter_error(f"Unsupported filter field {member} for data type {dt.path_id}.",
                               "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER")
        if i + 2 >= len(toks):
            raise filter_error("Unexpected end of filter.", "INVALID_DATA_POINT_FILTER_UNEXPECTED_END_OF_INPUT")
        (okind, op), (vkind, raw) = toks[i + 1], toks[i + 2]
        if okind != "op":
            raise filter_error(f"Expected a comparator after {member}.", "INVALID_DATA_POINT_FILTER_UNEXPECTED_TOKEN")
        if op not in (">=", "<"):
            raise filter_error(f"Unsupported comparator {op}: only >= and < are allowed.",
                               "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARATOR")
        if vkind != "str":
            raise filter_error(f"The value compared with {member} must be a quoted literal.",
                               "INVALID_DATA_POINT_FILTER_RESTRICTION_COMPARABLE")
        field, clock = allowed[path]
        seen.add((field, clock))
        if op in bounds:
            raise filter_error(f"More than one {op} restriction.", "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE")
        bounds[op] = _literal(clock, raw[1:-1])
        i += 3
        if i == len(toks):
            break
        kind, word = toks[i]
        if kind == "word" and word == "OR" or kind == "paren":
            raise filter_error("Only restrictions joined by AND are supported.",
                               "INVALID_DATA_POINT_FILTER_EXPRESSION_STRUCTURE")
        if kind != "word" or word != "AND":
            raise filter_error(f"Unexpected token {word}.", "INVALID_DATA_POINT_FILTER_UNEXPECTED_TOKEN")
        i += 1
    if len({clock for _, clock in seen}) > 1:
        raise filter_error("Filter cannot contain both physical and civil time ranges",
                           "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS")
    field, clock = next(iter(seen))
    lo, hi = bounds.get(">="), bounds.get("<")
    if lo is not None and hi is not None and hi <= lo:
        raise filter_error("The end of the time range must be after its start.", "INVALID_TIME_RANGE")
    return TimeFilter(field, clock != "physical", lo, hi)


def date_key(d: date) -> int:
    """Naive-epoch midnight of a date: what ``{t}.date`` bounds are compared with."""
    return naive_midnight(d)
