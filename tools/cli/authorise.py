"""``fitbit-pipeline authorise PARTICIPANT``: the one-time consent, through ``tools.authorise.run_authorise``.

The OAuth client is a Google Cloud "Desktop app" client: pass its downloaded JSON once with
``--client-secrets FILE`` (or ``--client-id`` and ``--client-secret``); it is stored in the state dir's
secrets file (0600) as ``oauth-client`` and reused. Against the simulator (``--oauth-base-url``) its dev
client is used. The grant is stored as ``participant-<id>``; no token is ever printed.
"""

from __future__ import annotations

import argparse
import json
import os
import webbrowser
from pathlib import Path

from fitbit.client import DEFAULT_BASE_URL
from fitbit.errors import PipelineError
from fitbit.oauth import OAuthClientConfig
from helper.secrets import check_participant_id, load_oauth_client, save_oauth_client
from tools.authorise import AuthoriseError, run_authorise
from tools.cli.common import EXIT_FAILURES, EXIT_OK, CliError, Context, unsupported_on_gcp


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("authorise", aliases=["authorize"], help="one-time Google consent for a participant",
                       description="Opens the Google consent page (loopback redirect, PKCE) and stores the "
                       "participant's grant in the state dir. Run it again to renew a grant.")
    p.add_argument("participant", help="your id for the participant, e.g. me or user1 ([A-Za-z0-9_-])")
    p.add_argument("--client-secrets", type=Path, metavar="FILE",
                   help="the Desktop OAuth client's JSON downloaded from the Google Cloud console (once)")
    p.add_argument("--client-id", help="OAuth client id (alternative to --client-secrets)")
    p.add_argument("--client-secret", help="OAuth client secret (prefer --client-secrets: argv is visible to ps)")
    p.add_argument("--login-hint", help="Google account to preselect")
    p.add_argument("--no-browser", action="store_true", help="print the consent URL instead of opening it")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for consent (default 300)")
    p.set_defaults(handler=authorise)


def client_config(args: argparse.Namespace, ctx: Context) -> tuple[OAuthClientConfig, bool]:
    """The OAuth client to use, and whether to store it."""
    if args.client_secrets:
        try:
            doc = json.loads(args.client_secrets.read_text())
            body = doc.get("installed") or doc.get("web") or {}
            args.client_id, args.client_secret = body["client_id"], body["client_secret"]
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise CliError(f"{args.client_secrets} is not a downloaded OAuth client JSON ({type(exc).__name__})") from None
    if bool(args.client_id) != bool(args.client_secret):
        raise CliError("pass both --client-id and --client-secret, or neither")
    if args.client_id:
        config = OAuthClientConfig(args.client_id, args.client_secret)
        return (config.with_endpoints_of(ctx.oauth_base_url) if ctx.oauth_base_url else config), True
    if ctx.oauth_base_url:  # the simulator's dev client
        return OAuthClientConfig.for_base_url(ctx.oauth_base_url), load_oauth_client(ctx.store()) is None
    stored = load_oauth_client(ctx.store())
    if stored is None:
        raise CliError("no OAuth client yet: create a Desktop OAuth client in the Google Cloud console and pass "
                       "its JSON once with --client-secrets FILE")
    return stored, False


def authorise(args: argparse.Namespace, ctx: Context) -> int:
    unsupported_on_gcp(ctx, "authorise", "grants for a deployment go to Secret Manager: "
                       "`python scripts/authorise.py --participant ID --gcp-project PROJECT` (docs/deploy.md)")
    try:
        check_participant_id(args.participant)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    ctx.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(ctx.state_dir, 0o700)
    config, save = client_config(args, ctx)

    def show(url: str) -> None:
        if args.no_browser or not webbrowser.open(url):
            print(f"Open this URL in a browser to give consent:\n\n  {url}\n", file=ctx.out, flush=True)
        else:
            print("A browser window was opened for consent; waiting for it to finish...", file=ctx.out, flush=True)

    try:
        grant = run_authorise(args.participant, store=ctx.store(), client_config=config, open_browser=show,
                              api_base_url=ctx.api_base_url or DEFAULT_BASE_URL, login_hint=args.login_hint,
                              timeout_s=args.timeout, err=ctx.err)
    except (AuthoriseError, ValueError) as exc:
        print(f"authorise failed: {exc}", file=ctx.err)
        return EXIT_FAILURES
    except PipelineError as exc:
        print(f"authorise failed: {exc}\n  fix: {exc.fix}", file=ctx.err)
        return EXIT_FAILURES
    if save:
        save_oauth_client(ctx.store(), config)
    print(f"Stored the grant of {grant.participant_id} (time zone {grant.time_zone or 'unknown'}, "
          f"{len(grant.scopes)} scopes) in {ctx.state_dir / 'secrets.json'}. Next: fitbit-pipeline run", file=ctx.out)
    return EXIT_OK
