"""Lazy, cached access to the synthetic cohort's data, one participant-day at a time.

Nothing is generated at start-up: a day's plan, minute frame, 1 s heart rate and per-type series are
built the first time a request touches them and then kept (they are pure functions of the seed, so
caching never changes an answer). A single lock serialises generation; it is CPU-bound anyway.
Only days inside the simulated window have data; plans exist for any day because a frame needs the
next day's bedtime.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from simulator.cohort import Cohort, Persona
from simulator.frame import DayFrame, build_frame
from simulator.heart import HeartSeconds
from simulator.plan import DayPlan, LocalClock, SleepPlan, make_plan
from simulator.quirks import Quirks
from simulator.series import Series

if TYPE_CHECKING:
    from simulator.config import SimConfig


@dataclass(frozen=True)
class Night:
    """HRV and SpO2 samples of one main sleep (the night ending on ``day``)."""

    hrv: tuple[tuple[int, float, float], ...]  # (instant, rmssd ms, sdnn ms)
    spo2: tuple[tuple[int, float], ...]  # (instant, percent)
    deep_rmssd: float | None


Builder = Callable[["DayData"], Series]


class DataStore:
    """The cohort's data, built on demand; ``builders`` make a participant-day series per type path id."""

    def __init__(self, seed: int, cohort: Cohort, sleep_processed: Callable[[], bool],
                 builders: Mapping[str, Builder], config: SimConfig | None = None) -> None:
        self.seed = seed
        self.cohort = cohort
        self.sleep_processed = sleep_processed
        self.nan_temperatures = config.nan_temperatures if config else False
        self.quirks = Quirks(self, unnamed=bool(config and config.unnamed_points),
                             deletions=bool(config and config.deletions))
        self._builders = builders
        self._lock = threading.RLock()
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._clocks = {p.number: LocalClock(p) for p in cohort.personas}

    def _get(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                hit = build()
                self._cache[key] = hit
            return hit

    def in_window(self, day: date) -> bool:
        return self.cohort.days[0] <= day <= self.cohort.days[-1]

    def plan(self, p: Persona, day: date) -> DayPlan:
        return self._get(("plan", p.number, day), lambda: make_plan(self.seed, p, day, self._clocks[p.number]))

    def frame(self, p: Persona, day: date) -> DayFrame:
        def build() -> DayFrame:
            nxt = self.plan(p, day + timedelta(days=1))
            return build_frame(self.seed, p, self.plan(p, day), nxt, p.day_range(day))

        return self._get(("frame", p.number, day), build)

    def heart(self, p: Persona, day: date) -> HeartSeconds:
        return self._get(("heart", p.number, day), lambda: HeartSeconds(self.seed, self.frame(p, day), day.isoformat()))

    def night(self, p: Persona, day: date) -> Night | None:
        plan = self.plan(p, day)
        if plan.main_sleep is None:
            return None
        return self._get(("night", p.number, day), lambda: _night(self.seed, p, day, plan.main_sleep))

    def series(self, p: Persona, path_id: str, day: date) -> Series:
        return self._get(("series", p.number, path_id, day), lambda: self._builders[path_id](DayData(self, p, day)))

    def window_days(self, p: Persona) -> tuple[date, ...]:
        return self.cohort.days


@dataclass(frozen=True)
class DayData:
    """What a generator gets: one participant-day and the store to reach its neighbours."""

    store: DataStore
    persona: Persona
    day: date

    @property
    def seed(self) -> int:
        return self.store.seed

    @property
    def plan(self) -> DayPlan:
        return self.store.plan(self.persona, self.day)

    @property
    def frame(self) -> DayFrame:
        return self.store.frame(self.persona, self.day)

    @property
    def heart(self) -> HeartSeconds:
        return self.store.heart(self.persona, self.day)

    def rng(self, what: str) -> random.Random:
        return random.Random(f"{self.seed}:{self.persona.label}:{self.day.isoformat()}:{what}")

    def night(self, day: date | None = None) -> Night | None:
        return self.store.night(self.persona, day or self.day)


def _night(seed: int, p: Persona, day: date, sleep: SleepPlan) -> Night:
    """HRV every 5 min and SpO2 every minute while asleep (not while awake in bed)."""
    rng = random.Random(f"{seed}:{p.label}:{day.isoformat()}:night")
    level = p.hrv_ms * rng.uniform(0.85, 1.15)
    spo2_base = rng.uniform(94.5, 97.5)
    hrv, spo2, deep = [], [], []
    for stage in sleep.stages:
        if stage.kind == "AWAKE":
            continue
        for t in range(stage.start, stage.end, 60):
            spo2.append((t, round(min(100.0, spo2_base + rng.gauss(0, 0.8)), 1)))
            if (t - sleep.start) % 300 == 0:
                factor = {"DEEP": 1.18, "REM": 0.88}.get(stage.kind, 1.0)
                rmssd = round(max(8.0, level * factor + rng.gauss(0, 4.0)), 1)
                hrv.append((t, rmssd, round(rmssd * rng.uniform(1.1, 1.45), 1)))
                if stage.kind == "DEEP":
                    deep.append(rmssd)
    return Night(tuple(hrv), tuple(spo2), round(sum(deep) / len(deep), 1) if deep else None)
