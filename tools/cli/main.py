"""The ``fitbit-pipeline`` parser: global options, one subparser per module, exit codes (``tools.cli.common``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from tools.cli import authorise, doctor, export, report, run, schedule, status, withdraw
from tools.cli.common import EXIT_USAGE, CliError, Context

SUBCOMMANDS = (authorise, run, status, doctor, report, export, withdraw, schedule)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fitbit-pipeline",
        description="Run the Fitbit / Google Health pipeline on this machine (no Google Cloud needed): "
        "authorise participants, run the daily job or a backfill, see which days are complete, export, withdraw. "
        "With --runtime gcp, status, doctor, export, report and withdraw work on a Google Cloud deployment.",
        epilog="Exit codes: 0 done; 1 failures recorded; 2 usage or configuration (nothing changed); "
        "3 action needed (re-consent, a run in progress).")
    p.add_argument("--state-dir", metavar="DIR", help="grants, raw pages and the DuckDB warehouse "
                   "(default: the per-user data directory, e.g. ~/.local/share/fitbit-pipeline)")
    p.add_argument("--api-base-url", metavar="URL", help="Google Health API base URL (the simulator's, to try it)")
    p.add_argument("--oauth-base-url", metavar="URL", help="OAuth endpoints' base URL (the simulator's)")
    p.add_argument("--runtime", choices=("local", "gcp"), default="local",
                   help="local (default): the state dir; gcp: the Google Cloud deployment the environment "
                   "describes, as on Cloud Functions (GCP_PROJECT, RAW_BUCKET, BQ_DATASET...): status, doctor, "
                   "export, report and withdraw")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run one command; returns its exit code. ``out``/``err`` default to the process's streams."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2), message already printed
        return int(exc.code or 0)
    ctx = Context.from_args(args, out, err)
    try:
        return int(args.handler(args, ctx))
    except CliError as exc:
        print(f"fitbit-pipeline {args.command}: {exc}", file=err)
        return exc.code
    except KeyboardInterrupt:
        print(f"fitbit-pipeline {args.command}: interrupted; run it again to continue", file=err)
        return EXIT_USAGE + 128 - 2  # 128: the shell's convention for a signal


def entry() -> None:
    """The console script (pyproject.toml [project.scripts])."""
    sys.exit(main())
