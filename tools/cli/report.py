"""``fitbit-pipeline report``: the cohort's HTML report (what ``make report`` writes) from the warehouse's views.

The report reads only views, in BigQuery SQL (``tools/report/data.py``), so ``--runtime gcp`` reads the BigQuery
dataset's views the same way; locally the DuckDB file is opened read-only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tools.cli.common import EXIT_OK, Context
from tools.report import write_report


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write the HTML report (one file) from the warehouse's views",
                       description="Writes one self-contained HTML file: completeness, wear, sleep, activity.")
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="default: STATE_DIR/report.html (with --runtime gcp: ./report.html)")
    p.set_defaults(handler=report)


def report(args: argparse.Namespace, ctx: Context) -> int:
    ctx.require_state_dir()
    with ctx.warehouse(read_only=True) as wh:
        out = args.out or (Path("report.html") if ctx.gcp else ctx.state_dir / "report.html")
        path = write_report(wh, out, dataset=wh.dataset, secrets=ctx.store())
    print(f"report: {path.resolve()}", file=ctx.out)
    return EXIT_OK
