"""``fitbit-pipeline report``: the cohort's HTML report (what ``make report`` writes) from the warehouse's views.

The report reads only views, in BigQuery SQL (``tools/report/data.py``), so ``--runtime gcp`` reads the BigQuery
dataset's views the same way; locally the DuckDB file is opened read-only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.cli.common import EXIT_OK, CliError, Context
from tools.report import DEFAULT_DAYS, write_report


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the HTML report (one file) from the warehouse's views",
                       description="Writes one self-contained HTML file: completeness, wear, sleep, activity.")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="default: STATE_DIR/report.html (with --runtime gcp: ./report.html)")
    p.add_argument("--days", type=int, default=DEFAULT_DAYS, metavar="N",
                   help=f"the last N days (from a Monday; default {DEFAULT_DAYS}): only they are read")
    p.set_defaults(handler=report)


def report(args: argparse.Namespace, ctx: Context) -> int:
    ctx.require_state_dir()
    if args.days < 1:
        raise CliError(f"--days must be at least 1, got {args.days}")
    with ctx.warehouse(read_only=True) as wh:
        out = args.out or (Path("report.html") if ctx.gcp else ctx.state_dir / "report.html")
        path = write_report(wh, out, dataset=wh.dataset, secrets=ctx.store(), today=ctx.now.date(), days=args.days)
    print(f"report: {path.resolve()}", file=ctx.out)
    return EXIT_OK
