"""cohort_daily: a cohort's daily run on the embedded runtime against a simulator with realistic latency.

Issue #14: 1,000 participants x 1 day at 150 ms (+/- 50 %, seeded) simulated latency. Targets: ``failed`` 0,
``wall_s`` <= 600 on 2 cores, ``peak_rss_mib`` < 1024, no quota 429s.

The simulator runs as its own process (``python -m simulator --latency-ms 150``), with the real quotas
(300/min per user, 120,000/min per project); it reports the peaks and 429s it saw (``GET /_admin/stats``).
Participants are enrolled with grants the simulator mints (``tools.demo.enrol_minted``: one admin request
each, one secrets write): the consent flow is not what this measures (``tools/authorise.py`` is, with its
own figures in the README). The pipeline then runs the daily job for the cohort's last day (one
``RunTrigger`` of one day; sleep staging finishes at once) on the durable ``LocalRuntime``, which delivers
up to ``concurrency`` extract events at once (their round trips overlap; transform_load and the warehouse
stay on one thread, flushing whenever the staged batches pass a budget), until the queue is empty and the
warehouse flushed. ``concurrency=1`` is the sequential runtime the first figure (569.5 s for 100) was taken with.

Figures: ``wall_s`` of the run alone (enrolment apart, as ``enrol_s``); ``pipeline_cpu_s_per_participant_day``
(this process's CPU during the run, over participants x days); ``peak_rss_mib`` (this process's
peak resident set during the run: VmHWM, reset before it); the simulator's own CPU and peak RSS beside them.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from fitbit.messages import RunTrigger
from tools import demo
from tools.local_runtime import LocalRuntime
from tools.summary import summarise

END = demo.DEFAULT_END_DATE
TARGETS = {"failed": ("==", 0), "wall_s": ("<=", 600), "peak_rss_mib": ("<", 1024), "quota_429s": ("==", 0),
           "blocked_flushes": ("==", 0)}  # a blocked flush leaves rows staged (not in the warehouse)


def cohort_daily(participants: int = 1000, days: int = 1, latency_ms: float = 150.0,
                 concurrency: int | None = None, flush_staged_mib: float | None = None) -> dict[str, Any]:
    extra = ("--sleep-processing-seconds", "0", "--latency-ms", str(latency_ms), "--latency-jitter", "0.5")
    with tempfile.TemporaryDirectory(prefix="bench-cohort-") as tmp, \
            demo.simulator_process(participants, days + 1, end_date=END, extra_args=extra) as sim:
        state = demo.fresh_state_dir(Path(tmp) / "state")
        names = [f"user{i}" for i in range(1, participants + 1)]
        started = time.monotonic()
        demo.enrol_minted(state, sim.base_url, names)
        enrol_s = time.monotonic() - started
        settings = demo.demo_settings(state, sim.base_url, SLEEP_REFETCH_DELAY_S="0", OAUTH_APP_VERIFIED="true")
        budget = {} if flush_staged_mib is None else {"flush_staged_bytes": int(flush_staged_mib * 2**20)}
        runtime = LocalRuntime(settings, concurrency=concurrency, **budget)  # takes the state-dir lock; closed below
        requests.post(sim.base_url + "_admin/reset", json={}, timeout=30).raise_for_status()
        sim_cpu_before = _cpu_s(sim.process.pid)
        _reset_peak_rss()
        load_before = [round(x, 2) for x in os.getloadavg()]
        cpu, wall = time.process_time(), time.monotonic()
        runtime.publish([RunTrigger(END, days, "daily", run_id="cohort")])
        stats = runtime.run_until_empty()
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        peak_rss = _status_mib("self", "VmHWM")
        sim_stats = requests.get(sim.base_url + "_admin/stats", timeout=60).json()
        summary = summarise(runtime.adapters.warehouse())
        figures = {
            "name": "cohort_daily", "participants": participants, "days": days, "latency_ms": latency_ms,
            "runtime": "sequential" if runtime.concurrency == 1 else "concurrent extract",
            "concurrency": runtime.concurrency, "peak_in_flight": stats.peak_in_flight,
            "held_by_limiter": stats.held_by_limiter, "flushes": stats.flushes,
            "flush_staged_mib": round(runtime.flush_staged_bytes / 2**20, 1),
            "wall_s": round(wall, 1),
            "pipeline_cpu_s_per_participant_day": round(cpu / (participants * days), 4),
            "peak_rss_mib": round(peak_rss, 1),
            "failed": summary.failed_objects + len(stats.dead_lettered),
            "blocked_flushes": stats.blocked_flushes, "quarantined": len(stats.quarantined),
            "peak_user_rpm": sim_stats["quota"]["peak_user_rpm"],
            "peak_project_rpm": sim_stats["quota"]["peak_project_rpm"],
            "quota_429s": sim_stats["quota"]["429s"]["user"] + sim_stats["quota"]["429s"]["project"],
            "requests": sim_stats["requests"], "rows": summary.total_rows, "deferred": stats.deferred,
            "pipeline_cpu_s": round(cpu, 1), "enrol_s": round(enrol_s, 1),
            "simulator_cpu_s": round(_cpu_s(sim.process.pid) - sim_cpu_before, 1),
            "simulator_peak_rss_mib": round(_status_mib(str(sim.process.pid), "VmHWM"), 1),
            "load_avg_before": load_before, "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        }
        runtime.adapters.warehouse().close()
        runtime.close()
    return figures


def verdicts(figures: dict[str, Any]) -> list[str]:
    out = []
    for key, (op, limit) in TARGETS.items():
        value = figures[key]
        ok = {"==": value == limit, "<=": value <= limit, "<": value < limit}[op]
        out.append(f"{key} {value} ({'meets' if ok else 'MISSES'} {op} {limit})")
    return out


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS (Linux)


def _status_mib(pid: str, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process (``/proc/PID/stat`` fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
