"""Generators for the activity interval types, read off the minute model (``frame.py``).

Shapes (discovery 20261030): ``steps.count``, ``distance.millimeters``, ``floors.count``,
``altitude.gainMillimeters`` (int64 strings, zero omitted: a worn minute without steps is a point
with no ``count``, the documented "true zero"); ``activeZoneMinutes`` per in-zone minute;
``activeMinutesByActivityLevel`` per active minute; ``sedentaryPeriod`` and ``timeInHeartRateZone``
as runs of minutes. ``total-calories`` has no DataPoint schema: its per-minute series exists only
for rollups. Each builder sets ``series.numbers``: the values rollups sum, read straight from the
model arrays so a 14-day rollup never builds JSON dicts.
"""

from __future__ import annotations

from typing import Any

from simulator.frame import LEVELS, ZONES, runs
from simulator.series import PHONE, TRACKER, Series
from simulator.spec import Generator, RollupSpec, measure, summed
from simulator.store import DayData

AZM_ZONES = {2: ("FAT_BURN", 1), 3: ("CARDIO", 2), 4: ("PEAK", 2)}


def _minutes(dd: DayData, array_name: str, field: str, with_phone: bool = False) -> Series:
    """One point per worn minute (zeros included but unrendered), plus phone chunks for steps."""
    f = dd.frame
    values = getattr(f, array_name)

    def value(src: int, ref: int) -> dict[str, Any]:
        v = f.phone[ref][2] if src == PHONE else values[ref]
        return {field: str(v)} if v else {}

    s = Series(dd.persona, dd.day, "interval", value)
    s.numbers = lambda src, ref: (f.phone[ref][2] if src == PHONE else values[ref],)
    for m in range(f.n):
        if f.worn[m]:
            t = f.start + m * 60
            s.add(t, t + 60, TRACKER, m)
    if with_phone:
        for k, (a, b, _) in enumerate(f.phone):
            s.add(a, b, PHONE, k, keep=not f.worn[f.minute_of(a)])
        s.sort()
    return s


def build_steps(dd: DayData) -> Series:
    return _minutes(dd, "steps", "count", with_phone=True)


def build_distance(dd: DayData) -> Series:
    return _minutes(dd, "dist_mm", "millimeters")


def build_floors(dd: DayData) -> Series:
    return _minutes(dd, "floors", "count")


def build_altitude(dd: DayData) -> Series:
    return _minutes(dd, "alt_mm", "gainMillimeters")


def build_active_zone_minutes(dd: DayData) -> Series:
    f = dd.frame

    def value(src: int, ref: int) -> dict[str, Any]:
        zone, credit = AZM_ZONES[f.zone[ref]]
        return {"heartRateZone": zone, "activeZoneMinutes": str(credit)}

    s = Series(dd.persona, dd.day, "interval", value)
    credits = {2: (1, 0, 0), 3: (0, 2, 0), 4: (0, 0, 2)}
    s.numbers = lambda src, ref: credits[f.zone[ref]]
    for m in range(f.n):
        if f.worn[m] and f.zone[m] >= 2:
            t = f.start + m * 60
            s.add(t, t + 60, TRACKER, m)
    return s


def build_active_minutes(dd: DayData) -> Series:
    f = dd.frame

    def value(src: int, ref: int) -> dict[str, Any]:
        return {"activeMinutesByActivityLevel": [{"activityLevel": LEVELS[f.level[ref]], "activeMinutes": "1"}]}

    s = Series(dd.persona, dd.day, "interval", value)
    per_level = {1: (1, 0, 0), 2: (0, 1, 0), 3: (0, 0, 1)}
    s.numbers = lambda src, ref: per_level[f.level[ref]]
    for m in range(f.n):
        if f.worn[m] and f.level[m] >= 1 and not f.sleep[m]:
            t = f.start + m * 60
            s.add(t, t + 60, TRACKER, m)
    return s


def build_sedentary_period(dd: DayData) -> Series:
    f = dd.frame
    s = Series(dd.persona, dd.day, "interval", lambda src, ref: {})
    still = bytes(1 if f.worn[m] and not f.sleep[m] and not f.level[m] and not f.act[m] else 0 for m in range(f.n))
    for a, b in runs(still, lambda v: v == 1):  # type: ignore[arg-type]
        s.add(f.start + a * 60, f.start + b * 60, TRACKER, a)
    return s


def build_time_in_heart_rate_zone(dd: DayData) -> Series:
    f = dd.frame

    def value(src: int, ref: int) -> dict[str, Any]:
        return {"heartRateZoneType": ZONES[f.zone[ref]]}

    s = Series(dd.persona, dd.day, "interval", value)
    m = 0
    while m < f.n:
        z = f.zone[m] if f.worn[m] else 0
        if not z:
            m += 1
            continue
        j = m
        while j < f.n and f.worn[j] and f.zone[j] == z:
            j += 1
        s.add(f.start + m * 60, f.start + j * 60, TRACKER, m)
        m = j
    return s


def zone_of(series: Series, i: int) -> str:
    return series.value(series.src(i), series._ref[i])["heartRateZoneType"]


def build_total_calories(dd: DayData) -> Series:
    f = dd.frame
    s = Series(dd.persona, dd.day, "interval", lambda src, ref: {})  # never rendered: no DataPoint schema
    s.numbers = lambda src, ref: (f.kcal_milli[ref],)
    for m in range(f.n):
        t = f.start + m * 60
        s.add(t, t + 60, TRACKER, m)
    return s


def _azm(tot: tuple[int, ...]) -> dict[str, Any]:
    return {"sumInFatBurnHeartZone": str(tot[0]), "sumInCardioHeartZone": str(tot[1]),
            "sumInPeakHeartZone": str(tot[2])}


def _active(tot: tuple[int, ...]) -> dict[str, Any]:
    levels = [{"activityLevel": lv, "activeMinutesSum": str(n)}
              for lv, n in zip(("LIGHT", "MODERATE", "VIGOROUS"), tot) if n]
    return {"activeMinutesRollupByActivityLevel": levels} if levels else {}


def _zones(tot: tuple[int, ...]) -> dict[str, Any]:
    zones = [{"heartRateZone": z, "duration": f"{s}s"}
             for z, s in zip(("LIGHT", "MODERATE", "VIGOROUS", "PEAK"), tot) if s]
    return {"timeInHeartRateZones": zones} if zones else {}


_ZONE_INDEX = {"LIGHT": 0, "MODERATE": 1, "VIGOROUS": 2, "PEAK": 3}


def _zone_slot(series: Series, i: int) -> tuple[int, ...]:
    return (_ZONE_INDEX[zone_of(series, i)],)


GENERATORS = (
    Generator("steps", build_steps, summed("countSum")),
    Generator("distance", build_distance, summed("millimetersSum")),
    Generator("floors", build_floors, summed("countSum")),
    Generator("altitude", build_altitude, summed("gainMillimetersSum")),
    Generator("total-calories", build_total_calories,
              RollupSpec("sum", lambda tot: {"kcalSum": round(tot[0] / 1000, 3)}, measure)),
    Generator("active-zone-minutes", build_active_zone_minutes, RollupSpec("sum", _azm, measure, 3)),
    Generator("active-minutes", build_active_minutes, RollupSpec("sum", _active, measure, 3)),
    Generator("sedentary-period", build_sedentary_period,
              RollupSpec("clip", lambda tot: {"durationSum": f"{tot[0]}s"}, None, 1)),
    Generator("time-in-heart-rate-zone", build_time_in_heart_rate_zone, RollupSpec("clip", _zones, _zone_slot, 4)),
)
