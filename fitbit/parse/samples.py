"""The time columns of a page of samples, by whole columns: what makes 86,400 samples a day cheap.

The typed route (``fitbit.parse.typed``) hands these functions the decoded values of a page. A page whose
samples are canonical UTC texts (``YYYY-MM-DDTHH:MM:SSZ``) with whole-hour offsets is read with the fast
path's per-hour memo (``fitbit.parse.fast``): every second of an hour shares its civil date, offset and
civil hour. The usual page (one offset, samples sorted, newest first as the API sends them) goes by whole
hour runs found by bisection, with its civil texts made by one ``replace`` on each run's joined texts; other
canonical pages go sample by sample through the memo. Intervals (minute buckets) go the same way, their
starts and ends each as a run of texts. A date or offset the same on every sample becomes a ``Constant``.
Anything else returns None: the caller reads each instant as the fast path does.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import repeat
from operator import add, attrgetter, itemgetter
from typing import Any, Callable

from fitbit.parse.fast import _MM_SS, _memo_entry
from fitbit.parse.page import Constant

Columns = dict[str, Any]  # column name -> a sequence of one value per point, or a ``Constant``

_HEAD, _TAIL = itemgetter(slice(0, 14)), itemgetter(slice(14, None))
_UTC_OFFSET, _PHYSICAL_TIME = attrgetter("time.utcOffset"), attrgetter("time.physicalTime")
_CIVIL_DATE, _OFFSET_S, _CIVIL_HOUR = itemgetter(0), itemgetter(1), itemgetter(2)


class _Hours(dict):  # type: ignore[type-arg]
    """(``YYYY-MM-DDTHH:``, offset) -> (civil date, offset s, civil hour prefix), computed on first use; keyed
    by the hour's text alone for a page of one ``offset``."""

    def __init__(self, offset: str | None = None) -> None:
        super().__init__()
        self.offset = offset

    def __missing__(self, key: Any) -> Any:
        head, offset = (key, self.offset) if self.offset is not None else key
        entry = self[key] = _memo_entry(head + "00:00Z", offset, 3600, 14)
        return entry


def canonical_samples(values: list[Any]) -> Columns | None:
    """The time columns of a page whose samples are all canonical UTC texts with their own whole-hour
    offsets, one C-level pass per column; None for any other page."""
    offsets = list(map(_UTC_OFFSET, values))
    texts = list(map(_PHYSICAL_TIME, values))
    if offsets[0] is not None and offsets.count(offsets[0]) == len(offsets):  # the usual page: one offset
        ordered = _by_hour_runs(texts, offsets[0])
        if ordered is not None:
            return ordered
    elif None in offsets:
        return None
    try:
        tails = list(map(_MM_SS.__getitem__, map(_TAIL, texts)))
    except (KeyError, TypeError):
        return None
    hours_seen = _Hours()
    hours = list(map(hours_seen.__getitem__, zip(map(_HEAD, texts), offsets)))
    entries = list(hours_seen.values())
    if not all(type(entry) is tuple for entry in entries):
        return None
    return {"civil_date": _per_hour(_CIVIL_DATE, entries, hours), "sample_time": texts,
            "utc_offset_s": _per_hour(_OFFSET_S, entries, hours),
            "civil_time": list(map(add, map(_CIVIL_HOUR, hours), tails))}


def canonical_intervals(values: list[Any], dated_by_end: bool) -> Columns | None:
    """The time columns of a page of intervals whose starts share one offset and whose ends share one (the
    usual page of minute buckets), each end read as ``_by_hour_runs`` reads samples; None for any other page."""
    columns = []
    for text_of, offset_of in ((_START_TIME, _START_OFFSET), (_END_TIME, _END_OFFSET)):
        offsets = list(map(offset_of, values))
        if offsets[0] is None or offsets.count(offsets[0]) != len(offsets):
            return None
        found = _by_hour_runs(list(map(text_of, values)), offsets[0])
        if found is None:
            return None
        columns.append(found)
    start, end = columns
    return {"civil_date": (end if dated_by_end else start)["civil_date"], "start_time": start["sample_time"],
            "end_time": end["sample_time"], "start_utc_offset_s": start["utc_offset_s"],
            "end_utc_offset_s": end["utc_offset_s"], "civil_start_time": start["civil_time"],
            "civil_end_time": end["civil_time"]}


_START_TIME, _START_OFFSET = attrgetter("time.startTime"), attrgetter("time.startUtcOffset")
_END_TIME, _END_OFFSET = attrgetter("time.endTime"), attrgetter("time.endUtcOffset")


# What a canonical text ``YYYY-MM-DDTHH:MM:SSZ`` may hold at positions 14-19 (its tail, "MM:SSZ").
_TAIL_BYTES = ((14, b"012345"), (15, b"0123456789"), (16, b":"), (17, b"012345"), (18, b"0123456789"), (19, b"Z"))


def _by_hour_runs(texts: list[str], offset: str) -> Columns | None:
    """The time columns of a page of canonical 20-character texts with one offset, sorted either way (the
    API sends samples newest first), by whole runs: each hour's run is found by bisection and its civil
    texts made by one ``replace`` of the hour's text on the run's joined texts. None when the texts are not
    all canonical and sorted, or an hour is off the memo (the caller goes sample by sample)."""
    if set(map(len, texts)) != {20}:
        return None
    descending = texts[0] > texts[-1]
    ordered = texts[::-1] if descending else texts
    joined = "".join(ordered)  # text i at [20 i, 20 i + 20): each tail position read as one strided slice
    if sorted(ordered) != ordered or not joined.isascii():
        return None
    ascii_ = joined.encode("ascii")
    if any(ascii_[at::20].translate(None, allowed) for at, allowed in _TAIL_BYTES):  # left over: not a tail
        return None
    hours, runs, civil, start = _Hours(offset), [], [], 0
    while start < len(ordered):
        head = ordered[start][:14]  # all the run's texts start with it (sorted; their tails sort below \x7f)
        end = bisect_left(ordered, head + "\x7f", start)
        entry = hours[head]  # a canonical hour (checked by the memo), so "T" and "Z" sit at fixed places only
        if type(entry) is not tuple:
            return None
        civil += joined[20 * start:20 * end].replace(head, _CIVIL_HOUR(entry)).split("Z")
        civil.pop()  # what follows the run's last "Z"
        runs.append((end - start, entry))
        start = end
    if descending:
        civil.reverse()
        runs.reverse()
    return {"civil_date": _runs_column(_CIVIL_DATE, runs), "sample_time": texts,
            "utc_offset_s": _runs_column(_OFFSET_S, runs), "civil_time": civil}


def _runs_column(part: Callable[[Any], Any], runs: list[tuple[int, Any]]) -> Any:
    """One part of each run's hour entry, per sample; a ``Constant`` when every run has the same."""
    if len({part(entry) for _, entry in runs}) == 1:
        return Constant(part(runs[0][1]))
    return [value for count, entry in runs for value in repeat(part(entry), count)]


def _per_hour(part: Callable[[Any], Any], entries: list[Any], hours: list[Any]) -> Any:
    """One part of the hours' entries per sample; a ``Constant`` when every hour of the page has the same."""
    seen = set(map(part, entries))
    return Constant(seen.pop()) if len(seen) == 1 else list(map(part, hours))
