"""`python scripts/run_local.py`: one run of the embedded pipeline on a state dir; run it again to resume.

A run is keyed (``--run-id``, by default ``<reason>-<last day>-<days>d``): its trigger is published once
per state dir, so running the same command again after a crash, a Ctrl-C or a ``kill -9`` does not start
over: it flushes what the interrupted run staged, re-delivers raw objects that never got an outcome,
and delivers the durable queue from where it stopped. A run whose remaining work is deferred beyond
``--max-wait`` (a long Retry-After, a sleep re-read an hour away) flushes and exits 0 with
"N units pending until <time>; run again after it".

Examples::

    python scripts/run_local.py                      # the daily job: the sliding window ending yesterday
    python scripts/run_local.py --date 2026-11-05 --days 14 --reason backfill
    python scripts/run_local.py --resume             # only finish what an earlier run left
    python scripts/run_local.py --reprocess raw/...  # deliver a stored raw object to transform_load again

Settings come from the environment (``FITBIT_STATE_DIR``, ``HEALTH_API_BASE_URL``, ...; see the README).
Exit status: 0 the run finished or paused; 2 bad configuration or arguments; 3 another run holds the state dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Sequence, TextIO

from fitbit.messages import RunTrigger
from helper.queue import utc_now
from helper.settings import Settings, SettingsError
from tools.local_runtime import LocalRuntime, RunStats
from tools.state_lock import AnotherRunInProgress
from tools.summary import render, summarise

EXIT_CONFIG, EXIT_LOCKED = 2, 3


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python scripts/run_local.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--state-dir", type=Path, help="state folder (default: $FITBIT_STATE_DIR, else .state)")
    p.add_argument("--date", type=date.fromisoformat, help="last civil day of the run (default: yesterday)")
    p.add_argument("--days", type=int, help="days up to --date (default: REFETCH_DAYS, the sliding window)")
    p.add_argument("--reason", choices=("daily", "backfill"), default="daily")
    p.add_argument("--run-id", help="names the run; the same id on the same state dir resumes it")
    p.add_argument("--resume", action="store_true", help="publish no trigger: finish what is queued")
    p.add_argument("--reprocess", nargs="+", default=[], metavar="OBJECT",
                   help="raw objects to deliver to transform_load again (implies --resume)")
    p.add_argument("--max-wait", type=float, default=600.0,
                   help="seconds the run waits for a deferred unit before pausing (default 600)")
    p.add_argument("--concurrency", type=int, metavar="N",
                   help="extract deliveries in flight at once (default: $EXTRACT_CONCURRENCY, else 16)")
    p.add_argument("--stats-json", type=Path, help="also write the run's figures to this file")
    return p


def trigger_for(args: argparse.Namespace, settings: Settings) -> tuple[str, RunTrigger]:
    """The run's key and trigger (the same arguments on the same day give the same key)."""
    last = args.date or (utc_now().date() - timedelta(days=1))
    days = args.days or settings.refetch_days
    key = args.run_id or f"{args.reason}-{last.isoformat()}-{days}d"
    return key, RunTrigger(last, days, args.reason, run_id=key)


def settings_for(state_dir: Path | None) -> Settings:
    """Settings from the environment, ``--state-dir`` over ``FITBIT_STATE_DIR``; raises SettingsError."""
    env = dict(os.environ)
    if state_dir is not None:
        env["FITBIT_STATE_DIR"] = str(state_dir)
    return Settings.from_env(env)


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings_for(args.state_dir)
    except SettingsError as exc:
        print(f"run: {exc}", file=err)
        return EXIT_CONFIG
    try:
        runtime = LocalRuntime(settings, max_wait_s=args.max_wait, concurrency=args.concurrency)
    except AnotherRunInProgress as exc:
        print(f"run: {exc}", file=err)
        return EXIT_LOCKED
    except ValueError as exc:
        print(f"run: {exc}", file=err)
        return EXIT_CONFIG
    with runtime:
        left = len(runtime.queue)
        if left:
            print(f"resuming: {left} deliveries left by an interrupted run", file=out, flush=True)
        if args.reprocess:
            try:
                runtime.reprocess(args.reprocess)
            except (FileNotFoundError, ValueError) as exc:
                print(f"run: cannot reprocess: {exc}", file=err)
                return EXIT_CONFIG
        elif not args.resume:
            key, trigger = trigger_for(args, settings)
            if runtime.publish_once(key, [trigger]):
                print(f"run {key}: {trigger.days} days to {trigger.date}", file=out, flush=True)
            else:
                print(f"run {key} was started before on this state dir: resuming it", file=out, flush=True)
        stats = runtime.run_until_empty()
        report(runtime, stats, out)
    if args.stats_json:
        args.stats_json.write_text(json.dumps(stats.to_json(), indent=1))
    return 0


def report(runtime: LocalRuntime, stats: RunStats, out: TextIO) -> None:
    """The summary a person reads after a run (in this process: no second DuckDB connection)."""
    dead = [f"{d.event_type.rsplit('.', 1)[-1]}: {d.subject or f'message {d.seq}'} ({d.attempts} attempts)"
            for d in runtime.queue.dead_letters()]
    print(render(summarise(runtime.adapters.warehouse()), deferred=stats.deferred, dead_lettered=dead), file=out)
    if stats.resumed or stats.orphans:
        print(f"resumed: {stats.resumed} queued deliveries, {stats.orphans} orphaned objects delivered again",
              file=out)
    if stats.nulled:
        print(f"non-finite floats written as null: {stats.nulled}", file=out)
    if dead:
        print("replay dead letters with: python scripts/dead_letters.py --replay", file=out)
    print(f"run: {stats.delivered} deliveries in {stats.seconds:.1f} s, {stats.redelivered} redelivered, "
          f"{len(stats.quarantined)} batches quarantined, {stats.blocked_flushes} blocked flushes", file=out)
    line = stats.pending_line()
    if line:
        print(line, file=out)
