"""A day of one data type for one participant, as indexable records, plus JSON rendering of a record.

Why not a list of dicts: 1 s heart rate and per-minute activity would be millions of dicts. A series
keeps times in arrays (or computes them, for heart rate) and renders a record only when a page
needs it. Records are sorted by physical start (sample) time ascending; responses walk them
backwards because the API answers newest first.

Sources (``src``): which device or path produced a record. Reconciliation keeps a record when its
``keep`` flag is set: tracker records while worn, phone records only for off-wrist time, and every
record of single-source types.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from simulator.cohort import Device, Persona
from simulator.heart import HeartSeconds
from simulator.timefmt import civil_dict, date_dict, duration, rfc3339, rfc3339_millis

TRACKER, PHONE, SCALE, MANUAL, DERIVED = 0, 1, 2, 3, 4
WEARABLE_SOURCES = frozenset({TRACKER, DERIVED})
ALL_SOURCES = frozenset({TRACKER, PHONE, SCALE, MANUAL, DERIVED})

Value = Callable[[int, int], dict[str, Any]]  # (src, ref) -> value fields (or the whole session body)


class Series:
    """Array-backed records of one type on one civil day."""

    def __init__(self, persona: Persona, day: date, record_type: str, value: Value,
                 source: Value | None = None) -> None:
        self.persona = persona
        self.day = day
        self.record_type = record_type  # interval | sample | daily | session
        self.value = value
        self._source = source
        self.ids: list[str] = []  # data point ids of named types, indexed by ref ("" renders without a name)
        # Records the participant deleted (``deletions.py``): no longer served by any method.
        self.hidden: set[int] = set()
        # The numbers a rollup sums for a record, straight from the model arrays (no JSON dicts).
        self.numbers: Callable[[int, int], tuple[int, ...]] | None = None
        self._t0 = array("q")
        self._t1 = array("q")
        self._src = array("B")
        self._keep = array("B")
        self._ref = array("i")

    def add(self, t0: int, t1: int, src: int, ref: int, keep: bool = True) -> None:
        self._t0.append(t0)
        self._t1.append(t1)
        self._src.append(src)
        self._ref.append(ref)
        self._keep.append(1 if keep else 0)

    def sort(self) -> Series:
        order = sorted(range(len(self._t0)), key=lambda i: (self._t0[i], self._src[i]))
        for name in ("_t0", "_t1", "_src", "_keep", "_ref"):
            old = getattr(self, name)
            setattr(self, name, array(old.typecode, (old[i] for i in order)))
        return self

    @property
    def n(self) -> int:
        return len(self._t0)

    def t0(self, i: int) -> int:
        return self._t0[i]

    def t1(self, i: int) -> int:
        return self._t1[i]

    def src(self, i: int) -> int:
        return self._src[i]

    def keep(self, i: int) -> bool:
        return bool(self._keep[i])

    def body(self, i: int) -> dict[str, Any]:
        """The union-key object of record ``i`` (interval/sample/date block plus value fields)."""
        value = self.value(self._src[i], self._ref[i])
        if self.record_type == "session":
            return value
        if self.record_type == "daily":
            return {"date": date_dict(self.day), **value}
        if self.record_type == "sample":
            return {"sampleTime": sample_time(self.persona, self._t0[i]), **value}
        return {"interval": interval(self.persona, self._t0[i], self._t1[i]), **value}

    def first_at_or_after(self, epoch: int) -> int:
        return bisect_left(self._t0, epoch)

    def measure(self, i: int) -> tuple[int, ...]:
        """The numbers rollups add up for record ``i`` (only series whose builder set ``numbers``)."""
        if self.numbers is None:
            raise TypeError(f"a {self.record_type} series of {self.day} has no rollup numbers")
        return self.numbers(self._src[i], self._ref[i])

    def point_id(self, i: int) -> str | None:
        return (self.ids[self._ref[i]] or None) if self.ids else None

    def source(self, i: int) -> dict[str, Any]:
        if self._source is not None:
            return self._source(self._src[i], self._ref[i])
        return source_dict(self.persona, self._src[i])


class HeartSeries(Series):
    """1 s heart-rate samples computed from a HeartSeconds block (single source: the tracker)."""

    def __init__(self, persona: Persona, day: date, heart: HeartSeconds) -> None:
        super().__init__(persona, day, "sample", lambda src, ref: {})
        self.heart = heart

    @property
    def n(self) -> int:
        return self.heart.n

    def t0(self, i: int) -> int:
        return self.heart.t0(i)

    def t1(self, i: int) -> int:
        return self.heart.t0(i)

    def src(self, i: int) -> int:
        return TRACKER

    def keep(self, i: int) -> bool:
        return True

    def source(self, i: int) -> dict[str, Any]:
        return source_dict(self.persona, TRACKER)

    def body(self, i: int) -> dict[str, Any]:
        t = self.heart.t0(i)
        frame = self.heart.frame
        m = (t - frame.start) // 60
        active = frame.level[m] > 0 or frame.act[m] > 0
        return {
            "sampleTime": sample_time(self.persona, t),
            "beatsPerMinute": str(self.heart.bpm[i]),
            "metadata": {"motionContext": "ACTIVE" if active else "SEDENTARY", "sensorLocation": "WRIST"},
        }

    def first_at_or_after(self, epoch: int) -> int:
        return self.heart.index_at_or_after(epoch)


def interval(persona: Persona, t0: int, t1: int, civil: bool = True) -> dict[str, Any]:
    """ObservationTimeInterval / SessionTimeInterval; zero offsets omitted (proto3 JSON). Health Connect
    data carries millisecond instants and neither offsets nor civil times (live reports, team spec §12)."""
    if persona.health_connect:
        return {"startTime": rfc3339_millis(t0), "endTime": rfc3339_millis(t1)}
    o0, o1 = persona.offset_at(t0), persona.offset_at(t1)
    out: dict[str, Any] = {"startTime": rfc3339(t0)}
    if o0:
        out["startUtcOffset"] = duration(o0)
    out["endTime"] = rfc3339(t1)
    if o1:
        out["endUtcOffset"] = duration(o1)
    if civil:
        out["civilStartTime"] = civil_dict(t0 + o0)
        out["civilEndTime"] = civil_dict(t1 + o1)
    return out


def sample_time(persona: Persona, t: int) -> dict[str, Any]:
    if persona.health_connect:
        return {"physicalTime": rfc3339_millis(t)}
    off = persona.offset_at(t)
    out: dict[str, Any] = {"physicalTime": rfc3339(t)}
    if off:
        out["utcOffset"] = duration(off)
    out["civilTime"] = civil_dict(t + off)
    return out


def span(persona: Persona, t0: int, t1: int) -> dict[str, Any]:
    """A start/end block with offsets but no civil times (sleep stages, splits, out-of-bed)."""
    return interval(persona, t0, t1, civil=False)


def source_dict(persona: Persona, src: int, recording: str | None = None) -> dict[str, Any]:
    """DataSource for a record (list and get only; reconcile and rollups never carry one).

    Cached and shared between points: rendered pages are serialised, never mutated.
    """
    if persona.health_connect:
        return _health_connect_source(src, recording)
    return _source(persona.tracker, src, recording)


SAMSUNG_HEALTH = {"packageName": "com.sec.android.app.shealth"}


@lru_cache(maxsize=64)
def _health_connect_source(src: int, recording: str | None) -> dict[str, Any]:
    """Sources as Health Connect reports them: the writing app's package, a device only when it was named."""
    if src == SCALE:  # a third-party scale whose app writes to Health Connect without naming the device
        return {"recordingMethod": "PASSIVELY_MEASURED", "platform": "HEALTH_CONNECT", "device": {},
                "application": {"packageName": "com.withings.wiscale2"}}
    if src == MANUAL:
        return {"recordingMethod": "MANUAL", "platform": "HEALTH_CONNECT", "application": SAMSUNG_HEALTH}
    if src == PHONE:
        return {"recordingMethod": "UNKNOWN", "platform": "HEALTH_CONNECT", "application": SAMSUNG_HEALTH,
                "device": {"displayName": "Galaxy S24", "manufacturer": "Samsung", "formFactor": "PHONE"}}
    return {"recordingMethod": recording or ("DERIVED" if src == DERIVED else "PASSIVELY_MEASURED"),
            "platform": "HEALTH_CONNECT", "application": SAMSUNG_HEALTH,
            "device": {"displayName": "Galaxy Watch7", "manufacturer": "Samsung", "formFactor": "WATCH"}}


@lru_cache(maxsize=256)
def _source(tracker: Device, src: int, recording: str | None) -> dict[str, Any]:
    device = {"displayName": tracker.display_name, "manufacturer": tracker.manufacturer,
              "formFactor": tracker.form_factor}
    if src == PHONE:
        return {"recordingMethod": "UNKNOWN",
                "device": {"displayName": "Pixel 9", "manufacturer": "Google", "formFactor": "PHONE"},
                "platform": "HEALTH_CONNECT", "application": {"packageName": "com.google.android.apps.fitness"}}
    if src == SCALE:
        return {"recordingMethod": "PASSIVELY_MEASURED",
                "device": {"displayName": "Aria Air", "manufacturer": "Fitbit", "formFactor": "SCALE"},
                "platform": "FITBIT"}
    if src == MANUAL:
        return {"recordingMethod": "MANUAL", "platform": "FITBIT",
                "application": {"packageName": "com.fitbit.FitbitMobile"}}
    if src == DERIVED:
        return {"recordingMethod": recording or "DERIVED", "device": device, "platform": "FITBIT"}
    return {"recordingMethod": recording or "PASSIVELY_MEASURED", "device": device, "platform": "FITBIT",
            "application": {"packageName": "com.fitbit.FitbitMobile"}}
