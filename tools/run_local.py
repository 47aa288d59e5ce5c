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
Exit status: 0 the run finished or paused (failures, if any, are recorded and summarised); 2 bad configuration
or arguments; 3 another run holds the state dir, or a participant must consent again.

This is a thin wrapper: its arguments are translated to ``fitbit-pipeline run`` (``tools/cli/run.py``, the one
implementation). ``--date``/``--days`` name a window, which the command runs as ``--from``/``--to``; without
them the daily job runs (the sliding window ending yesterday). The run key stays ``<reason>-<last day>-<days>d``.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Sequence, TextIO

from helper.queue import utc_now
from helper.settings import Settings
from tools.cli.common import EXIT_FAILURES, EXIT_OK
from tools.cli.main import main as cli_main
from tools.cli.run import summary as report  # noqa: F401 - tools/dead_letters.py prints a run's summary with it


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


def settings_for(state_dir: Path | None) -> Settings:
    """Settings from the environment, ``--state-dir`` over ``FITBIT_STATE_DIR``; raises SettingsError."""
    env = dict(os.environ)
    if state_dir is not None:
        env["FITBIT_STATE_DIR"] = str(state_dir)
    return Settings.from_env(env)


def command_for(args: argparse.Namespace, refetch_days: int) -> list[str]:
    """The ``fitbit-pipeline`` arguments this script's arguments stand for."""
    state_dir = args.state_dir or Path(os.environ.get("FITBIT_STATE_DIR") or ".state")
    argv = ["--state-dir", str(state_dir), "run", "--max-wait", str(args.max_wait)]
    if args.stats_json:
        argv += ["--stats-json", str(args.stats_json)]
    if args.concurrency is not None:
        argv += ["--concurrency", str(args.concurrency)]
    if args.reprocess:
        return [*argv, "--reprocess", *args.reprocess]
    if args.resume:
        return [*argv, "--resume"]
    last = args.date or (utc_now().date() - timedelta(days=1))
    days = args.days or refetch_days
    argv += ["--run-id", args.run_id or f"{args.reason}-{last.isoformat()}-{days}d"]
    if args.date is None and args.days is None:
        return argv  # the daily job
    return [*argv, "--from", (last - timedelta(days=days - 1)).isoformat(), "--to", last.isoformat()]


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    args = _parser().parse_args(argv)
    try:
        refetch_days = settings_for(args.state_dir).refetch_days
    except ValueError as exc:
        print(f"run: {exc}", file=err)
        return 2
    code = cli_main(command_for(args, refetch_days), out=out, err=err)
    return EXIT_OK if code == EXIT_FAILURES else code  # failures are recorded and summarised: the run finished
