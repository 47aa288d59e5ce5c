"""The route table's data side: one generator per catalogue data type, keyed by ``DataType.path_id``.

A generator builds a participant-day ``Series``; a ``RollupSpec`` (only for types whose JSON key is a
``RollupDataPoint`` union member in discovery 20261030) says how rollups aggregate its reconciled
records. A test fails when a catalogue type has no generator, and when the set of rollup-capable
types drifts from the discovery document.

Aggregation kinds:
- ``sum``: counts attributed to the window containing the record's start (minute records always fit
  a window of 60 s or more; a multi-minute phone chunk counts where it starts);
- ``clip``: durations (sedentary, time in zone) clipped to each window by overlap;
- ``mean``: average of the samples in the window (weight, body fat);
- ``heart``: min / mean / max of the 1 s samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator import gen_activity as act
from simulator import gen_sessions as ses
from simulator import gen_vitals as vit
from simulator.series import Series
from simulator.store import DayData

Measure = Callable[[Series, int], tuple[Any, ...]]
Render = Callable[[tuple[Any, ...]], dict[str, Any]]


@dataclass(frozen=True)
class RollupSpec:
    kind: str  # sum | clip | mean | heart
    render: Render
    measure: Measure | None = None
    fields: int = 1


@dataclass(frozen=True)
class Generator:
    path_id: str
    build: Callable[[DayData], Series]
    rollup: RollupSpec | None = None


def _sum_of(field: str) -> RollupSpec:
    return RollupSpec("sum", lambda tot: {field: str(tot[0])}, act.measure)


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
    return (_ZONE_INDEX[act.zone_of(series, i)],)


GENERATORS: dict[str, Generator] = {g.path_id: g for g in (
    Generator("steps", act.build_steps, _sum_of("countSum")),
    Generator("distance", act.build_distance, _sum_of("millimetersSum")),
    Generator("floors", act.build_floors, _sum_of("countSum")),
    Generator("altitude", act.build_altitude, _sum_of("gainMillimetersSum")),
    Generator("total-calories", act.build_total_calories,
              RollupSpec("sum", lambda tot: {"kcalSum": round(tot[0] / 1000, 3)}, act.measure)),
    Generator("active-zone-minutes", act.build_active_zone_minutes, RollupSpec("sum", _azm, act.measure, 3)),
    Generator("active-minutes", act.build_active_minutes,
              RollupSpec("sum", _active, act.measure, 3)),
    Generator("sedentary-period", act.build_sedentary_period,
              RollupSpec("clip", lambda tot: {"durationSum": f"{tot[0]}s"}, None, 1)),
    Generator("time-in-heart-rate-zone", act.build_time_in_heart_rate_zone,
              RollupSpec("clip", _zones, _zone_slot, 4)),
    Generator("heart-rate", vit.build_heart_rate, RollupSpec("heart", lambda tot: {
        "beatsPerMinuteMin": float(tot[0]), "beatsPerMinuteAvg": round(tot[1], 2),
        "beatsPerMinuteMax": float(tot[2])})),
    Generator("daily-resting-heart-rate", vit.build_daily_resting_heart_rate),
    Generator("daily-heart-rate-zones", vit.build_daily_heart_rate_zones),
    Generator("heart-rate-variability", vit.build_heart_rate_variability),
    Generator("daily-heart-rate-variability", vit.build_daily_heart_rate_variability),
    Generator("oxygen-saturation", vit.build_oxygen_saturation),
    Generator("daily-oxygen-saturation", vit.build_daily_oxygen_saturation),
    Generator("daily-respiratory-rate", vit.build_daily_respiratory_rate),
    Generator("daily-sleep-temperature-derivations", vit.build_daily_sleep_temperature_derivations),
    Generator("daily-vo2-max", vit.build_daily_vo2_max),
    Generator("sleep", ses.build_sleep),
    Generator("exercise", ses.build_exercise),
    Generator("weight", vit.build_weight,
              RollupSpec("mean", lambda tot: {"weightGramsAvg": round(tot[0], 2)}, vit.measure_first_number)),
    Generator("body-fat", vit.build_body_fat,
              RollupSpec("mean", lambda tot: {"bodyFatPercentageAvg": round(tot[0], 2)}, vit.measure_first_number)),
)}

# Data types the API serves that the catalogue (and so the simulator) does not model: requests for
# them are valid and answer with no data, as the API does for a type a user has never recorded.
# A contract test keeps both sets equal to the discovery unions minus the catalogue.
OTHER_POINT_TYPES = frozenset({
    "active-energy-burned", "activity-level", "basal-energy-burned", "blood-glucose", "core-body-temperature",
    "electrocardiogram", "food", "food-measurement-unit", "height", "hydration-log",
    "irregular-rhythm-notification", "menstrual-period", "moods", "nutrition-log", "ovulation-test",
    "respiratory-rate-sleep-summary", "run-vo2-max", "swim-lengths-data", "symptoms", "vo2-max",
})
OTHER_ROLLUP_TYPES = frozenset({
    "active-energy-burned", "activity-level", "blood-glucose", "calories-in-heart-rate-zone",
    "core-body-temperature", "hydration-log", "nutrition-log", "run-vo2-max", "swim-lengths-data",
})
