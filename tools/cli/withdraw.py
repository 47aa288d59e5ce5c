"""``fitbit-pipeline withdraw PARTICIPANT``: consent withdrawal, on the embedded runtime or (``--runtime gcp``) a
Google Cloud deployment.

In order: revoke the grant at Google's revocation endpoint (``fitbit.oauth.revoke``), delete the participant's
webhook subscription (``--webhooks-project-number``: the Google Health API's subscriptions of their healthUserId)
and drop them from the participant index notify reads, delete the stored grant (secrets file or Secret
Manager), purge raw objects, staged and quarantined batches, plan entries, webhook claims and rows in every
table, then write one ``consent_log`` row: who ran it, when, and the counts removed (never a health value).
An unreachable Google endpoint (revocation or subscriptions) does not stop the rest: the output says what to
do by hand. Running it again finds nothing, changes nothing and writes no second row. ``--keep-data`` stops
collection only. Locally it holds the state dir as a run does: refused (exit 3) while a run is in progress.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from fitbit.calls import API_VERSION
from fitbit.catalogue import CONSENT_LOG_TABLE
from fitbit.errors import NetworkError, PipelineError, ServerError
from fitbit.oauth import revoke
from fitbit.timefmt import utc_text
from helper.secrets import check_participant_id, load_grant, load_oauth_client
from tools.cli import purge, purge_gcp
from tools.cli.common import EXIT_OK, EXIT_USAGE, CliError, Context
from tools.webhook_subscriptions import Subscriptions, cloud_platform_client, subscription_id_for, withdraw_webhooks

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
    p.add_argument("--webhooks-project-number", metavar="N",
                   help="the Cloud project NUMBER webhook subscriptions live under: delete the participant's")
    p.add_argument("--webhooks-subscriber-id", default="fitbit-pipeline", metavar="ID",
                   help="the webhook subscriber's id (default %(default)s)")
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
    where = f"project {ctx.settings().gcp_project}" if ctx.gcp else str(ctx.state_dir)
    print(f"This will {what} {participant} in {where}. Type the participant id to confirm: ",
          end="", file=ctx.out, flush=True)
    if input().strip() != participant:
        raise CliError("not confirmed; nothing was changed")


def _unsubscribe(ctx: Context, args: argparse.Namespace, participant: str) -> int | str:
    """Delete the participant's webhook subscriptions and drop them from the participant index.

    Returns how many subscriptions were deleted (0 without ``--webhooks-project-number``), or "unreachable"
    when the API could not be reached or refused (the output says how to delete it by hand).
    """
    subscriptions = None
    if args.webhooks_project_number:
        try:
            subscriptions = Subscriptions(cloud_platform_client(ctx.api_base_url), args.webhooks_project_number,
                                          args.webhooks_subscriber_id)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - no credentials or no network: the purge still completes
            print(_by_hand_subscription(args, participant, exc), file=ctx.err)
            withdraw_webhooks(ctx.store(), None, participant)
            return "unreachable"
    try:
        return withdraw_webhooks(ctx.store(), subscriptions, participant)
    except PipelineError as exc:
        print(_by_hand_subscription(args, participant, exc), file=ctx.err)
        withdraw_webhooks(ctx.store(), None, participant)  # the index at least: notify ignores them from now on
        return "unreachable"


def _by_hand_subscription(args: argparse.Namespace, participant: str, exc: Exception) -> str:
    path = (f"{API_VERSION}/projects/{args.webhooks_project_number}/subscribers/{args.webhooks_subscriber_id}/"
            f"subscriptions/{subscription_id_for(participant)}")
    return (f"the webhook subscriptions could not be deleted ({type(exc).__name__}); delete it by hand: "
            f"curl -X DELETE -H \"Authorization: Bearer $(gcloud auth print-access-token)\" "
            f"https://health.googleapis.com/{path}")


def _files(ctx: Context, participant: str, *, delete: bool) -> dict[str, int]:
    settings = ctx.settings()
    if ctx.gcp:
        return purge_gcp.bucket_objects(settings, participant, delete=delete)
    return purge.state_files(settings, participant, delete=delete)


def withdraw(args: argparse.Namespace, ctx: Context) -> int:
    participant = args.participant
    try:
        check_participant_id(participant)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    ctx.require_state_dir()
    ctx.settings()
    with ctx.exclusive():
        return _withdraw(args, ctx, participant)


def _withdraw(args: argparse.Namespace, ctx: Context, participant: str) -> int:
    has_grant = participant in ctx.enrolled()
    with ctx.warehouse(read_only=True) as wh:
        rows = purge.warehouse_rows(wh, participant, delete=False)
        history = purge.consent_history(wh, participant)
    left = bool(rows or any(_files(ctx, participant, delete=False).values())) and not args.keep_data
    if not has_grant and not left:
        if history:
            action, when = history[-1]
            print(f"{participant}: already done ({action} at {when}); nothing to change", file=ctx.out)
            return EXIT_OK
        where = f"dataset {ctx.settings().dataset}" if ctx.gcp else str(ctx.state_dir)
        raise CliError(f"unknown participant {participant}: no grant, no data, no consent record in {where}",
                       EXIT_USAGE)
    if not args.yes:
        _confirm(ctx, participant, args.keep_data)
    revocation = _revoke(ctx, participant) if has_grant else "no-grant"
    counts: dict[str, object] = {"secret_deleted": False}
    if has_grant:
        counts["webhook_subscriptions"] = _unsubscribe(ctx, args, participant)
        counts["secret_deleted"] = ctx.store().delete(f"participant-{participant}")
    with ctx.warehouse() as wh:
        if not args.keep_data:
            counts["rows"] = purge.warehouse_rows(wh, participant, delete=True)
            counts.update(_files(ctx, participant, delete=True))
        elif not ctx.gcp:  # stop collection: what an interrupted run left queued is not fetched either
            counts["queued"] = purge.queued(ctx.state_dir / "queue.sqlite", participant, delete=True)
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
