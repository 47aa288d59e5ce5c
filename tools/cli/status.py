"""``fitbit-pipeline status``: one line per participant, from the day ledger (``day_ledger`` view) and the grants.

A day's state over all its data types: ``complete`` (every type answered, at least one with data),
``no-data`` (every type answered with nothing: not worn), ``partial`` (some data, some failures),
``failed``, ``pending`` (planned, not yet answered) and ``missing`` (no run ever planned the day). The last
two are "not fetched"; ``no-data`` is "fetched, nothing there": the two never share a name.

Pending work per participant comes from the durable queue (``queue.sqlite``): work units waiting (due or
deferred by a rate limit or a sleep re-read) and stored pages whose load is still queued, so an interrupted
or paused run shows what it left. On ``--runtime gcp`` that queue is Pub/Sub, which cannot be counted per
participant: ``queue`` is null there (the subscription's backlog is in Cloud Monitoring).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from fitbit.errors import PipelineError
from helper.secrets import load_grant
from tools.cli.common import ACTION_ERRORS, EXIT_ACTION, EXIT_OK, Context, civil_date, participant_list, sql_list

DAY_STATES = ("complete", "partial", "no-data", "failed", "pending", "missing")
EXPIRY_WARNING_DAYS = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="per participant: grant, last sync, last complete day, day counts",
                       description="One line per participant: grant state, last synced device time, last "
                       "complete day, counts of complete / partial / no-data / failed / pending / missing days "
                       "over the last --days days, and pending cells. Exit 3 when a participant needs action.")
    p.add_argument("--json", action="store_true", help="machine-readable, with each participant's ledger")
    p.add_argument("--days", type=int, default=30, help="days in the window (default %(default)s)")
    p.add_argument("--as-of", type=civil_date, metavar="DATE", help="last day of the window (default yesterday)")
    p.add_argument("--participants", type=participant_list, metavar="ID,ID", help="only these")
    p.set_defaults(handler=status)


def day_state(states: set[str]) -> str:
    """One day's state from the states of its (data type) cells."""
    if not states:
        return "missing"
    if states & {"failed", "partial"}:
        return "partial" if states & {"complete", "partial"} else "failed"
    if "pending" in states:
        return "pending"
    return "complete" if "complete" in states else "no-data"


def grant_state(ctx: Context, participant: str, reconsent: bool) -> dict[str, Any]:
    fix = f"fitbit-pipeline authorise {participant}"
    try:
        grant = load_grant(ctx.store(), participant)
    except (PipelineError, ValueError):
        return {"state": "none", "text": f"no grant (withdrawn or never authorised): {fix}", "fix": fix}
    if reconsent:
        return {"state": "re-consent", "text": f"re-consent needed: {fix}", "fix": fix}
    if grant.refresh_token_expires_at is not None:
        days = (grant.refresh_token_expires_at - ctx.now).total_seconds() / 86400
        if days <= 0:
            return {"state": "expired", "text": f"expired (Testing-mode app): {fix}", "fix": fix}
        return {"state": "expires", "days": round(days, 1), "fix": fix if days <= EXPIRY_WARNING_DAYS else None,
                "text": f"expires in {days:.0f} days (Testing-mode app; publish it, or re-run: {fix})"}
    return {"state": "ok", "text": "ok", "fix": None}


def queued_work(ctx: Context) -> dict[str, dict[str, int]] | None:
    """Units and pages waiting in the durable queue, per participant; None where there is no such queue (gcp).

    The queue is read, never created: a state dir without one has nothing queued.
    """
    if ctx.gcp:
        return None
    path = ctx.state_dir / "queue.sqlite"
    if not path.is_file():
        return {}
    from helper.queue import LocalQueue

    queue = LocalQueue(path)
    try:
        units, pages = queue.queued_units(), queue.pending_objects()
    finally:
        queue.close()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"units": 0, "pages": 0})
    for unit in units:
        counts[unit.participant]["units"] += 1
    for name in pages:  # raw/<participant>/... (fitbit.plan.object_name)
        kind, _, rest = name.partition("/")
        if kind == "raw" and "/" in rest:
            counts[rest.split("/", 1)[0]]["pages"] += 1
    return dict(counts)


def collect(ctx: Context, participants: list[str], first: date, last: date) -> list[dict[str, Any]]:
    where = f"participant_id IN ({sql_list(participants)})"
    window = f"civil_date BETWEEN DATE '{first}' AND DATE '{last}'"
    with ctx.warehouse(read_only=True) as wh:
        cells = wh.query(f"SELECT participant_id, civil_date, data_type, state, error_class, last_attempt_at, "
                         f"refetch_pending FROM day_ledger WHERE {where} AND {window} ORDER BY 1, 2, 3")
        last_complete = dict(wh.query(f"SELECT participant_id, MAX(civil_date) FROM day_ledger WHERE {where} "
                                      "AND state = 'complete' GROUP BY 1"))
        synced = dict(wh.query(f"SELECT participant_id, MAX(last_sync_time) FROM paired_devices WHERE {where} "
                               "GROUP BY 1"))
        action = {p for (p,) in wh.query(
            "SELECT participant_id FROM processing_log AS f WHERE status = 'failed' AND error_class IN "
            f"({sql_list(sorted(ACTION_ERRORS))}) AND {where} AND processed_at > COALESCE((SELECT MAX(processed_at) "
            "FROM processing_log AS s WHERE s.participant_id = f.participant_id AND s.status IN ('loaded', 'empty')), "
            "TIMESTAMP '1970-01-01 00:00:00+00') GROUP BY 1")}
    queued = queued_work(ctx)
    by_participant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p, day, data_type, state, error_class, attempt, refetch in cells:
        by_participant[p].append({"civil_date": day.isoformat(), "data_type": data_type, "state": state,
                                  "error_class": error_class, "last_attempt_at": _iso(attempt),
                                  "refetch_pending": bool(refetch)})
    out = []
    for p in participants:
        ledger = by_participant.get(p, [])
        per_day: dict[str, set[str]] = defaultdict(set)
        for cell in ledger:
            per_day[cell["civil_date"]].add(cell["state"])
        counts = dict.fromkeys(DAY_STATES, 0)
        for i in range((last - first).days + 1):
            counts[day_state(per_day.get((first + timedelta(days=i)).isoformat(), set()))] += 1
        out.append({
            "participant": p, "grant": grant_state(ctx, p, p in action),
            "last_sync_time": _iso(synced.get(p)), "last_complete_day": _iso(last_complete.get(p)),
            "window": {"from": first.isoformat(), "to": last.isoformat()}, "days": counts,
            "pending_cells": sum(1 for c in ledger if c["state"] == "pending" or c["refetch_pending"]),
            "queue": queued.get(p, {"units": 0, "pages": 0}) if queued is not None else None,
            "ledger": ledger,
        })
    return out


def _queued_text(queued: dict[str, int] | None) -> str:
    if not queued or not (queued["units"] or queued["pages"]):
        return ""
    return f"; queued {queued['units']} units, {queued['pages']} pages (`fitbit-pipeline run` continues them)"


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status(args: argparse.Namespace, ctx: Context) -> int:
    ctx.require_state_dir()
    participants = ctx.participants(args.participants)
    # Withdrawn participants keep no grant but may keep rows (--keep-data): list whoever has ledger rows too.
    if not args.participants:
        with ctx.warehouse(read_only=True) as wh:
            participants = sorted(set(participants) | {p for (p,) in wh.query(
                "SELECT DISTINCT participant_id FROM day_ledger")})
    last = args.as_of or ctx.now.date() - timedelta(days=1)
    first = last - timedelta(days=max(args.days, 1) - 1)
    rows = collect(ctx, participants, first, last)
    if args.json:
        where = {"runtime": "gcp", "dataset": ctx.settings().dataset} if ctx.gcp else {"state_dir": str(ctx.state_dir)}
        print(json.dumps({**where, "participants": rows}, indent=1), file=ctx.out)
    else:
        print(f"{len(rows)} participant(s); days {first} .. {last}", file=ctx.out)
        for r in rows:
            days = ", ".join(f"{n} {s}" for s, n in r["days"].items() if n)
            print(f"{r['participant']}: grant {r['grant']['text']}; last sync {r['last_sync_time'] or 'never'}; "
                  f"last complete day {r['last_complete_day'] or 'none'}; days: {days}; "
                  f"pending cells {r['pending_cells']}" + _queued_text(r["queue"]), file=ctx.out)
    needs_action = any(r["grant"]["state"] in ("re-consent", "expired") for r in rows)
    return EXIT_ACTION if needs_action else EXIT_OK
