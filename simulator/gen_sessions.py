"""Generators for the identifiable session types: sleep and exercise.

Sleep (dated by the day it ends): main sleep with STAGES (contiguous AWAKE/LIGHT/DEEP/REM segments
covering the whole interval, ``summary`` computed from them, ``stagesSummary`` per stage type),
occasional CLASSIC naps (``nap: true``, ``stagesStatus: REJECTED_NAP``). The participant's most
recent night is first served as live accounts send a night still in progress: its interval, only
``mainSleep`` in its metadata, no ``type``, no stages and no summary (team spec §12); once the store says
staging is done, it is rewritten in place: same ``name``, STAGES, ``processed: true``, later
``updateTime``. Session ``interval`` blocks carry no civil times (as seen on live payloads). The cohort's
first nap comes without a resource name (``quirks.py``).

Exercise (dated by its start): metrics are sums over the minute model during the session, so a
run's steps equal the tracker's steps in those minutes. GPS sessions (runs, rides) carry
``exerciseMetadata.hasGps`` and per-km splits for runs; ``tcx.py`` exports their track.
"""

from __future__ import annotations

import hashlib
import random
import statistics
from typing import Any

from simulator.frame import ZONES
from simulator.plan import SleepPlan, Workout
from simulator.series import DERIVED, MANUAL, TRACKER, Series, source_dict, span
from simulator.spec import Generator
from simulator.store import DayData
from simulator.timefmt import duration, rfc3339_micros

DISPLAY = {"RUNNING": "Run", "WALKING": "Walk", "OUTDOOR_BIKE": "Outdoor bike", "STRENGTH_TRAINING": "Weights",
           "YOGA": "Yoga"}
STAGE_ORDER = ("AWAKE", "LIGHT", "DEEP", "REM", "ASLEEP", "RESTLESS")


def _micros(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % 1_000_000


def _stage(dd: DayData, t0: int, t1: int, kind: str) -> dict[str, Any]:
    return {**span(dd.persona, t0, t1), "type": kind}


def _summary(sp: SleepPlan) -> dict[str, Any]:
    minutes: dict[str, int] = {}
    counts: dict[str, int] = {}
    for st in sp.stages:
        minutes[st.kind] = minutes.get(st.kind, 0) + (st.end - st.start) // 60
        counts[st.kind] = counts.get(st.kind, 0) + 1
    total = (sp.end - sp.start) // 60
    awake = minutes.get("AWAKE", 0)
    asleep = total - awake - minutes.get("RESTLESS", 0)
    out: dict[str, Any] = {"minutesInSleepPeriod": str(total), "minutesAsleep": str(asleep)}
    if awake:
        out["minutesAwake"] = str(awake)
    out["stagesSummary"] = [{"type": k, "minutes": str(minutes[k]), "count": str(counts[k])}
                            for k in STAGE_ORDER if k in minutes]
    return out


def sleep_body(dd: DayData, sp: SleepPlan, processed: bool) -> dict[str, Any]:
    created = sp.end + sp.created_after_s
    create_time = rfc3339_micros(created, _micros(sp.point_id + "c"))
    body: dict[str, Any] = {"interval": span(dd.persona, sp.start, sp.end)}
    if not processed:
        body.update({"metadata": {"mainSleep": True}, "createTime": create_time, "updateTime": create_time})
        return body
    body["type"] = "CLASSIC" if sp.nap else "STAGES"
    body["stages"] = [_stage(dd, st.start, st.end, st.kind) for st in sp.stages]
    if sp.short_awakenings:
        body["shortAwakenings"] = [_stage(dd, a, b, "AWAKE") for a, b in sp.short_awakenings]
    body["summary"] = _summary(sp)
    body["metadata"] = ({"processed": True, "nap": True, "stagesStatus": "REJECTED_NAP"} if sp.nap
                        else {"processed": True, "mainSleep": True, "stagesStatus": "SUCCEEDED"})
    updated = created + sp.processed_after_s
    body["createTime"] = create_time
    body["updateTime"] = rfc3339_micros(updated, _micros(sp.point_id + "u")) if sp.processed_after_s else create_time
    return body


def build_sleep(dd: DayData) -> Series:
    plan = dd.plan
    sessions = [sp for sp in (plan.main_sleep, *plan.naps) if sp is not None]
    latest = dd.day == dd.store.cohort.days[-1]

    def value(src: int, ref: int) -> dict[str, Any]:
        sp = sessions[ref]
        pending = latest and not sp.nap and not dd.store.sleep_processed()
        return sleep_body(dd, sp, processed=not pending)

    s = Series(dd.persona, dd.day, "session", value)
    s.ids = ["" if dd.store.quirks.unnamed(dd.persona, "sleep", sp.point_id) else sp.point_id for sp in sessions]
    for k, sp in enumerate(sessions):
        s.add(sp.start, sp.end, DERIVED, k)
    return s.sort()


def minute_distances(dd: DayData, wo: Workout) -> list[float]:
    """Distance (mm) per minute of the session: tracker strides on foot, a speed model on a bike."""
    f = dd.frame
    rng = random.Random(f"{dd.seed}:{wo.point_id}:distance")
    out = []
    for t in range(wo.start, wo.end, 60):
        m = f.minute_of(t)
        if any(a <= t < b for a, b in wo.pauses):
            out.append(0.0)
        elif wo.kind == "OUTDOOR_BIKE":
            out.append(round(rng.uniform(4800, 7200) * 60, 1))
        else:
            out.append(float(f.dist_mm[m]))
    return out


def _metrics(dd: DayData, wo: Workout, active_s: int) -> dict[str, Any]:
    f = dd.frame
    if wo.recording == "MANUAL":
        minutes = range(f.minute_of(wo.start), f.minute_of(wo.end))
        return {"caloriesKcal": round(sum(f.kcal_milli[m] for m in minutes) / 1000, 1)}
    minutes = [f.minute_of(t) for t in range(wo.start, wo.end, 60) if not any(a <= t < b for a, b in wo.pauses)]
    steps = sum(f.steps[m] for m in minutes)
    distance = sum(minute_distances(dd, wo))
    out: dict[str, Any] = {"caloriesKcal": round(sum(f.kcal_milli[m] for m in minutes) / 1000, 1)}
    if distance:
        out["distanceMillimeters"] = round(distance, 1)
    if steps:
        out["steps"] = str(steps)
    out["averageHeartRateBeatsPerMinute"] = str(round(statistics.fmean(f.hr[m] for m in minutes)))
    azm = sum({2: 1, 3: 2, 4: 2}.get(f.zone[m], 0) for m in minutes)
    if azm:
        out["activeZoneMinutes"] = str(azm)
    if distance:
        out["averagePaceSecondsPerMeter"] = round(active_s / (distance / 1000), 4)
        out["averageSpeedMillimetersPerSecond"] = round(distance / active_s, 1)
    gain = sum(f.alt_mm[m] for m in minutes)
    if gain:
        out["elevationGainMillimeters"] = float(gain)
    if wo.kind == "RUNNING":
        out["runVo2Max"] = round(dd.persona.vo2_max + random.Random(wo.point_id).gauss(0, 0.6), 1)
    zones = {}
    for m in minutes:
        if f.zone[m]:
            zones[ZONES[f.zone[m]]] = zones.get(ZONES[f.zone[m]], 0) + 60
    if zones:
        out["heartRateZoneDurations"] = {f"{z.lower()}Time": duration(zones[z]) for z in ZONES[1:] if z in zones}
    if wo.kind == "RUNNING" and steps:
        out["mobilityMetrics"] = {"avgCadenceStepsPerMinute": round(steps / (active_s / 60), 1),
                                  "avgStrideLengthMillimeters": str(dd.persona.stride_run_mm)}
    return out


def _splits(dd: DayData, wo: Workout) -> list[dict[str, Any]]:
    """Per-kilometre splits of a run, boundaries interpolated to the second."""
    f = dd.frame
    per_minute = minute_distances(dd, wo)
    splits, done, prev_t, next_km = [], 0.0, wo.start, 1_000_000.0
    for k, mm in enumerate(per_minute):
        t = wo.start + k * 60
        while mm and done + mm >= next_km:
            at = t + int(60 * (next_km - done) / mm)
            paused = sum(max(0, min(b, at) - max(a, prev_t)) for a, b in wo.pauses)
            minutes = range(f.minute_of(prev_t), f.minute_of(at - 1) + 1)
            active = at - prev_t - paused
            splits.append({**span(dd.persona, prev_t, at), "activeDuration": duration(active), "splitType": "DISTANCE",
                           "metricsSummary": {"distanceMillimeters": 1000000.0,
                                              "averagePaceSecondsPerMeter": round(active / 1000, 4),
                                              "averageHeartRateBeatsPerMinute":
                                                  str(round(statistics.fmean(f.hr[m] for m in minutes)))}})
            prev_t, next_km = at, next_km + 1_000_000.0
        done += mm
    return splits


def exercise_body(dd: DayData, wo: Workout) -> dict[str, Any]:
    paused = sum(b - a for a, b in wo.pauses)
    active_s = wo.end - wo.start - paused
    body: dict[str, Any] = {"interval": span(dd.persona, wo.start, wo.end), "exerciseType": wo.kind,
                            "displayName": DISPLAY[wo.kind], "activeDuration": duration(active_s)}
    if wo.recording != "PASSIVELY_MEASURED":
        events = [(wo.start, "START")]
        for a, b in wo.pauses:
            events += [(a, "PAUSE"), (b, "RESUME")]
        events.append((wo.end, "STOP"))
        body["exerciseEvents"] = [{"eventTime": span(dd.persona, t, t)["startTime"],
                                   **({"eventUtcOffset": duration(dd.persona.offset_at(t))}
                                      if dd.persona.offset_at(t) and not dd.persona.health_connect else {}),
                                   "exerciseEventType": kind} for t, kind in events]
    body["metricsSummary"] = _metrics(dd, wo, active_s)
    if wo.kind == "RUNNING" and wo.gps:
        splits = _splits(dd, wo)
        if splits:
            body["splits"] = splits
    body["exerciseMetadata"] = {"hasGps": True} if wo.gps else {}
    if wo.recording == "MANUAL":
        body["notes"] = "logged after class"
    created = wo.end + wo.created_after_s
    stamp = rfc3339_micros(created, _micros(wo.point_id))
    body["createTime"] = stamp
    body["updateTime"] = stamp
    return body


def build_exercise(dd: DayData) -> Series:
    workouts = list(dd.plan.workouts)

    def source(src: int, ref: int) -> dict[str, Any]:
        wo = workouts[ref]
        return source_dict(dd.persona, MANUAL if wo.recording == "MANUAL" else TRACKER, wo.recording)

    s = Series(dd.persona, dd.day, "session", lambda src, ref: exercise_body(dd, workouts[ref]), source)
    s.ids = [wo.point_id for wo in workouts]
    for k, wo in enumerate(workouts):
        s.add(wo.start, wo.end, MANUAL if wo.recording == "MANUAL" else TRACKER, k)
    return s.sort()


GENERATORS = (
    Generator("sleep", build_sleep),
    Generator("exercise", build_exercise),
)
