#!/usr/bin/env python3
"""`make report`: write the cohort report (one self-contained HTML file) from the warehouse's views.

Reads the embedded warehouse of `make demo` by default (.state/demo/warehouse.duckdb), or whatever the
environment configures (FITBIT_STATE_DIR; FITBIT_RUNTIME=gcp with GCP_PROJECT and BQ_DATASET reads
BigQuery), and prints `report: <path>`. A local warehouse is opened read-only, holding the state-dir
lock for the moment it reads, so a report never fights a run over DuckDB's file lock: while a run holds
the state dir, the report says so and exits 3.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helper.compose import adapters  # noqa: E402
from tools.report import DEFAULT_DAYS, write_report  # noqa: E402
from helper.settings import Settings, SettingsError  # noqa: E402
from helper.warehouse import DuckDbWarehouse  # noqa: E402
from tools.state_lock import AnotherRunInProgress, StateLock  # noqa: E402

DEMO_STATE = ROOT / ".state" / "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, help="local state folder (default: $FITBIT_STATE_DIR, else "
                                                       ".state/demo, the folder `make demo` writes)")
    parser.add_argument("--out", type=Path, help="HTML file to write (default: <state dir>/report.html)")
    parser.add_argument("--no-consent", action="store_true", help="do not read the grant records (their dates flag "
                        "expired or missing consent; on Google Cloud that is one Secret Manager access each)")
    parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="the last N days, from a Monday (default "
                        f"{DEFAULT_DAYS}); only they are read, so BigQuery prunes the other partitions")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.state_dir is not None:
        env["FITBIT_STATE_DIR"] = str(args.state_dir)
    env.setdefault("FITBIT_STATE_DIR", str(DEMO_STATE))
    try:
        settings = Settings.from_env(env)
    except SettingsError as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    if settings.runtime == "local" and not settings.warehouse_file.exists():
        print(f"report: no warehouse at {settings.warehouse_file}; run `make demo` first or pass --state-dir",
              file=sys.stderr)
        return 2
    out = args.out or settings.state_dir / "report.html"
    if settings.runtime != "local":
        built = adapters(settings)
        path = write_report(built.warehouse(), out, dataset=settings.dataset,
                            secrets=None if args.no_consent else built.secrets, days=args.days)
        print(f"report: {path.resolve()}")
        return 0
    try:
        lock = StateLock.acquire(settings.state_dir)
    except AnotherRunInProgress as exc:
        print(f"report: {exc}; write the report after it (make report)", file=sys.stderr)
        return 3
    try:
        warehouse = DuckDbWarehouse(settings.warehouse_file, settings.dataset, settings.state_dir / "staging",
                                    read_only=True)
        try:
            path = write_report(warehouse, out, dataset=settings.dataset,
                                secrets=None if args.no_consent else adapters(settings).secrets, days=args.days)
        finally:
            warehouse.close()
    finally:
        lock.release()
    print(f"report: {path.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
