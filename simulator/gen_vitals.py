"""Generators for heart rate, the sleep-time samples, the daily derived metrics and body measurements.

- ``heart-rate``: 1 s samples while worn (``heart.py``), ``beatsPerMinute`` as an int64 string.
- ``heart-rate-variability`` / ``oxygen-saturation``: samples during the main sleep (every 5 min /
  every minute while asleep); a civil day holds the samples that fall inside it, so a night is split
  between the evening and the morning day.
- Daily types: one point per civil day, ``date`` only, derived from that day's night and persona;
  ``dataSource.recordingMethod`` is ``DERIVED``.
- ``weight`` / ``body-fat``: an Aria scale some mornings (``formFactor: SCALE``), and now and then a
  manual weight log (``recordingMethod: MANUAL``) on a day without a weigh-in. Live ``list`` answers name
  these samples too; the cohort's first manual log comes without a name (``quirks.py``).
- ``daily-sleep-temperature-derivations``: the 30-day relative deviation needs history, so the window's
  first two nights send it as the JSON string ``"NaN"``, as live accounts do (``SimConfig.nan_temperatures``).
"""

from __future__ import annotations

import math
import statistics
from datetime import timedelta
from typing import Any

from simulator.frame import zone_bounds
from simulator.plan import point_id
from simulator.quirks import manual_weight_id
from simulator.series import DERIVED, MANUAL, SCALE, TRACKER, HeartSeries, Series
from simulator.spec import Generator, RollupSpec
from simulator.store import DayData


def build_heart_rate(dd: DayData) -> Series:
    return HeartSeries(dd.persona, dd.day, dd.heart)


def _night_samples(dd: DayData, kind: str) -> list[tuple[Any, ...]]:
    start, end = dd.frame.start, dd.frame.end
    out = []
    for day in (dd.day, dd.day + timedelta(days=1)):
        night = dd.night(day)
        if night is not None:
            out.extend(s for s in getattr(night, kind) if start <= s[0] < end)
    out.sort()
    return out


def build_heart_rate_variability(dd: DayData) -> Series:
    samples = _night_samples(dd, "hrv")

    def value(src: int, ref: int) -> dict[str, Any]:
        _, rmssd, sdnn = samples[ref]
        return {"rootMeanSquareOfSuccessiveDifferencesMilliseconds": rmssd, "standardDeviationMilliseconds": sdnn}

    s = Series(dd.persona, dd.day, "sample", value)
    for k, (t, *_rest) in enumerate(samples):
        s.add(t, t, TRACKER, k)
    return s


def build_oxygen_saturation(dd: DayData) -> Series:
    samples = _night_samples(dd, "spo2")
    s = Series(dd.persona, dd.day, "sample", lambda src, ref: {"percentage": samples[ref][1]})
    for k, (t, _) in enumerate(samples):
        s.add(t, t, TRACKER, k)
    return s


def _daily(dd: DayData, value: dict[str, Any] | None) -> Series:
    s = Series(dd.persona, dd.day, "daily", lambda src, ref: value or {})
    if value is not None:
        s.add(dd.frame.start, dd.frame.start, DERIVED, 0)
    return s


def build_daily_resting_heart_rate(dd: DayData) -> Series:
    rng = dd.rng("resting-hr")
    yesterday = dd.store.plan(dd.persona, dd.day - timedelta(days=1))
    hard = any(w.kind in ("RUNNING", "OUTDOOR_BIKE") for w in yesterday.workouts)
    bpm = dd.persona.resting_hr + rng.randint(-2, 2) + (1 if hard else 0)
    method = "WITH_SLEEP" if dd.plan.main_sleep else "ONLY_WITH_AWAKE_DATA"
    return _daily(dd, {"beatsPerMinute": str(bpm), "dailyRestingHeartRateMetadata": {"calculationMethod": method}})


def build_daily_heart_rate_zones(dd: DayData) -> Series:
    b = zone_bounds(dd.persona)
    tops = (b[1] - 1, b[2] - 1, b[3] - 1, dd.persona.max_hr)
    zones = [{"heartRateZoneType": name, "minBeatsPerMinute": str(lo), "maxBeatsPerMinute": str(hi)}
             for name, lo, hi in zip(("LIGHT", "MODERATE", "VIGOROUS", "PEAK"), b, tops)]
    return _daily(dd, {"heartRateZones": zones})


def build_daily_heart_rate_variability(dd: DayData) -> Series:
    night = dd.night()
    if night is None or not night.hrv:
        return _daily(dd, None)
    rng = dd.rng("daily-hrv")
    value: dict[str, Any] = {
        "averageHeartRateVariabilityMilliseconds": round(statistics.fmean(r for _, r, _ in night.hrv), 1),
    }
    if night.deep_rmssd is not None:
        value["deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds"] = night.deep_rmssd
    value["entropy"] = round(rng.uniform(1.9, 2.6), 3)
    value["nonRemHeartRateBeatsPerMinute"] = str(dd.persona.resting_hr - rng.randint(1, 4))
    return _daily(dd, value)


def build_daily_oxygen_saturation(dd: DayData) -> Series:
    night = dd.night()
    if night is None or len(night.spo2) < 2:
        return _daily(dd, None)
    values = [v for _, v in night.spo2]
    return _daily(dd, {
        "averagePercentage": round(statistics.fmean(values), 1),
        "lowerBoundPercentage": min(values),
        "upperBoundPercentage": max(values),
        "standardDeviationPercentage": round(statistics.pstdev(values), 2),
    })


def build_daily_respiratory_rate(dd: DayData) -> Series:
    if dd.night() is None:
        return _daily(dd, None)
    rng = dd.rng("respiratory")
    return _daily(dd, {"breathsPerMinute": round(14.8 + (dd.persona.number % 3) * 0.6 + rng.gauss(0, 0.5), 1)})


def build_daily_sleep_temperature_derivations(dd: DayData) -> Series:
    if dd.night() is None:
        return _daily(dd, None)
    rng = dd.rng("temperature")
    baseline = 33.4 + (dd.persona.number % 4) * 0.15
    deviation: float | str = round(rng.uniform(0.12, 0.35), 2)
    if dd.store.nan_temperatures and dd.day < dd.store.cohort.days[0] + timedelta(days=2):
        deviation = "NaN"  # no 30 days of history yet: live accounts send the JSON string
    return _daily(dd, {
        "nightlyTemperatureCelsius": round(baseline + rng.gauss(0, 0.25), 2),
        "baselineTemperatureCelsius": round(baseline, 2),
        "relativeNightlyStddev30dCelsius": deviation,
    })


def build_daily_vo2_max(dd: DayData) -> Series:
    p = dd.persona
    rng = dd.rng("vo2max")
    vo2 = round(p.vo2_max + 0.4 * math.sin(dd.day.toordinal() / 9) + rng.gauss(0, 0.15), 1)
    levels = ((30, "POOR"), (36, "FAIR"), (42, "AVERAGE"), (47, "GOOD"), (52, "VERY_GOOD"))
    level = next((name for bound, name in levels if vo2 < bound), "EXCELLENT")
    value: dict[str, Any] = {"vo2Max": vo2, "vo2MaxCovariance": round(rng.uniform(0.8, 3.5), 2),
                             "cardioFitnessLevel": level}
    if not p.runner:
        value["estimated"] = True
    return _daily(dd, value)


def _weight_grams(dd: DayData, what: str) -> float:
    rng = dd.rng(what)
    drift = 350 * math.sin(dd.day.toordinal() / 6 + dd.persona.number)
    return round((dd.persona.weight_g + drift + rng.gauss(0, 180)) / 50) * 50.0


def build_weight(dd: DayData) -> Series:
    plan = dd.plan
    entries: list[tuple[int, int, dict[str, Any]]] = []
    ids: list[str] = []
    if plan.weigh_in is not None:
        entries.append((plan.weigh_in, SCALE, {"weightGrams": _weight_grams(dd, "scale-weight")}))
        ids.append(point_id(dd.seed, dd.persona, dd.day, "weight-scale"))
    if plan.manual_weight is not None:
        entries.append((plan.manual_weight, MANUAL,
                        {"weightGrams": _weight_grams(dd, "manual-weight"), "notes": "evening weigh-in"}))
        manual = manual_weight_id(dd.store, dd.persona, dd.day)
        ids.append("" if dd.store.quirks.unnamed(dd.persona, "weight", manual) else manual)
    s = Series(dd.persona, dd.day, "sample", lambda src, ref: entries[ref][2])
    s.ids = ids
    for k, (t, src, _) in enumerate(entries):
        s.add(t, t, src, k)
    return s.sort()


def build_body_fat(dd: DayData) -> Series:
    plan = dd.plan
    rng = dd.rng("body-fat")
    pct = round(dd.persona.body_fat_pct + rng.gauss(0, 0.4), 1)
    s = Series(dd.persona, dd.day, "sample", lambda src, ref: {"percentage": pct})
    if plan.weigh_in is not None:
        s.ids = [point_id(dd.seed, dd.persona, dd.day, "body-fat")]
        s.add(plan.weigh_in, plan.weigh_in, SCALE, 0)
    return s


def measure_first_number(series: Series, i: int) -> tuple[float, ...]:
    body = series.value(series.src(i), series._ref[i])
    return (float(body.get("weightGrams", body.get("percentage", 0.0))),)


def _heart(tot: tuple[Any, ...]) -> dict[str, Any]:
    return {"beatsPerMinuteMin": float(tot[0]), "beatsPerMinuteAvg": round(tot[1], 2),
            "beatsPerMinuteMax": float(tot[2])}


GENERATORS = (
    Generator("heart-rate", build_heart_rate, RollupSpec("heart", _heart)),
    Generator("daily-resting-heart-rate", build_daily_resting_heart_rate),
    Generator("daily-heart-rate-zones", build_daily_heart_rate_zones),
    Generator("heart-rate-variability", build_heart_rate_variability),
    Generator("daily-heart-rate-variability", build_daily_heart_rate_variability),
    Generator("oxygen-saturation", build_oxygen_saturation),
    Generator("daily-oxygen-saturation", build_daily_oxygen_saturation),
    Generator("daily-respiratory-rate", build_daily_respiratory_rate),
    Generator("daily-sleep-temperature-derivations", build_daily_sleep_temperature_derivations),
    Generator("daily-vo2-max", build_daily_vo2_max),
    Generator("weight", build_weight, occasional=True,
              rollup=RollupSpec("mean", lambda tot: {"weightGramsAvg": round(tot[0], 2)}, measure_first_number)),
    Generator("body-fat", build_body_fat, occasional=True,
              rollup=RollupSpec("mean", lambda tot: {"bodyFatPercentageAvg": round(tot[0], 2)}, measure_first_number)),
)
