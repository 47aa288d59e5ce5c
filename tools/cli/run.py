"""``fitbit-pipeline run``: the daily job, or a backfill, through the local runtime (the same call ``make demo`` makes).

This module only builds the run's trigger, prints the plan, shows progress, prints the summary and maps the
outcome to an exit code; the work is ``tools.local_runtime.LocalRuntime`` (publish the trigger, deliver until
the queue is empty). It is the one run command: ``python scripts/run_local.py`` translates its arguments to it.
A run is keyed (``--run-id``): its trigger is published once per state dir, so the same command after a
crash or a Ctrl-C resumes it; ``--resume`` only finishes what is queued; ``--reprocess`` delivers stored raw
objects to transform_load again.
Progress: a rich progress bar on a terminal; otherwise one plain line per phase (cron mails stay short).
The plan's time at the quota uses the quota facts of ``fitbit/quota.py`` (docs/google-health-api.md §4.1).
"""

from __future__ import annotations

import argparse
import json
import math
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from fitbit import plan, quota
from fitbit.messages import RunTrigger
from tools.cli.common import ACTION_ERRORS, EXIT_ACTION, EXIT_FAILURES, EXIT_OK, CliError, Context, civil_date, \
    date_range, participant_list, unsupported_on_gcp

PER_USER_PER_MIN, PER_PROJECT_PER_MIN = quota.USER_QUOTA_PER_MINUTE, quota.PROJECT_QUOTA_PER_MINUTE


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the daily job (default) or a backfill (--from/--to)",
                       description="Fetch, store and load. Without --from: the daily job, a sliding window of "
                       "REFETCH_DAYS (default 3) civil days ending yesterday. With --from: a backfill from that "
                       "day to --to (default yesterday). Exit: 0 done, 1 failures recorded, 2 usage, 3 action "
                       "needed (re-consent).")
    p.add_argument("--from", dest="start", type=civil_date, metavar="DATE", help="first civil day of a backfill")
    p.add_argument("--to", dest="end", type=civil_date, metavar="DATE", help="last civil day (default yesterday)")
    p.add_argument("--participants", type=participant_list, metavar="ID,ID", help="only these (default all)")
    p.add_argument("--plan", action="store_true", help="print units, API requests and time at the quota; stop")
    p.add_argument("--max-wait", type=float, default=600.0, metavar="S",
                   help="longest deferral (Retry-After) to wait for within this run (default 600 s)")
    p.add_argument("--run-id", metavar="ID", help="names the run; the same id on the same state dir resumes it "
                   "(default daily-<yesterday>, backfill-<from>-<to>)")
    p.add_argument("--resume", action="store_true", help="publish no trigger: finish what an earlier run left queued")
    p.add_argument("--reprocess", nargs="+", default=[], metavar="OBJECT",
                   help="raw objects to deliver to transform_load again (implies --resume)")
    p.add_argument("--concurrency", type=_at_least_one, metavar="N",
                   help="extract deliveries in flight at once (default: $EXTRACT_CONCURRENCY, else 16)")
    p.add_argument("--stats-json", type=Path, metavar="FILE", help="also write the run's figures to this file")
    p.set_defaults(handler=run)


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 (one extract delivery at a time)")
    return value


def trigger_for(args: argparse.Namespace, ctx: Context, refetch_days: int) -> RunTrigger:
    yesterday = ctx.now.date() - timedelta(days=1)
    end = args.end or yesterday
    date_range(args.start, end)
    if end > yesterday:
        raise CliError(f"--to {end} is not over yet; the last complete civil day is {yesterday}")
    if args.start is None:
        if args.end is not None:
            raise CliError("--to needs --from (the daily job always ends yesterday)")
        return RunTrigger(None, refetch_days, "daily", tuple(args.participants or ()),
                          run_id=getattr(args, "run_id", None) or f"daily-{yesterday}")
    days = (end - args.start).days + 1
    return RunTrigger(end, days, "backfill", tuple(args.participants or ()),
                      run_id=getattr(args, "run_id", None) or f"backfill-{args.start}-{end}")


def describe_plan(units: list, participants: list[str]) -> str:
    """Units, first-pass API requests (one per unit; next pages and follow-ups add more) and time at the quota."""
    per_user = {p: sum(1 for u in units if u.participant == p) for p in participants}
    minutes = max([n / PER_USER_PER_MIN for n in per_user.values()] + [len(units) / PER_PROJECT_PER_MIN, 0.0])
    return (f"plan: {len(participants)} participant(s), {len(units)} units, >= {len(units)} API requests "
            f"(next pages and follow-ups add more), >= {math.ceil(minutes * 60)} s at the quota "
            f"({PER_USER_PER_MIN}/min per user)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    unsupported_on_gcp(ctx, "run", "on Google Cloud, Cloud Scheduler publishes the daily run (`gcloud scheduler jobs "
                       "run fitbit-daily-run --location=REGION` runs it now); a backfill is a RunTrigger published to "
                       "the units topic (docs/deploy.md §8)")
    ctx.require_state_dir()
    settings = ctx.settings()
    resume = args.resume or bool(args.reprocess)
    if resume and (args.plan or args.start or args.end or args.participants):
        raise CliError("--resume and --reprocess publish no new run: drop --plan, --from, --to and --participants")
    trigger, units = (None, []) if resume else _planned(args, ctx, settings)
    if args.plan:
        return EXIT_OK
    from tools.local_runtime import LocalRuntime  # functions-framework: imported only when a run happens

    from tools.state_lock import AnotherRunInProgress

    try:
        runtime = LocalRuntime(settings, max_wait_s=args.max_wait, concurrency=args.concurrency)
    except AnotherRunInProgress as exc:  # one run per state dir: wait for it, nothing was touched
        print(f"run: {exc}", file=ctx.err)
        return EXIT_ACTION
    except ValueError as exc:  # EXTRACT_CONCURRENCY below 1
        raise CliError(str(exc)) from None
    started = ctx.now
    with runtime:  # releases the state-dir lock however the run ends
        if len(runtime.queue):
            print(f"resuming: {len(runtime.queue)} deliveries left by an interrupted run", file=ctx.out, flush=True)
        if args.reprocess:
            try:
                runtime.reprocess(args.reprocess)
            except (FileNotFoundError, ValueError) as exc:
                raise CliError(f"cannot reprocess: {exc}") from None
        elif trigger is not None and not runtime.publish_once(trigger.run_id, [trigger]):
            print(f"{trigger.run_id} was started before on this state dir: resuming it", file=ctx.out)
        with _progress(runtime, len(units), ctx):
            stats = runtime.run_until_empty()
        failures = runtime.adapters.warehouse().query(
            "SELECT error_class, COUNT(*) FROM processing_log WHERE status = 'failed' "
            f"AND processed_at >= TIMESTAMP '{started.strftime('%Y-%m-%d %H:%M:%S')}+00' GROUP BY 1 ORDER BY 1")
        summary(runtime, stats, ctx.out)
    if args.stats_json:
        args.stats_json.write_text(json.dumps(stats.to_json(), indent=1))
    for error_class, count in failures:
        print(f"  failed: {error_class} x{count}", file=ctx.out)
    print("see `fitbit-pipeline status` for the day ledger", file=ctx.out)
    if any(error_class in ACTION_ERRORS for error_class, _ in failures):
        print("action needed: a participant must consent again (`fitbit-pipeline status` names who)", file=ctx.err)
        return EXIT_ACTION
    return EXIT_FAILURES if failures or stats.dead_lettered else EXIT_OK


def _planned(args: argparse.Namespace, ctx: Context, settings: Any) -> tuple[RunTrigger, list]:
    """The run's trigger and its first-pass units; prints the plan line."""
    participants = ctx.participants(args.participants)
    if not participants:
        raise CliError("no participant is enrolled: run `fitbit-pipeline authorise PARTICIPANT` first")
    trigger = trigger_for(args, ctx, settings.refetch_days)
    units = plan.units_for_run(trigger, participants, ctx.now.date(),
                               plan.PlanOptions(heart_rate_seconds=settings.heart_rate_seconds))
    start, end = plan.run_window(trigger, ctx.now.date())
    print(f"{trigger.reason} {start} .. {end - timedelta(days=1)}; " + describe_plan(units, participants),
          file=ctx.out, flush=True)
    return trigger, units


def summary(runtime: Any, stats: Any, out: TextIO) -> None:
    """What a person reads after a run (in this process: no second DuckDB connection)."""
    from tools.summary import render, summarise

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
    print(f"run: {stats.delivered} deliveries in {stats.seconds:.1f} s, {stats.deferred} deferred (rate limit), "
          f"{stats.redelivered} redelivered, {len(stats.dead_lettered)} dead-lettered, {len(stats.quarantined)} "
          f"batches quarantined, {stats.blocked_flushes} blocked flushes", file=out)
    line = stats.pending_line()  # deferrals beyond --max-wait: flushed, kept queued for the next run
    if line:
        print(line, file=out)


class _progress:
    """A rich progress bar fed by polling the runtime's counters (a terminal only; else nothing)."""

    def __init__(self, runtime: object, units: int, ctx: Context) -> None:
        self.runtime, self.ctx = runtime, ctx
        self.estimate = 2 * units + 2  # each unit is delivered, then its stored page; plus trigger and plan
        self.enabled = bool(getattr(ctx.out, "isatty", lambda: False)())
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._show, name="progress", daemon=True)
            self._thread.start()
        else:
            print("fetching and loading...", file=self.ctx.out, flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        stats = self.runtime.stats  # type: ignore[attr-defined]
        columns = (TextColumn("deliveries"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                   TimeRemainingColumn())
        with Progress(*columns, console=Console(file=self.ctx.out, force_terminal=True), transient=True) as bar:
            task = bar.add_task("run", total=self.estimate, note="")
            while not self._stop.wait(0.2):
                done = stats.delivered
                bar.update(task, completed=done, total=max(self.estimate, done + 1),
                           note=f"deferred {stats.deferred}, retried {stats.redelivered}, "
                                f"dead {len(stats.dead_lettered)}")
