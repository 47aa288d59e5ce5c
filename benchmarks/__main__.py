"""``python -m benchmarks [--json]``: every benchmark of issues #7 and #14, one JSON object per line, then a summary.

With ``--json`` stdout carries only the JSON lines (one per benchmark, plus a ``machine`` line first)
and the human summary goes to stderr; without it, stdout carries the summary alone. ``--only NAME``
(repeatable) runs a subset; ``--quick`` cuts rounds and the end-to-end cohort for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Callable

from benchmarks.timing import machine

NAMES = ("transform_hr_1s_day", "transform_all_types_day", "api_requests_per_participant_day", "e2e_scaling",
         "report_cohort", "bigquery_cost", "cohort_daily")
TARGETS = {"ratio_vs_parse": (">=", 0.5), "ratio_vs_typed_decode": (">=", 0.5), "speedup_vs_pandas": (">=", 10), "peak_mib": ("<", 150),
           "merge_scanned_over_staged": ("<=", 3)}


def _runners(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    from benchmarks import bigquery_cost, cohort, pages, pipeline, report, transform

    rounds, pandas_rounds = (2, 1) if args.quick else (args.rounds, args.pandas_rounds)
    return {
        "transform_hr_1s_day": lambda: transform.bench(
            "transform_hr_1s_day", pages.heart_rate_seconds_day(), rounds=rounds, pandas_rounds=pandas_rounds),
        "transform_all_types_day": lambda: transform.bench(
            "transform_all_types_day", pages.participant_day(), rounds=rounds, pandas_rounds=pandas_rounds),
        "api_requests_per_participant_day": lambda: pipeline.api_requests(1, 14 if args.quick else 90),
        "e2e_scaling": lambda: pipeline.e2e_scaling((1, 3) if args.quick else (1, 10, 50),
                                                    1 if args.quick else args.e2e_days),
        "report_cohort": lambda: report.bench((5, 100) if args.quick else (5, 1000)),
        "bigquery_cost": bigquery_cost.bench,
        "cohort_daily": lambda: cohort.cohort_daily(10 if args.quick else args.participants,
                                                    latency_ms=args.latency_ms),
    }


def _verdicts(figures: dict[str, Any]) -> list[str]:
    out = []
    for key, (op, limit) in TARGETS.items():
        if key in figures:
            ok = {">=": figures[key] >= limit, "<=": figures[key] <= limit, "<": figures[key] < limit}[op]
            out.append(f"{key} {figures[key]} ({'meets' if ok else 'MISSES'} {op} {limit})")
    return out


def summary_line(figures: dict[str, Any]) -> str:
    name = figures["name"]
    if name.startswith("transform_"):
        base = (f"{name}: {figures['rows']:,} rows from {figures['pages']} pages ({figures['bytes'] / 1e6:.1f} MB); "
                f"parse only {figures['parse_only_s']:.3f} s, typed decode {figures['typed_decode_s']:.3f} s, ours {figures['ours_s']:.3f} s, straightforward "
                f"{figures['reference_s']:.3f} s, pandas {figures.get('pandas_s', float('nan')):.3f} s")
        return base + "\n    " + "; ".join(_verdicts(figures))
    if name == "api_requests_per_participant_day":
        ok = "meets" if figures["daily"] <= figures["target_daily_max"] else "MISSES"
        return (f"{name}: daily run {figures['daily']} requests per participant-day ({ok} <= "
                f"{figures['target_daily_max']}); {figures['backfill_days']}-day backfill {figures['backfill']}")
    if name == "e2e_scaling":
        cells = ", ".join(f"{p['participants']}x{p['days']}: {p['wall_s']} s, {p['rows']:,} rows, "
                          f"{p['rows_per_s']:,} rows/s" for p in figures["points"])
        return (f"{name}: {cells}; slope {figures['slope_s_per_participant_day']} s per participant-day "
                f"(R² {figures['r_squared']})")
    if name == "report_cohort":
        from benchmarks import report

        return report.summary(figures)
    if name == "bigquery_cost":
        hr = figures["with_heart_rate_seconds"]
        return (f"{name}: {figures['participants']:,} participants, {figures['history_days']} days of history; "
                f"daily MERGEs scan {figures['merge_scanned_gb_per_day']} GB for {figures['staged_gb_per_day']} GB "
                f"staged (1 s heart rate: {hr['merge_scanned_gb_per_day']} / {hr['staged_gb_per_day']} GB); "
                f"storage {figures['storage_gib_per_participant_year']} GiB per participant-year "
                f"({hr['storage_gib_per_participant_year']} with 1 s heart rate)\n    " + "; ".join(_verdicts(figures)))
    if name == "cohort_daily":
        from benchmarks.cohort import verdicts

        return (f"{name}: {figures['participants']:,} participants x {figures['days']} day at "
                f"{figures['latency_ms']:g} ms, {figures['runtime']} runtime: {figures['requests']:,} requests, "
                f"{figures['rows']:,} rows in {figures['wall_s']} s; pipeline "
                f"{figures['pipeline_cpu_s_per_participant_day']} CPU s per participant-day, simulator "
                f"{figures['simulator_cpu_s']} CPU s; peak {figures['peak_user_rpm']}/min per user, "
                f"{figures['peak_project_rpm']:,}/min project\n    " + "; ".join(verdicts(figures)))
    return json.dumps(figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--json", action="store_true", help="JSON lines on stdout, the summary on stderr")
    parser.add_argument("--only", action="append", choices=NAMES, help="run only these benchmarks")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds for the transform timings")
    parser.add_argument("--pandas-rounds", type=int, default=3, help="rounds for the slower pandas baseline")
    parser.add_argument("--e2e-days", type=int, default=3, help="days per participant in e2e_scaling")
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer rounds, smaller cohorts")
    parser.add_argument("--participants", type=int, default=1000, help="cohort size of cohort_daily")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="simulated API latency in cohort_daily")
    args = parser.parse_args(argv)
    from helper import logs

    logs.configure(logging.WARNING, sys.stderr)  # the runtime's INFO lines would interleave with ours
    human = sys.stderr if args.json else sys.stdout
    runners = _runners(args)
    before = machine()
    if args.json:
        print(json.dumps({"name": "machine", **before}), flush=True)
    lines = []
    for name in args.only or NAMES:
        figures = runners[name]()
        if args.json:
            print(json.dumps(figures), flush=True)
        lines.append(summary_line(figures))
    after = machine()["load_avg"]
    print(f"machine: {before['nproc']} x {before['cpu_model']}, Python {before['python']}, load average "
          f"{before['load_avg']} before, {after} after", file=human)
    for line in lines:
        print(line, file=human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
