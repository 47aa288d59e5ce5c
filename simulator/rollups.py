"""rollUp (UTC windows) and dailyRollUp (civil days) over the reconciled records of a type.

Facts (discovery 20261030, aggregate-data guide, checked 2026-11-23): rollups aggregate reconciled
points from all sources minus off-wrist time; windows without data are absent; windows come back
newest first; the last window is truncated at the range end; dailyRollUp windows are closed-open
civil days and the start must be window-aligned.

Decided here (the API does not say):
- ``dailyRollUp`` with ``start == end`` means that one day (an official example does this);
- a count (steps, AZM credits, ...) belongs to the window holding its record's start; durations
  (sedentary, time in zone) are clipped to each window by overlap;
- types with true zeros (catalogue ``true_zeros``) report a worn window without points as zero sums,
  and every sum is emitted even when zero (``"countSum": "0"``); with windows under a minute, a worn
  minute marks only the window its start falls in.

Because records are summed exactly as ``reconcile`` returns them, the sum of reconciled
``steps.count`` over a civil day equals that day's ``countSum`` (and likewise for every summed type).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from fitbit.catalogue import DataType
from simulator.cohort import Persona
from simulator.heart import HeartSeconds
from simulator.series import Series
from simulator.spec import RollupSpec
from simulator.store import DataStore
from simulator.timefmt import civil_dict, naive_midnight, rfc3339

Acc = dict[int, list[Any]]
BucketOf = Callable[[int], int]  # instant -> window number
BoundsOf = Callable[[int], tuple[int, int]]  # window number -> [start, end) instants


def _records(series: Series, lo: int, hi: int, sources: frozenset[int], by_overlap: bool) -> Iterable[int]:
    hidden = series.hidden  # deleted by the participant (quirks.py): gone from rollups too
    if by_overlap:
        return (i for i in range(series.n) if series.t0(i) < hi and series.t1(i) > lo
                and series.src(i) in sources and series.keep(i) and i not in hidden)
    a, b = series.first_at_or_after(lo), series.first_at_or_after(hi)
    return (i for i in range(a, b) if series.src(i) in sources and series.keep(i) and i not in hidden)


def _slot(acc: Acc, key: int, spec: RollupSpec) -> list[Any]:
    slot = acc.get(key)
    if slot is None:
        slot = acc[key] = [0] * max(spec.fields, 2)
    return slot


def _add(slot: list[Any], spec: RollupSpec, series: Series, i: int, seconds: int) -> None:
    if spec.kind == "sum":
        for k, v in enumerate(spec.measure(series, i)):  # type: ignore[misc]
            slot[k] += v
    elif spec.kind == "mean":
        slot[0] += spec.measure(series, i)[0]  # type: ignore[misc]
        slot[1] += 1
    else:  # clip: durations, optionally split by a category (the zone)
        k = spec.measure(series, i)[0] if spec.measure else 0
        slot[k] += max(0, seconds)


def _heart(acc: Acc, key: int, lo: int, total: int, hi: int, count: int) -> None:
    slot = acc.get(key)
    if slot is None:
        acc[key] = [lo, total, hi, count]
    else:
        slot[0] = min(slot[0], lo)
        slot[1] += total
        slot[2] = max(slot[2], hi)
        slot[3] += count


def _value(spec: RollupSpec, slot: list[Any]) -> dict[str, Any]:
    if spec.kind == "mean":
        return spec.render((slot[0] / slot[1],))
    if spec.kind == "heart":
        return spec.render((slot[0], slot[1] / slot[3], slot[2]))
    return spec.render(tuple(slot[: spec.fields]))


def _aggregate(store: DataStore, p: Persona, dt: DataType, spec: RollupSpec, start: int, end: int,
               sources: frozenset[int], bucket_of: BucketOf, bounds_of: BoundsOf,
               day_key: Callable[[date], int] | None = None) -> Acc:
    """Accumulate reconciled records of [start, end) into buckets.

    UTC windows key records by ``bucket_of(instant)``; civil-day windows (``day_key`` given) key a whole
    day's series at once, since every record of a day's series belongs to that civil day.
    """
    acc: Acc = {}
    wearable = bool(sources & {0, 4})
    for day in store.cohort.days:
        d0, d1 = p.day_range(day)
        if d1 <= start or d0 >= end:
            continue
        frame = store.frame(p, day)
        fixed = day_key(day) if day_key else None
        if spec.kind == "heart":
            if wearable:
                _heart_into(acc, store.heart(p, day), start, end, bucket_of, bounds_of, fixed)
            continue
        series = store.series(p, dt.path_id, day)
        for i in _records(series, start, end, sources, spec.kind == "clip"):
            t0, t1 = series.t0(i), series.t1(i)
            if fixed is not None:
                _add(_slot(acc, fixed, spec), spec, series, i, min(t1, d1) - max(t0, d0))
            elif spec.kind == "clip":
                for key in range(bucket_of(max(t0, start)), bucket_of(min(t1, end) - 1) + 1):
                    w0, w1 = bounds_of(key)
                    _add(_slot(acc, key, spec), spec, series, i, min(t1, w1) - max(t0, w0))
            else:
                _add(_slot(acc, bucket_of(t0), spec), spec, series, i, 0)
        if dt.true_zeros and wearable:
            if fixed is not None:
                if any(frame.worn):
                    _slot(acc, fixed, spec)
                continue
            for m in range(frame.n):
                t = frame.start + m * 60
                if frame.worn[m] and start <= t < end:
                    _slot(acc, bucket_of(t), spec)
    return acc


def _heart_into(acc: Acc, heart: HeartSeconds, start: int, end: int, bucket_of: BucketOf, bounds_of: BoundsOf,
                fixed: int | None) -> None:
    """Whole minutes inside one window use the precomputed minute aggregates; edges go per second."""
    frame = heart.frame
    mins, maxs, sums, bpm = heart.min_min, heart.min_max, heart.min_sum, heart.bpm
    for span_no, (a, b) in enumerate(heart.spans):
        for m in range(a, b):
            t = frame.start + m * 60
            if fixed is not None:
                _heart(acc, fixed, mins[m], sums[m], maxs[m], 60)
                continue
            if t + 60 <= start or t >= end:
                continue
            key = bucket_of(t)
            w0, w1 = bounds_of(key)
            if start <= t and t + 60 <= end and w0 <= t and t + 60 <= w1:
                _heart(acc, key, mins[m], sums[m], maxs[m], 60)
                continue
            base = heart.cum[span_no] + (m - a) * 60
            for s in range(60):
                ts = t + s
                if start <= ts < end:
                    v = bpm[base + s]
                    _heart(acc, bucket_of(ts), v, v, v, 1)


def roll_up(store: DataStore, p: Persona, dt: DataType, spec: RollupSpec, start: int, end: int, window: int,
            sources: frozenset[int]) -> list[dict[str, Any]]:
    """RollupDataPoints for UTC windows of ``window`` seconds over [start, end), newest first."""

    def bucket_of(t: int) -> int:
        return (t - start) // window

    def bounds_of(k: int) -> tuple[int, int]:
        return start + k * window, min(end, start + (k + 1) * window)

    acc = _aggregate(store, p, dt, spec, start, end, sources, bucket_of, bounds_of)
    out = []
    for key in sorted(acc, reverse=True):
        w0, w1 = bounds_of(key)
        out.append({"startTime": rfc3339(w0), "endTime": rfc3339(w1), dt.json_key: _value(spec, acc[key])})
    return out


def daily_roll_up(store: DataStore, p: Persona, dt: DataType, spec: RollupSpec, first: date, end: date,
                  window_days: int, sources: frozenset[int]) -> list[dict[str, Any]]:
    """DailyRollupDataPoints for civil windows [first, end) of ``window_days`` days, newest first."""
    n_windows = -(-(end - first).days // window_days)
    windows = [(first + timedelta(days=k * window_days), min(end, first + timedelta(days=(k + 1) * window_days)))
               for k in range(n_windows)]
    start_i, end_i = p.day_start(first), p.day_start(end)

    def bucket_of(t: int) -> int:
        d = p.civil_date(t)
        return (d - first).days // window_days

    def bounds_of(k: int) -> tuple[int, int]:
        w0, w1 = windows[k]
        return p.day_start(w0), p.day_start(w1)

    acc = _aggregate(store, p, dt, spec, start_i, end_i, sources, bucket_of, bounds_of,
                     lambda day: (day - first).days // window_days)
    out = []
    for key in sorted(acc, reverse=True):
        w0, w1 = windows[key]
        out.append({"civilStartTime": civil_dict(naive_midnight(w0)), "civilEndTime": civil_dict(naive_midnight(w1)),
                    dt.json_key: _value(spec, acc[key])})
    return out
