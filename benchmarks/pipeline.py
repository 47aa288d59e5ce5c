"""api_requests_per_participant_day and e2e_scaling: the embedded pipeline against a simulator process.

Both run the real flow of ``make demo``: ``python -m simulator`` as its own process, participants
enrolled through the OAuth consent flow, then ``LocalRuntime`` delivering every message and storage
event through the functions' entry points into DuckDB. Requests are counted by the simulator itself
(``POST /_admin/reset`` before a run, ``GET /_admin/stats`` after it); OAuth calls are not API requests.

Sleep staging is set to finish at once (``--sleep-processing-seconds 0``) so no run sits idle waiting
for a delayed sleep re-read; in production a night still being staged adds one request per re-read
(at most ``MAX_SLEEP_REFETCHES``) to that participant's day.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import requests

from tools import demo
from fitbit.messages import RunTrigger
from tools.local_runtime import LocalRuntime
from tools.summary import summarise

END = demo.DEFAULT_END_DATE


def _requests(base_url: str) -> int:
    return int(requests.get(base_url + "_admin/stats", timeout=30).json()["requests"])


def _reset(base_url: str) -> None:
    requests.post(base_url + "_admin/reset", json={}, timeout=30).raise_for_status()


def _run(runtime: LocalRuntime, end: date, days: int, reason: str, run_id: str) -> float:
    runtime.publish([RunTrigger(end, days, reason, run_id=run_id)])  # type: ignore[arg-type]
    started = time.monotonic()
    runtime.run_until_empty()
    return time.monotonic() - started


def _pipeline(users: int, sim_days: int, state: Path, sim_url: str) -> LocalRuntime:
    participants = [f"user{i}" for i in range(1, users + 1)]
    demo.enrol(state, sim_url, participants)
    return LocalRuntime(demo.demo_settings(state, sim_url, SLEEP_REFETCH_DELAY_S="0"))


def api_requests(users: int = 1, backfill_days: int = 90) -> dict[str, Any]:
    """Requests per participant-day: a ``backfill_days`` history, then the steady-state daily run."""
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp, \
            demo.simulator_process(users, backfill_days + 2, end_date=END,
                                   extra_args=("--sleep-processing-seconds", "0")) as sim:
        runtime = _pipeline(users, backfill_days + 2, demo.fresh_state_dir(Path(tmp) / "state"), sim.base_url)
        _reset(sim.base_url)
        history_s = _run(runtime, END, backfill_days, "backfill", "history")
        backfill = _requests(sim.base_url)
        _reset(sim.base_url)
        window = runtime.settings.refetch_days
        daily_s = _run(runtime, END, window, "daily", "daily")
        daily = _requests(sim.base_url)
        failed = summarise(runtime.adapters.warehouse()).failed_objects + len(runtime.stats.dead_lettered)
    return {
        "name": "api_requests_per_participant_day",
        "daily": round(daily / users, 2),
        "backfill": round(backfill / (users * backfill_days), 3),
        "participants": users, "backfill_days": backfill_days, "daily_window_days": window,
        "daily_requests": daily, "backfill_requests": backfill,
        "daily_per_window_day": round(daily / (users * window), 2),
        "backfill_wall_s": round(history_s, 1), "daily_wall_s": round(daily_s, 1), "failed": failed,
        "target_daily_max": 30,
    }


def e2e_scaling(participant_counts: tuple[int, ...] = (1, 10, 50), days: int = 7) -> dict[str, Any]:
    """Wall time of one backfill run of ``days`` days for each cohort size, and how it scales."""
    points = []
    for users in participant_counts:
        with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp, \
                demo.simulator_process(users, days, end_date=END,
                                       extra_args=("--sleep-processing-seconds", "0")) as sim:
            runtime = _pipeline(users, days, demo.fresh_state_dir(Path(tmp) / "state"), sim.base_url)
            _reset(sim.base_url)
            wall = _run(runtime, END, days, "backfill", "e2e")
            summary = summarise(runtime.adapters.warehouse())
            points.append({"participants": users, "days": days, "participant_days": users * days,
                           "wall_s": round(wall, 2), "rows": summary.total_rows,
                           "rows_per_s": round(summary.total_rows / wall), "requests": _requests(sim.base_url),
                           "s_per_participant_day": round(wall / (users * days), 3),
                           "failed": summary.failed_objects + len(runtime.stats.dead_lettered)})
            runtime.adapters.warehouse().close()
    slope, intercept, r2 = _fit([p["participant_days"] for p in points], [p["wall_s"] for p in points])
    return {"name": "e2e_scaling", "days": days, "points": points,
            "slope_s_per_participant_day": round(slope, 4), "intercept_s": round(intercept, 2),
            "r_squared": round(r2, 4),
            "per_participant_day_largest_vs_smallest": round(points[-1]["s_per_participant_day"]
                                                             / points[0]["s_per_participant_day"], 2)}


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least-squares line through (participant-days, seconds) and its R²."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys))
    return slope, intercept, 1 - ss_res / ss_tot if ss_tot else 1.0
