#!/usr/bin/env python3
"""`make demo`: the daily job plus the 14-day history on the embedded default, against the simulator.

Starts the simulator (N participants, D days), enrols every participant through the OAuth consent flow,
runs the history and the daily job through the local runtime until the queue is empty, and prints the
summary, the `demo:` line and the DuckDB file's path. The state dir (.state/demo) is wiped first and kept
afterwards; `--resume` keeps it, to finish a demo that was interrupted (Ctrl-C, kill -9, a crash).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools import demo  # noqa: E402
from tools.report import write_report  # noqa: E402
from tools.state_lock import holder  # noqa: E402
from tools.summary import render, summarise  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end-date", type=date.fromisoformat, default=demo.DEFAULT_END_DATE)
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".state" / "demo")
    parser.add_argument("--resume", action="store_true",
                        help="finish an interrupted demo in --state-dir instead of wiping it and starting over")
    args = parser.parse_args(argv)
    started = time.monotonic()
    running = holder(args.state_dir)  # checked before anything is wiped
    if running is not None:
        print(f"demo: another run is in progress (pid {running}) on {args.state_dir}", file=sys.stderr)
        return 3
    state = args.state_dir if args.resume else demo.fresh_state_dir(args.state_dir)
    participants = [f"user{i}" for i in range(1, args.users + 1)]
    with demo.simulator_process(args.users, args.days, seed=args.seed, end_date=args.end_date) as sim:
        print(f"simulator: {sim.base_url} ({args.users} participants, {args.days} days to {args.end_date})")
        demo.enrol(state, sim.base_url, participants)  # on --resume too: this simulator issues new grants
        print(f"enrolled: {', '.join(participants)}")
        settings = demo.demo_settings(state, sim.base_url)
        runtime, stats = demo.run_demo_flow(settings, args.end_date, args.days)
        summary = summarise(runtime.adapters.warehouse())
        report = write_report(runtime.adapters.warehouse(), state / "report.html", secrets=runtime.adapters.secrets)
    print(render(summary, deferred=stats.deferred, dead_lettered=stats.dead_lettered))
    errors = summary.failed_objects + len(stats.dead_lettered)
    missing = sorted(set(participants) - set(summary.worn_hours))
    if missing:
        print(f"no data was loaded for: {', '.join(missing)}")
        errors += len(missing)
    print(f"elapsed: {time.monotonic() - started:.1f} s; events delivered: {stats.delivered}")
    print(f"demo: {args.users} participants, {args.days} days, {summary.total_rows} rows, {errors} errors")
    print(f"warehouse: {settings.warehouse_file.resolve()}")
    print(f"report: {report.resolve()}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
