"""What a participant does on one civil day: sleep, workouts, walks, charging, weigh-ins.

A plan is drawn in local wall-clock time from ``random.Random(f"{seed}:{user}:{day}:plan")`` and then
placed on the physical timeline with the persona's offsets. Items whose local time does not exist
that day (the traveller is on a plane while the clock jumps nine hours) are dropped. The main sleep
of a plan is the night that *ends* on the plan's day (Fitbit dates sleep by wake-up day), so it starts
on the previous civil day's evening. Plans are cheap and independent of each other; the minute model
(``frame.py``) reads the plan of its day and the bedtime of the next day's plan.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, timedelta

from simulator.cohort import Persona

MIN = 60


@dataclass(frozen=True)
class Stage:
    start: int
    end: int
    kind: str  # AWAKE LIGHT DEEP REM (STAGES) or ASLEEP RESTLESS (CLASSIC)


@dataclass(frozen=True)
class SleepPlan:
    point_id: str
    start: int
    end: int
    nap: bool
    stages: tuple[Stage, ...]
    short_awakenings: tuple[tuple[int, int], ...]
    created_after_s: int
    processed_after_s: int


@dataclass(frozen=True)
class Workout:
    point_id: str
    kind: str  # RUNNING WALKING OUTDOOR_BIKE STRENGTH_TRAINING YOGA
    start: int
    end: int
    gps: bool
    recording: str
    pauses: tuple[tuple[int, int], ...]
    created_after_s: int


@dataclass(frozen=True)
class Walk:
    start: int
    end: int
    cadence: int
    phone: bool


@dataclass(frozen=True)
class DayPlan:
    day: date
    main_sleep: SleepPlan | None
    naps: tuple[SleepPlan, ...]
    workouts: tuple[Workout, ...]
    walks: tuple[Walk, ...]
    stairs: tuple[tuple[int, int], ...]  # (minute epoch, floors)
    charging: tuple[tuple[int, int], ...]
    weigh_in: int | None
    manual_weight: int | None


def point_id(seed: int, persona: Persona, day: date, what: str) -> str:
    """Long decimal ids, like the live API's sleep/exercise ids; stable for a seed."""
    digest = hashlib.sha256(f"{seed}:{persona.number}:{day}:{what}".encode()).digest()
    return str(10**18 + int.from_bytes(digest[:8], "big") % (9 * 10**18))


class LocalClock:
    """Maps local minute-of-day targets to instants for one persona (first occurrence wins)."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        self._days: dict[date, dict[int, int]] = {}

    def _index(self, day: date) -> dict[int, int]:
        idx = self._days.get(day)
        if idx is None:
            start, end = self.persona.day_range(day)
            idx = {}
            for t in range(start, end, MIN):
                minute = ((t + self.persona.offset_at(t)) % 86400) // MIN
                idx.setdefault(minute, t)
            self._days[day] = idx
        return idx

    def at(self, day: date, minute: int) -> int | None:
        """Instant of local ``day`` + ``minute`` minutes (minute may exceed a day); None in a gap."""
        day = day + timedelta(days=minute // 1440)
        return self._index(day).get(minute % 1440)


def _overlaps(busy: list[tuple[int, int]], start: int, end: int, margin: int = 10 * MIN) -> bool:
    return any(start < e + margin and s - margin < end for s, e in busy)


def _sleep_stages(rng: random.Random, start: int, end: int) -> tuple[list[Stage], list[tuple[int, int]]]:
    stages: list[Stage] = []
    t = start
    first_awake = rng.randint(2, 14) * MIN
    stages.append(Stage(t, t + first_awake, "AWAKE"))
    t += first_awake
    cycle = 0
    final_awake = rng.randint(2, 9) * MIN
    stop = end - final_awake
    while t < stop:
        deep = max(5, 42 - 9 * cycle + rng.randint(-6, 6))
        rem = min(40, 8 + 7 * cycle + rng.randint(-4, 6))
        plan = [("LIGHT", rng.randint(18, 38)), ("DEEP", deep), ("LIGHT", rng.randint(8, 25)), ("REM", rem)]
        if rng.random() < 0.35:
            plan.append(("AWAKE", rng.randint(1, 6)))
        for kind, minutes in plan:
            if t >= stop:
                break
            seg_end = min(stop, t + minutes * MIN)
            if stages and stages[-1].kind == kind:
                stages[-1] = Stage(stages[-1].start, seg_end, kind)
            else:
                stages.append(Stage(t, seg_end, kind))
            t = seg_end
        cycle += 1
    if stages[-1].kind == "AWAKE":
        stages[-1] = Stage(stages[-1].start, end, "AWAKE")
    else:
        stages.append(Stage(stop, end, "AWAKE"))
    shorts = []
    for s in stages:
        if s.kind == "LIGHT" and s.end - s.start >= 15 * MIN and rng.random() < 0.3:
            at = s.start + rng.randint(3, (s.end - s.start) // MIN - 3) * MIN + rng.choice((0, 30))
            shorts.append((at, at + rng.choice((30, 60, 90))))
    return stages, shorts


def _nap_stages(rng: random.Random, start: int, end: int) -> list[Stage]:
    stages = []
    t = start
    while t < end:
        asleep = min(end, t + rng.randint(8, 22) * MIN)
        stages.append(Stage(t, asleep, "ASLEEP"))
        t = asleep
        if t < end - 6 * MIN and rng.random() < 0.6:
            restless = t + rng.randint(1, 4) * MIN
            stages.append(Stage(t, restless, "RESTLESS"))
            t = restless
    return stages


def _main_sleep(rng: random.Random, seed: int, p: Persona, day: date, clock: LocalClock) -> SleepPlan | None:
    weekend = day.weekday() >= 5
    bed_minute = 1440 + rng.randint(-110, 40) + (35 if weekend else 0)  # relative to the previous day
    wake_minute = rng.randint(375, 500) + (50 if weekend else 0)
    start = end = None
    for shift in range(0, 600):
        start = start or clock.at(day - timedelta(days=1), bed_minute + shift)
        end = end or clock.at(day, wake_minute + shift)
        if start and end:
            break
    if not start or not end or end - start < 3 * 3600:
        return None
    stages, shorts = _sleep_stages(rng, start, end)
    return SleepPlan(point_id(seed, p, day, "sleep"), start, end, False, tuple(stages), tuple(shorts),
                     rng.randint(240, 1500), rng.randint(600, 2400))


def make_plan(seed: int, p: Persona, day: date, clock: LocalClock) -> DayPlan:
    rng = random.Random(f"{seed}:{p.label}:{day.isoformat()}:plan")
    main = _main_sleep(rng, seed, p, day, clock)
    busy: list[tuple[int, int]] = [(main.start, main.end)] if main else []
    weekend = day.weekday() >= 5

    def place(minute: int, length_min: int) -> tuple[int, int] | None:
        start = clock.at(day, minute)
        if start is None or main and start < main.end + 15 * MIN:
            return None
        end = start + length_min * MIN
        if clock.at(day, minute + length_min) != end or _overlaps(busy, start, end):
            return None
        return start, end

    workouts: list[Workout] = []
    options = []
    if p.runner and rng.random() < 0.5:
        options.append(("RUNNING", rng.choice((rng.randint(455, 520), rng.randint(1080, 1170))), rng.randint(24, 55)))
    if p.cyclist and rng.random() < (0.45 if weekend else 0.2):
        options.append(("OUTDOOR_BIKE", rng.randint(600, 1080), rng.randint(35, 80)))
    if rng.random() < 0.35:
        options.append(("WALKING", rng.randint(720, 1140), rng.randint(20, 42)))
    if rng.random() < 0.2:
        options.append((rng.choice(("STRENGTH_TRAINING", "YOGA")), rng.randint(1050, 1200), rng.randint(30, 55)))
    for n, (kind, minute, length) in enumerate(options):
        slot = place(minute, length)
        if slot is None:
            continue
        busy.append(slot)
        pauses: tuple[tuple[int, int], ...] = ()
        if kind == "RUNNING" and rng.random() < 0.35:
            at = slot[0] + int(length * rng.uniform(0.4, 0.7)) * MIN
            pauses = ((at, at + rng.randint(1, 2) * MIN),)
        recording = {"WALKING": "PASSIVELY_MEASURED", "YOGA": "MANUAL"}.get(kind, "ACTIVELY_MEASURED")
        workouts.append(Workout(point_id(seed, p, day, f"exercise{n}"), kind, slot[0], slot[1],
                                kind in ("RUNNING", "OUTDOOR_BIKE"), recording, pauses, rng.randint(300, 1800)))

    naps: list[SleepPlan] = []
    if rng.random() < 0.15:
        slot = place(rng.randint(800, 960), rng.randint(20, 60))
        if slot:
            busy.append(slot)
            naps.append(SleepPlan(point_id(seed, p, day, "nap"), slot[0], slot[1], True,
                                  tuple(_nap_stages(rng, *slot)), (), rng.randint(300, 900), 0))

    charging: list[tuple[int, int]] = []
    walks: list[Walk] = []
    for _ in range(8):
        slot = place(rng.randint(500, 1150), rng.randint(30, 90))
        if slot:
            charging.append(slot)
            busy.append(slot)
            if rng.random() < 0.6:  # walks while the tracker charges: only the phone sees them
                w0 = slot[0] + rng.randint(3, 15) * MIN
                w1 = min(slot[1] - 2 * MIN, w0 + rng.randint(5, 15) * MIN)
                if w1 > w0:
                    walks.append(Walk(w0, w1, rng.randint(95, 118), True))
            break
    for lo, hi, lengths, prob in ((480, 560, (10, 25), 0.8), (720, 800, (10, 20), 0.6),
                                  (1020, 1180, (5, 20), 0.9), (1020, 1200, (5, 15), 0.5)):
        if rng.random() < prob:
            slot = place(rng.randint(lo, hi), rng.randint(*lengths))
            if slot:
                busy.append(slot)
                walks.append(Walk(slot[0], slot[1], rng.randint(92, 122), rng.random() < 0.8))
    walks.sort(key=lambda w: w.start)

    stairs = []
    for _ in range(rng.randint(1, 6)):
        at = clock.at(day, rng.randint(540, 1260))
        if at and not any(s <= at < e for s, e in charging) and not any(w.start <= at < w.end for w in workouts):
            stairs.append((at, rng.choice((1, 1, 2, 3))))
    weigh_in = manual = None
    if main and p.has_scale and rng.random() < 0.6:
        weigh_in = main.end + rng.randint(4, 30) * MIN + rng.randint(0, 59)
        if _overlaps([(w.start, w.end) for w in workouts], weigh_in, weigh_in + 1, 0):
            weigh_in = None
    elif rng.random() < 0.12:
        manual = clock.at(day, rng.randint(1140, 1260))
    return DayPlan(day, main, tuple(naps), tuple(workouts), tuple(walks), tuple(sorted(set(stairs))),
                   tuple(charging), weigh_in, manual)
