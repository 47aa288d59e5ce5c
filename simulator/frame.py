"""The minute model of one participant-day: what the body did each minute, and what the tracker saw.

Everything the interval types report is read off these arrays, so rollups and reconciled points
agree by construction. Arrays are ``array.array`` (one byte or two per minute), not dicts, so a
5-user x 14-day cohort costs a few hundred kilobytes. Rules the rest of the simulator relies on:

- the tracker records only while worn (charging windows are off-wrist: no tracker steps, no heart
  rate, no zone minutes); the phone records steps during walks whenever it is carried;
- phone step intervals are chunked so each one lies entirely inside worn or off-wrist time and never
  crosses civil midnight (reconcile keeps a phone chunk only when it is entirely off-wrist);
- total calories exist for every minute (basal burn continues off-wrist), activity calories only
  while worn;
- heart-rate zones use heart-rate reserve: LIGHT 30-40 %, MODERATE 40-60 % (AZM fat burn),
  VIGOROUS 60-85 % (AZM cardio), PEAK >= 85 % (AZM peak).
"""

from __future__ import annotations

import math
import random
from array import array
from dataclasses import dataclass

from simulator.cohort import Persona
from simulator.plan import MIN, DayPlan, SleepPlan

SLEEP_CODES = {"AWAKE": 1, "LIGHT": 2, "DEEP": 3, "REM": 4, "ASLEEP": 5, "RESTLESS": 6}
ACT_WALK, ACT_RUN, ACT_BIKE, ACT_STRENGTH, ACT_YOGA, ACT_WALKOUT = 1, 2, 3, 4, 5, 6
ACT_CODES = {"RUNNING": ACT_RUN, "OUTDOOR_BIKE": ACT_BIKE, "STRENGTH_TRAINING": ACT_STRENGTH,
             "YOGA": ACT_YOGA, "WALKING": ACT_WALKOUT}
LEVELS = ("SEDENTARY", "LIGHT", "MODERATE", "VIGOROUS")
ZONES = ("", "LIGHT", "MODERATE", "VIGOROUS", "PEAK")
FLOOR_MM = 3048


def zone_bounds(p: Persona) -> tuple[int, int, int, int]:
    """Lower bpm bounds of LIGHT, MODERATE, VIGOROUS, PEAK (heart-rate reserve, Karvonen)."""
    reserve = p.max_hr - p.resting_hr
    return tuple(round(p.resting_hr + f * reserve) for f in (0.30, 0.40, 0.60, 0.85))  # type: ignore[return-value]


@dataclass(frozen=True)
class DayFrame:
    """Minute arrays for [start, start + 60 * n) of one civil day."""

    persona: Persona
    start: int
    n: int
    off: array
    sleep: array
    worn: array
    act: array
    steps_true: array
    steps: array
    dist_mm: array
    floors: array
    alt_mm: array
    hr: array
    level: array
    zone: array
    kcal_milli: array
    phone: list[tuple[int, int, int]]  # (start, end, steps), all phone chunks of the day

    def t(self, m: int) -> int:
        return self.start + m * MIN

    def minute_of(self, epoch: int) -> int:
        return (epoch - self.start) // MIN

    @property
    def end(self) -> int:
        return self.start + self.n * MIN

    def worn_spans(self) -> list[tuple[int, int]]:
        """Maximal runs of worn minutes as (first minute, end minute)."""
        return runs(self.worn, lambda v: v == 1)


def runs(values: array, pred) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    out = []
    begin = None
    for i, v in enumerate(values):
        if pred(v):
            if begin is None:
                begin = i
        elif begin is not None:
            out.append((begin, i))
            begin = None
    if begin is not None:
        out.append((begin, len(values)))
    return out


def _mark_sleep(frame_sleep: array, start: int, n: int, sp: SleepPlan | None) -> None:
    if sp is None:
        return
    for stage in sp.stages:
        for m in range(max(0, (stage.start - start) // MIN), min(n, (stage.end - start) // MIN)):
            frame_sleep[m] = SLEEP_CODES[stage.kind]


def build_frame(seed: int, p: Persona, plan: DayPlan, next_plan: DayPlan, day_range: tuple[int, int]) -> DayFrame:
    start, end = day_range
    n = (end - start) // MIN
    rng = random.Random(f"{seed}:{p.label}:{plan.day.isoformat()}:minutes")
    off = array("i", (p.offset_at(start + m * MIN) for m in range(n)))
    sleep = array("B", bytes(n))
    for sp in (plan.main_sleep, next_plan.main_sleep, *plan.naps):
        _mark_sleep(sleep, start, n, sp)
    worn = array("B", b"\x01" * n)
    for c0, c1 in plan.charging:
        for m in range(max(0, (c0 - start) // MIN), min(n, (c1 - start) // MIN)):
            worn[m] = 0
    act = array("B", bytes(n))
    phone_min = array("H", bytes(2 * n))
    steps_true = array("H", bytes(2 * n))
    cadence = array("H", bytes(2 * n))
    for w in plan.walks:
        for m in range(max(0, (w.start - start) // MIN), min(n, (w.end - start) // MIN)):
            act[m] = ACT_WALK
            cadence[m] = w.cadence
            phone_min[m] = 1 if w.phone else 0
    intensity = {}
    for wo in plan.workouts:
        intensity[wo.point_id] = rng.uniform(0.7, 0.92)
        carried = wo.kind == "WALKING" or (wo.kind == "RUNNING" and rng.random() < 0.5)
        for m in range(max(0, (wo.start - start) // MIN), min(n, (wo.end - start) // MIN)):
            t = start + m * MIN
            if any(a <= t < b for a, b in wo.pauses):
                continue
            act[m] = ACT_CODES[wo.kind]
            cadence[m] = {"RUNNING": rng.randint(156, 178), "WALKING": rng.randint(108, 126)}.get(wo.kind, 0)
            phone_min[m] = 1 if carried else 0

    rest, bounds = p.resting_hr, zone_bounds(p)
    reserve = p.max_hr - rest
    hr = array("B", bytes(n))
    level = array("B", bytes(n))
    zone = array("B", bytes(n))
    steps = array("H", bytes(2 * n))
    dist = array("I", bytes(4 * n))
    floors = array("B", bytes(n))
    alt = array("I", bytes(4 * n))
    kcal = array("I", bytes(4 * n))
    stairs = {(t - start) // MIN: f for t, f in plan.stairs if start <= t < end}
    bmr_milli_min = p.bmr_kcal * 1000 / 1440
    weight_kg = p.weight_g / 1000
    current = None
    climb_carry = 0
    for m in range(n):
        s, a = sleep[m], act[m]
        local_hour = ((start + m * MIN + off[m]) % 86400) / 3600
        if s:
            target = rest + {1: 8, 2: -3, 3: -7, 4: 2, 5: -2, 6: 4}[s]
            count = 0
        elif a == ACT_WALK or a == ACT_WALKOUT:
            count = int(cadence[m] * rng.uniform(0.85, 1.04))
            target = rest + 26 + (count - 90) * 0.45 + (14 if a == ACT_WALKOUT else 0)
        elif a == ACT_RUN:
            count = int(cadence[m] * rng.uniform(0.96, 1.02))
            target = rest + reserve * intensity_for(intensity, plan, start + m * MIN)
        elif a == ACT_BIKE:
            count = rng.randint(0, 4)
            target = rest + reserve * 0.62 * intensity_for(intensity, plan, start + m * MIN) / 0.8
        elif a in (ACT_STRENGTH, ACT_YOGA):
            count = rng.randint(0, 18) if a == ACT_STRENGTH else 0
            target = rest + reserve * (0.42 if a == ACT_STRENGTH else 0.22)
        else:
            count = rng.randint(1, 45) if rng.random() < 0.22 else 0
            target = rest + 13 + 4 * math.sin(2 * math.pi * (local_hour - 9) / 24) + count * 0.15
        current = target if current is None else current + 0.45 * (target - current)
        bpm = max(38, min(p.max_hr + 3, round(current + rng.gauss(0, 1.6))))
        hr[m] = bpm
        steps_true[m] = count
        if not worn[m]:
            kcal[m] = round(bmr_milli_min)
            continue
        steps[m] = count
        dist[m] = count * (p.stride_run_mm if a == ACT_RUN else p.stride_walk_mm)
        gain = 0
        if m in stairs:
            floors[m] = stairs[m]
            gain = stairs[m] * FLOOR_MM + rng.randint(-120, 160)
        elif a in (ACT_RUN, ACT_BIKE, ACT_WALKOUT) and rng.random() < 0.3:
            gain = rng.randint(400, 4200)
            climb_carry += gain
            if climb_carry >= FLOOR_MM:
                floors[m] = climb_carry // FLOOR_MM
                climb_carry %= FLOOR_MM
        alt[m] = gain
        if s:
            lvl = 0
        elif a == ACT_RUN or (a == ACT_BIKE and intensity_for(intensity, plan, start + m * MIN) > 0.85):
            lvl = 3
        elif a in (ACT_BIKE, ACT_STRENGTH, ACT_WALKOUT) or count >= 100:
            lvl = 2
        elif a == ACT_YOGA or count >= 30:
            lvl = 1
        else:
            lvl = 0
        level[m] = lvl if not s else 0
        zone[m] = sum(1 for b in bounds if bpm >= b)
        met = 0.95 if s else (1.25, 2.6, 4.2, 7.8)[lvl] + (1.8 if a == ACT_RUN else 0)
        kcal[m] = round(bmr_milli_min * (0.95 if s else 1.0) + max(0.0, met - 1) * weight_kg * 3.5 / 200 * 1000)

    phone = _phone_chunks(rng, start, n, steps_true, phone_min, worn)
    return DayFrame(p, start, n, off, sleep, worn, act, steps_true, steps, dist, floors, alt, hr, level, zone,
                    kcal, phone)


def intensity_for(intensity: dict[str, float], plan: DayPlan, t: int) -> float:
    for wo in plan.workouts:
        if wo.start <= t < wo.end:
            return intensity[wo.point_id]
    return 0.75


def _phone_chunks(rng: random.Random, start: int, n: int, steps_true: array, carried: array,
                  worn: array) -> list[tuple[int, int, int]]:
    """Phone step intervals: 3-10 minute chunks of carried walking, split where wear status changes."""
    chunks = []
    m = 0
    while m < n:
        if not carried[m] or not steps_true[m]:
            m += 1
            continue
        length = rng.randint(3, 10)
        j = m
        total = 0
        while j < n and j - m < length and carried[j] and steps_true[j] and worn[j] == worn[m]:
            total += int(steps_true[j] * rng.uniform(0.9, 1.08))
            j += 1
        chunks.append((start + m * MIN, start + j * MIN, max(1, total)))
        m = j
    return chunks
