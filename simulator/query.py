"""Selecting records for list / reconcile: window days newest first, filter, source family, paging.

Facts (discovery 20261030): results are ordered by start (sample) time, descending; ``list`` returns
every source with ``dataSource``, ``reconcile`` the de-duplicated stream with ``dataPointName`` and
no ``dataSource``; a page token is only valid with otherwise identical parameters. Page tokens are
opaque but deterministic (offset + fingerprint of the other parameters), so two simulators with the
same seed answer byte-identically.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from fitbit.catalogue import DataType
from simulator.cohort import Persona
from simulator.errors import invalid_argument
from simulator.filters import TimeFilter
from simulator.series import ALL_SOURCES, WEARABLE_SOURCES, HeartSeries, Series
from simulator.store import DataStore
from simulator.timefmt import naive_midnight

Chunk = tuple[Series, Sequence[int]]
_FAMILY = re.compile(r"^users/([^/]+)/dataSourceFamilies/([a-z-]+)$")
FAMILIES = {"all-sources": ALL_SOURCES, "google-sources": ALL_SOURCES, "google-wearables": WEARABLE_SOURCES,
            "self-sources": frozenset()}


def parse_family(value: str, persona: Persona) -> frozenset[int]:
    """Sources admitted by a ``dataSourceFamily`` resource name ('' means all sources)."""
    if not value:
        return ALL_SOURCES
    m = _FAMILY.match(value)
    if not m or m.group(2) not in FAMILIES or m.group(1) not in ("me", persona.health_user_id):
        raise invalid_argument(f"Invalid data source family {value!r}: expected "
                               "users/{user}/dataSourceFamilies/{all-sources|google-wearables|google-sources|"
                               "self-sources}.", "INVALID_DATA_POINT_DATA_SOURCE_FAMILY")
    return FAMILIES[m.group(2)]


def _day_bounds_excluded(tf: TimeFilter, lo: int, hi: int) -> bool:
    return (tf.lo is not None and hi <= tf.lo) or (tf.hi is not None and lo >= tf.hi)


def _civil_segments(series: Series, persona: Persona) -> list[tuple[int, int, int]] | None:
    """(first, end, offset) index runs of constant offset; None if the day is not one or two runs."""
    n = series.n
    first, last = persona.offset_at(series.t0(0)), persona.offset_at(series.t0(n - 1))
    if first == last:
        return [(0, n, first)]
    lo, hi = 0, n - 1  # offsets change once a day at most (a DST switch or a flight)
    while lo < hi:
        mid = (lo + hi) // 2
        if persona.offset_at(series.t0(mid)) == last:
            hi = mid
        else:
            lo = mid + 1
    if persona.offset_at(series.t0(lo - 1)) != first:
        return None
    return [(0, lo, first), (lo, n, last)]


def _indices(series: Series, tf: TimeFilter | None, persona: Persona) -> Sequence[int]:
    n = series.n
    if tf is None or n == 0:
        return range(n)
    if tf.field in ("start", "sample"):
        segments = _civil_segments(series, persona) if tf.civil else [(0, n, 0)]
        if segments is None:
            return [i for i in range(n) if tf.admits(series.t0(i) + persona.offset_at(series.t0(i)))]
        parts = []
        for first, end, shift in segments:
            a = max(first, series.first_at_or_after(tf.lo - shift)) if tf.lo is not None else first
            b = min(end, series.first_at_or_after(tf.hi - shift)) if tf.hi is not None else end
            if b > a:
                parts.append(range(a, b))
        if len(parts) == 1:
            return parts[0]
        return [i for part in parts for i in part]
    if tf.field == "end":
        return [i for i in range(n)
                if tf.admits(series.t1(i) + (persona.offset_at(series.t1(i)) if tf.civil else 0))]
    return range(n) if tf.admits(naive_midnight(series.day)) else range(0)


def select(store: DataStore, persona: Persona, dt: DataType, tf: TimeFilter | None, reconciled: bool,
           sources: frozenset[int]) -> Iterator[Chunk]:
    """Matching records of one participant, newest first, as (series, descending indices) chunks.

    Lazy: a page stops pulling days once it is full (and one more record proves there is a next page).
    """
    for day in reversed(store.cohort.days):
        if tf is not None:
            if tf.civil:
                lo, hi = naive_midnight(day), naive_midnight(day + timedelta(days=1))
            else:
                lo, hi = persona.day_range(day)
                if tf.field != "sample" and tf.field != "start":
                    lo, hi = lo - 86400, hi + 86400  # session ends/starts may sit in a neighbouring day
            if _day_bounds_excluded(tf, lo, hi):
                continue
        series = store.series(persona, dt.path_id, day)
        idx = _indices(series, tf, persona)
        if not isinstance(series, HeartSeries):
            hidden = series.hidden  # deleted by the participant (quirks.py)
            idx = [i for i in idx if series.src(i) in sources and (not reconciled or series.keep(i))
                   and i not in hidden]
        elif not sources & WEARABLE_SOURCES:
            idx = []
        if idx:
            yield series, idx[::-1]


def page(chunks: Iterable[Chunk], offset: int, size: int) -> tuple[list[tuple[Series, int]], bool]:
    """Records [offset, offset + size) of the selection and whether more follow."""
    out: list[tuple[Series, int]] = []
    skip = offset
    for series, idx in chunks:
        if len(out) >= size:
            return out, True  # chunks are never empty: something follows this page
        if skip >= len(idx):
            skip -= len(idx)
            continue
        taken = idx[skip:skip + size - len(out)]
        out.extend((series, i) for i in taken)
        if skip + len(taken) < len(idx):
            return out, True
        skip = 0
    return out, False


def render(persona: Persona, dt: DataType, series: Series, i: int, reconciled: bool) -> dict[str, Any]:
    item: dict[str, Any] = {}
    pid = series.point_id(i)
    name = f"users/{persona.health_user_id}/dataTypes/{dt.path_id}/dataPoints/{pid}" if pid else None
    if reconciled:
        if name:
            item["dataPointName"] = name
    else:
        if name:
            item["name"] = name
        item["dataSource"] = series.source(i)
    item[dt.json_key] = series.body(i)
    return item


def fingerprint(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def make_token(offset: int, params: dict[str, Any]) -> str:
    raw = f"{offset}:{fingerprint(params)}".encode()
    return base64.urlsafe_b64encode(b"\x0a\x0b" + raw).decode().rstrip("=")


def read_token(token: str, params: dict[str, Any]) -> int:
    """Offset encoded in a page token; 400 when malformed or issued for different parameters."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        offset_text, _, fp = raw[2:].decode().partition(":")
        offset = int(offset_text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_argument("Invalid page token.", "INVALID_PAGE_TOKEN") from exc
    if not raw.startswith(b"\x0a\x0b") or offset < 0:
        raise invalid_argument("Invalid page token.", "INVALID_PAGE_TOKEN")
    if fp != fingerprint(params):
        raise invalid_argument("The page token does not match the request: all other parameters must be "
                               "identical to the request that returned it.", "INVALID_PAGE_TOKEN")
    return offset


def page_size(raw: Any, default: int, maximum: int) -> int:
    """Requested page size: default when absent or 0, silently truncated to the maximum."""
    if raw in (None, "", 0, "0"):
        return default
    try:
        size = int(raw)
    except (TypeError, ValueError) as exc:
        raise invalid_argument(f"Invalid value for pageSize: {raw!r}") from exc
    if size < 0:
        raise invalid_argument("pageSize must not be negative.")
    return min(size, maximum)
