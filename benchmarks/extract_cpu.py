"""CPU per API request on the extract path, apart from transform (issue #14).

``python -m benchmarks.extract_cpu [PARTICIPANTS]`` (default 30): every unit of a cohort's daily run goes
through ``extract_unit`` once, sequentially, on the real local raw store and SQLite queue, against a
simulator process (no latency). Prints one JSON line: ``pipeline_cpu_ms_per_request`` (this process's
CPU over the requests, token refreshes included: one per participant) and ``simulator_cpu_ms_per_request``
(the simulator process's CPU over the same requests). Not part of ``python -m benchmarks``: a diagnostic
for the per-request cost that ``cohort_daily`` mixes with transform_load's.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.cohort import END, _cpu_s
from fitbit import plan
from fitbit.jobs.extract import extract_unit
from fitbit.messages import RunTrigger
from helper.compose import extract_context
from tools import demo


def extract_cpu(participants: int = 30) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp, \
            demo.simulator_process(participants, 2, end_date=END,
                                   extra_args=("--sleep-processing-seconds", "0")) as sim:
        state = demo.fresh_state_dir(Path(tmp) / "state")
        names = [f"user{i}" for i in range(1, participants + 1)]
        demo.enrol_minted(state, sim.base_url, names)
        ctx = extract_context(demo.demo_settings(state, sim.base_url, OAUTH_APP_VERIFIED="true"))
        units = plan.units_for_run(RunTrigger(END, 1, "daily", run_id="extract-cpu"), names, END, ctx.options)
        sim_cpu, cpu, wall = _cpu_s(sim.process.pid), time.process_time(), time.monotonic()
        outcomes = Counter(extract_unit(unit, ctx) for unit in units)
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        sim_cpu = _cpu_s(sim.process.pid) - sim_cpu
    return {"name": "extract_cpu", "participants": participants, "requests": len(units),
            "outcomes": dict(outcomes), "wall_s": round(wall, 1),
            "pipeline_cpu_ms_per_request": round(cpu / len(units) * 1000, 2),
            "simulator_cpu_ms_per_request": round(sim_cpu / len(units) * 1000, 2)}


if __name__ == "__main__":
    print(json.dumps(extract_cpu(int(sys.argv[1]) if len(sys.argv) > 1 else 30)))
