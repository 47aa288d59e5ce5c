"""The synthetic cohort: who the participants are, where they are, and what a civil day is for each.

Users are ``user1..userN``. Time zones cycle with the user number:

====  ===============================================================================
k%5   zone story (default window: 14 days ending 2026-11-05)
====  ===============================================================================
1     Europe/Berlin: CEST +02:00 until the EU change 2026-10-25 01:00Z, then CET +01:00
2     America/New_York: EDT -04:00 until the US change 2026-11-01 06:00Z, then EST -05:00
3     traveller: Europe/London, flies to Asia/Tokyo (+09:00) at end-8d 12:00Z, flies back
      at end-4d 01:00Z; the outbound civil day is 15 h long, the return day 33 h long
4     Asia/Kolkata +05:30 (a half-hour offset, no DST)
0     America/Los_Angeles: PDT -07:00 until 2026-11-01 09:00Z, then PST -08:00
====  ===============================================================================

Every fifth participant (by default; ``SimConfig.health_connect_users``) syncs through a Health Connect phone
(Samsung): their points carry millisecond instants and neither UTC offsets nor civil times, and their
sources name the platform HEALTH_CONNECT and an Android package, sometimes with an empty ``device``.

A civil day is the set of instants whose wall-clock date is that day (DST days are 23 or 25 h, the
traveller's are 15 and 33 h). Offsets only ever change inside a day, never across midnight, so civil
dates never go backwards and every civil day is one contiguous physical range. The health user ids
depend only on the user number (not on the seed) so fixtures can hard-code them.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from simulator.timefmt import naive_date, naive_midnight

TRAVEL_OUT = (timedelta(days=-8), 12)  # (day relative to the window's end date, UTC hour)
TRAVEL_BACK = (timedelta(days=-4), 1)


@dataclass(frozen=True)
class Device:
    display_name: str
    manufacturer: str
    form_factor: str


TRACKERS = (
    Device("Charge 6", "Fitbit", "FITNESS_BAND"),
    Device("Pixel Watch 3", "Google", "WATCH"),
)
PHONE = Device("Pixel 9", "Google", "PHONE")
SCALE = Device("Aria Air", "Fitbit", "SCALE")


_MIXED = -(2**40)  # an hour whose minutes do not all share one offset (never a real offset)


@dataclass(frozen=True)
class Persona:
    """One participant's stable traits; everything else is drawn per day from seeded generators."""

    number: int
    health_user_id: str
    legacy_user_id: str
    zones: tuple[tuple[int, str], ...]  # (from epoch, IANA zone), first entry from -inf
    age: int
    resting_hr: int
    weight_g: int
    body_fat_pct: float
    stride_walk_mm: int
    stride_run_mm: int
    bmr_kcal: int
    vo2_max: float
    hrv_ms: float
    tracker: Device
    has_scale: bool
    runner: bool
    cyclist: bool
    imperial: bool
    home: tuple[float, float]
    health_connect: bool = False
    _offsets: dict[int, int] = field(default_factory=dict, compare=False, repr=False)  # per UTC hour
    _minute_offsets: dict[int, int] = field(default_factory=dict, compare=False, repr=False)
    _starts: dict[date, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"user{self.number}"

    @property
    def max_hr(self) -> int:
        return 220 - self.age

    def zone_at(self, epoch: int) -> str:
        starts = [s for s, _ in self.zones]
        return self.zones[max(0, bisect_right(starts, epoch) - 1)][1]

    def offset_at(self, epoch: int) -> int:
        """UTC offset in seconds at an instant, as read at the start of its minute.

        Cached per UTC hour when the whole hour has one offset (issue #14: a page of points asked for
        ~160,000 uncached minutes per 30 participant-days); an hour holding a DST transition or a zone
        change is cached per minute.
        """
        hour = epoch - epoch % 3600
        cached = self._offsets.get(hour)
        if cached is None:
            cached = self._hour_offset(hour)
            self._offsets[hour] = cached
        if cached != _MIXED:
            return cached
        key = epoch - epoch % 60
        minute = self._minute_offsets.get(key)
        if minute is None:
            minute = self._minute_offsets[key] = self._offset_now(key)
        return minute

    def _hour_offset(self, hour: int) -> int:
        if any(hour < start < hour + 3600 for start, _ in self.zones):
            return _MIXED
        first, last = self._offset_now(hour), self._offset_now(hour + 3540)  # the hour's first and last minute
        return first if first == last else _MIXED  # transitions are months apart: equal ends, one offset

    def _offset_now(self, epoch: int) -> int:
        when = datetime.fromtimestamp(epoch, tz=timezone.utc)
        delta = when.astimezone(ZoneInfo(self.zone_at(epoch))).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    def civil_date(self, epoch: int) -> date:
        return naive_date(epoch + self.offset_at(epoch))

    def day_start(self, day: date) -> int:
        """First instant (minute-aligned) whose civil date is ``day`` or later."""
        cached = self._starts.get(day)
        if cached is not None:
            return cached
        mid = naive_midnight(day)
        lo, hi = (mid - 16 * 3600) // 60, (mid + 16 * 3600) // 60
        while lo < hi:
            m = (lo + hi) // 2
            if self.civil_date(m * 60) >= day:
                hi = m
            else:
                lo = m + 1
        self._starts[day] = lo * 60
        return lo * 60

    def day_range(self, day: date) -> tuple[int, int]:
        return self.day_start(day), self.day_start(day + timedelta(days=1))


_ZONE_CYCLE = ("America/Los_Angeles", "Europe/Berlin", "America/New_York", "TRAVELLER", "Asia/Kolkata")
_HOMES = {
    "Europe/Berlin": (52.5200, 13.4050),
    "America/New_York": (40.7829, -73.9654),
    "TRAVELLER": (51.5074, -0.1278),
    "Asia/Kolkata": (12.9716, 77.5946),
    "America/Los_Angeles": (34.0522, -118.2437),
}


def health_user_id(number: int) -> str:
    """A stable 19-digit id per user number, independent of the seed."""
    digest = hashlib.sha256(f"google-health-sim-user-{number}".encode()).digest()
    return str(10**18 + int.from_bytes(digest[:8], "big") % (9 * 10**18))


def _legacy_id(number: int) -> str:
    if number % 5 == 4:  # the Kolkata participant never had a Fitbit account
        return ""
    digest = hashlib.sha256(f"legacy-{number}".encode()).hexdigest().upper()
    return "".join(c for c in digest if c.isalnum())[:6]


def _zones(number: int, end: date) -> tuple[tuple[int, str], ...]:
    name = _ZONE_CYCLE[number % 5]
    if name != "TRAVELLER":
        return ((-(2**62), name),)
    out = datetime.combine(end + TRAVEL_OUT[0], datetime.min.time(), tzinfo=timezone.utc)
    back = datetime.combine(end + TRAVEL_BACK[0], datetime.min.time(), tzinfo=timezone.utc)
    return (
        (-(2**62), "Europe/London"),
        (int(out.timestamp()) + TRAVEL_OUT[1] * 3600, "Asia/Tokyo"),
        (int(back.timestamp()) + TRAVEL_BACK[1] * 3600, "Europe/London"),
    )


def make_persona(number: int, seed: int, end: date, health_connect: bool = False) -> Persona:
    rng = random.Random(f"{seed}:user{number}:persona")
    age = rng.randint(24, 62)
    weight_g = rng.randint(56000, 98000)
    height_factor = rng.uniform(0.95, 1.08)
    male = rng.random() < 0.5
    bmr = int((10 * weight_g / 1000 + 6.25 * 172 * height_factor - 5 * age + (5 if male else -161)))
    runner = rng.random() < 0.7
    return Persona(
        number=number,
        health_user_id=health_user_id(number),
        legacy_user_id=_legacy_id(number),
        zones=_zones(number, end),
        age=age,
        resting_hr=rng.randint(50, 68),
        weight_g=weight_g,
        body_fat_pct=round(rng.uniform(14.0, 32.0), 1),
        stride_walk_mm=int(rng.randint(660, 790) * height_factor),
        stride_run_mm=int(rng.randint(980, 1250) * height_factor),
        bmr_kcal=bmr,
        vo2_max=round(rng.uniform(34.0, 52.0), 1),
        hrv_ms=round(rng.uniform(22.0, 65.0), 1),
        tracker=TRACKERS[number % 2],
        has_scale=number % 5 != 4,
        runner=runner,
        cyclist=not runner or rng.random() < 0.3,
        imperial=_ZONE_CYCLE[number % 5].startswith("America/"),
        home=_HOMES[_ZONE_CYCLE[number % 5]],
        health_connect=health_connect,
    )


@dataclass(frozen=True)
class Cohort:
    """All participants plus the simulated window of civil days (the same dates for everyone)."""

    personas: tuple[Persona, ...]
    days: tuple[date, ...]

    @classmethod
    def build(cls, users: int, days: int, seed: int, end: date,
              health_connect: Callable[[int], bool] = lambda number: False) -> Cohort:
        personas = tuple(make_persona(k, seed, end, health_connect(k)) for k in range(1, users + 1))
        window = tuple(end - timedelta(days=days - 1 - i) for i in range(days))
        return cls(personas, window)

    def by_label(self, label: str) -> Persona | None:
        for p in self.personas:
            if p.label == label:
                return p
        return None

    def persona(self, label: str) -> Persona:
        """The participant ``label`` names (an access grant's user always exists)."""
        found = self.by_label(label)
        if found is None:
            raise KeyError(f"no participant {label!r} in the cohort")
        return found

    def by_health_id(self, health_id: str) -> Persona | None:
        for p in self.personas:
            if p.health_user_id == health_id:
                return p
        return None

    def window_range(self, persona: Persona) -> tuple[int, int]:
        """Physical range the persona has data for: start of the first day to end of the last."""
        return persona.day_start(self.days[0]), persona.day_start(self.days[-1] + timedelta(days=1))
