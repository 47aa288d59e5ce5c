"""``fitbit-pipeline withdraw PARTICIPANT``: consent withdrawal on the embedded runtime.

In order: revoke the grant at Google's revocation endpoint (``fitbit.oauth.revoke``; an unreachable endpoint
does not stop the rest, and the output says how to revoke by hand), drop the participant from the webhook
index, delete the stored grant, purge raw objects, staged batches and rows in every table (``purge``), then
write one ``consent_log`` row: who ran it, when, and the counts removed (never a health value). Running it
again finds nothing, changes nothing and writes no second row. ``--keep-data`` stops collection only.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from fitbit.catalogue import CONSENT_LOG_TABLE
from fitbit.errors import NetworkError, PipelineError, ServerError
from fitbit.oauth import revoke
from fitbit.timefmt import utc_text
from helper.secrets import check_participant_id, load_grant, load_oauth_client
from tools.cli import purge
from tools.cli.common import EXIT_OK, EXIT_USAGE, CliError, Context
from tools.webhook_subscriptions import withdraw_webhooks

BY_HAND = ("revoke it by hand: the participant opens https://myaccount.google.com/connections, picks this app "
           "and chooses 'Delete all connections'")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("withdraw", help="consent withdrawal: revoke, delete the grant, purge the data, audit",
                       description="Revokes the participant's grant, deletes it, purges their raw objects, staged "
                       "batches and rows in every table, and writes one consent_log row (counts only). "
                       "Idempotent. Asks for confirmation unless --yes.")
    p.add_argument("participant")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--keep-data", action="store_true", help="stop collection only: revoke and delete the grant")
    p.set_defaults(handler=withdraw)


def _revoke(ctx: Context, participant: str) -> str:
    store = ctx.store()
    try:
        grant = load_grant(store, participant)
    except (PipelineError, ValueError):
        return "no-grant"
    config = load_oauth_client(store)
    if config is None:
        print(f"no OAuth client stored; {BY_HAND}", file=ctx.err)
        return "unreachable"
    if ctx.oauth_base_url:
        config = config.with_endpoints_of(ctx.oauth_base_url)
    try:
        revoke(config, grant.refresh_token)
    except (NetworkError, ServerError) as exc:
        print(f"the revocation endpoint could not be reached ({exc}); {BY_HAND}", file=ctx.err)
        return "unreachable"
    return "revoked"


def _confirm(ctx: Context, participant: str, keep_data: bool) -> None:
    what = "stop collecting data for" if keep_data else "revoke the grant of and DELETE ALL DATA of"
    if not sys.stdin.isatty():
        raise CliError(f"this would {what} {participant}; pass --yes to confirm without a terminal")
    print(f"This will {what} {participant} in {ctx.state_dir}. Type the participant id to confirm: ",
          end="", file=ctx.out, flush=True)
    if input().strip() != participant:
        raise CliError("not confirmed; nothing was changed")


def withdraw(args: argparse.Namespace, ctx: Context) -> int:
    participant = args.participant
    try:
        check_participant_id(participant)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    ctx.require_state_dir()
    settings = ctx.settings()
    has_grant = participant in ctx.enrolled()
    with ctx.warehouse(read_only=True) as wh:
        rows = purge.warehouse_rows(wh, participant, delete=False)
        history = purge.consent_history(wh, participant)
    raw = purge.raw_objects(settings.raw_dir, participant, delete=False)
    staged = purge.staged_rows(ctx.state_dir / "staging", participant, delete=False)
    planned = purge.plan_entries(settings.raw_dir, participant, delete=False)
    left = bool(rows or raw or staged or planned) and not args.keep_data
    if not has_grant and not left:
        if history:
            action, when = history[-1]
            print(f"{participant}: already done ({action} at {when}); nothing to change", file=ctx.out)
            return EXIT_OK
        raise CliError(f"unknown participant {participant}: no grant, no data, no consent record in {ctx.state_dir}",
                       EXIT_USAGE)
    if not args.yes:
        _confirm(ctx, participant, args.keep_data)
    revocation = _revoke(ctx, participant) if has_grant else "no-grant"
    secret_deleted = False
    if has_grant:
        withdraw_webhooks(ctx.store(), None, participant)
        secret_deleted = ctx.store().delete(f"participant-{participant}")
    counts: dict[str, object] = {"secret_deleted": secret_deleted}
    with ctx.warehouse() as wh:
        if not args.keep_data:
            counts["rows"] = purge.warehouse_rows(wh, participant, delete=True)
            counts["raw_objects"] = purge.raw_objects(settings.raw_dir, participant, delete=True)
            counts["staged_rows"] = purge.staged_rows(ctx.state_dir / "staging", participant, delete=True)
            counts["plan_entries"] = purge.plan_entries(settings.raw_dir, participant, delete=True)
        at = ctx.now
        audit = {"participant_id": participant, "civil_date": at.date().isoformat(),
                 "action": "stop-collection" if args.keep_data else "withdraw", "revocation": revocation,
                 "operator": getpass.getuser(), "counts": counts,
                 "raw_object": f"consent/{participant}/{utc_text(at)}", "processed_at": utc_text(at)}
        wh.stage(CONSENT_LOG_TABLE, [audit], audit["raw_object"])
        wh.flush()
    print(f"{participant}: {audit['action']}; grant {revocation}; " + json.dumps(counts, sort_keys=True),
          file=ctx.out)
    return EXIT_OK
