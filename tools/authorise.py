"""One-time local consent for one participant: Google OAuth (code + PKCE) on a loopback redirect.

    python scripts/authorise.py --participant user1                       # real Google, .state/secrets.json
    python scripts/authorise.py --participant user1 --gcp-project my-proj  # store in Secret Manager
    python scripts/authorise.py --participant user1 --base-url http://127.0.0.1:8080/ --no-browser  # simulator

What it does: listens on ``http://127.0.0.1:<ephemeral port>/``, opens the consent page (offline access,
forced consent, exactly the scopes the catalogue needs), checks the returned ``state``, exchanges the
code with its PKCE verifier, refreshes once (proving the refresh token works), reads ``users.getIdentity``
(healthUserId; also surfaces ACCOUNT_NOT_LINKED early) and ``users.getSettings`` (time zone), then stores
the grant under ``participant-<id>``. Other participants' grants are left untouched. Then it rewrites the
webhook participant index (healthUserId → participant, no token: what the notify function reads) and, when
the deployment has a webhook subscriber (``--webhooks-project-number``), creates the participant's
subscription for the catalogue's webhook types (``tools/webhook_subscriptions.py``).

The consent URL never sets ``include_granted_scopes``: the API refuses any token whose grant holds a scope
outside Google Health (403 ``DISALLOWED_OAUTH_SCOPES``), and that flag would pull every scope this client was
ever granted back in. A grant that still comes back with a foreign scope is refused before anything is stored.
It warns when the grant is time-limited (``refresh_token_expires_in``: the OAuth app is in "Testing",
refresh tokens die after 7 days) and when some requested scopes were not granted. It never prints a token.
Facts behind it: Google OAuth for installed apps (loopback redirect, PKCE) and team spec §5, checked 2026-11-23.
"""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

import requests

from fitbit.catalogue import required_scopes
from fitbit.client import DEFAULT_BASE_URL, HealthClient
from fitbit.catalogue.model import SCOPE_PREFIX
from fitbit.errors import DisallowedScopes, PipelineError
from fitbit.oauth import (
    OAuthClientConfig,
    TokenSource,
    authorization_url,
    code_challenge,
    exchange_code,
    new_code_verifier,
    new_state,
)
from helper.secrets import (
    LocalSecretStore,
    ParticipantGrant,
    SecretManagerStore,
    SecretStore,
    check_participant_id,
    enrolled_participants,
    load_grant,
    load_oauth_client,
    save_grant,
    save_oauth_client,
)
from tools.webhook_subscriptions import Subscriptions, cloud_platform_client, enrol_webhooks

_PAGE = "<!doctype html><title>Fitbit pipeline</title><p>{}</p>"


class AuthoriseError(Exception):
    """The consent did not complete; the message says why and what to do."""


@dataclass
class _Redirect:
    code: str | None = None
    error: str | None = None


class _LoopbackServer:
    """Captures the one redirect that carries ``code`` and ``state`` on 127.0.0.1 (ephemeral port)."""

    def __init__(self, state: str) -> None:
        self.result = _Redirect()
        self.done = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                query = parse_qs(urlsplit(self.path).query)
                if urlsplit(self.path).path != "/" or not ({"code", "error", "state"} & query.keys()):
                    self._reply(404, "Not the consent redirect.")
                    return
                if outer.done.is_set():
                    self._reply(409, "This consent was already completed; close this window.")
                    return
                if query.get("state", [""])[0] != state:
                    outer.result.error = "the redirect's state does not match this run (stale or forged redirect)"
                    self._reply(400, "State mismatch: consent rejected. Run the script again.")
                elif "error" in query:
                    outer.result.error = f"consent was not given ({query['error'][0][:64]})"
                    self._reply(200, "Consent was not given. You can close this window.")
                else:
                    outer.result.code = query.get("code", [""])[0]
                    self._reply(200, "Consent received. You can close this window and return to the terminal.")
                outer.done.set()

            def _reply(self, status: int, text: str) -> None:
                body = _PAGE.format(text).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep codes out of logs
                return

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}/"
        # shutdown() waits for the serve loop's next poll: at 50 ms that was 51 ms of every enrolment.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.005},
                                        name="oauth-loopback", daemon=True)

    def __enter__(self) -> _LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout_s: float) -> str:
        if not self.done.wait(timeout_s):
            raise AuthoriseError(f"no consent redirect arrived within {timeout_s:.0f} s; run the script again")
        if self.result.error:
            raise AuthoriseError(self.result.error)
        if not self.result.code:
            raise AuthoriseError("the redirect carried no authorization code; run the script again")
        return self.result.code


def run_authorise(
    participant_id: str,
    *,
    store: SecretStore,
    client_config: OAuthClientConfig,
    open_browser: Callable[[str], None],
    api_base_url: str = DEFAULT_BASE_URL,
    login_hint: str | None = None,
    session: requests.Session | None = None,
    timeout_s: float = 300.0,
    err: TextIO = sys.stderr,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    webhooks: Subscriptions | None = None,
) -> ParticipantGrant:
    """Run the consent flow for one participant and store the grant.

    Args:
        participant_id: our id for the participant (``[A-Za-z0-9_-]``); names the stored secret.
        store: where the grant goes (only ``participant-<id>`` is written).
        client_config: the OAuth client and its endpoints.
        open_browser: called with the consent URL (``webbrowser.open``, a print, or a test's fake browser).
        api_base_url: the Google Health API (or the simulator) for identity and settings.
        login_hint: account to preselect on the consent page.
        session: ``requests`` transport for the token endpoint and the API.
        timeout_s: how long to wait for the redirect.
        err: where warnings go.
        now: clock for ``granted_at``.
        webhooks: the deployment's webhook subscriber; the participant is subscribed when given.

    Returns:
        The stored grant.

    Raises:
        AuthoriseError: the redirect did not bring a usable code.
        PipelineError: the token endpoint or the API refused (its ``fix`` says what to do).
    """
    check_participant_id(participant_id)
    session = session if session is not None else requests.Session()
    scopes = required_scopes()
    verifier, state = new_code_verifier(), new_state()
    with _LoopbackServer(state) as server:
        url = authorization_url(client_config, server.redirect_uri, scopes, state, code_challenge(verifier),
                                login_hint=login_hint)
        open_browser(url)
        code = server.wait(timeout_s)
    granted_at = now()
    grant = exchange_code(client_config, code, server.redirect_uri, verifier, session)
    foreign = sorted(s for s in grant.scopes if not s.startswith(SCOPE_PREFIX))
    if foreign:
        raise DisallowedScopes(
            f"the grant of participant {participant_id} holds scopes outside Google Health ({', '.join(foreign)}); "
            "the API refuses its tokens (DISALLOWED_OAUTH_SCOPES), so it was not stored",
            fix=f"remove this app at https://myaccount.google.com/permissions with the participant's Google account, "
            f"then run `python scripts/authorise.py --participant {participant_id}` again (it asks for exactly "
            "the catalogue's scopes and never sets include_granted_scopes)")
    tokens = TokenSource(client_config, grant.refresh_token, grant.scopes or scopes, session,
                         participant_id=participant_id)
    api = HealthClient(tokens, base_url=api_base_url, session=session)
    health_user_id = str(api.identity()["healthUserId"])
    zone = api.settings().get("timeZone")
    expires_at = None
    if grant.refresh_token_expires_in is not None:
        expires_at = granted_at + timedelta(seconds=grant.refresh_token_expires_in)
    stored = ParticipantGrant(participant_id, tokens.refresh_token, grant.scopes or scopes, health_user_id,
                              zone if isinstance(zone, str) and zone else None, granted_at, expires_at)
    save_grant(store, stored)
    subscribed = enrol_webhooks(store, webhooks, participant_id, health_user_id)
    if subscribed is not None:
        print(f"webhook subscription of {participant_id}: {subscribed}", file=err)
    _warn(err, participant_id, scopes, grant.scopes, expires_at)
    _warn_shared_account(err, store, stored)
    return stored


def _warn_shared_account(err: TextIO, store: SecretStore, grant: ParticipantGrant) -> None:
    """Two participant ids on one Google Health account is almost always a consent given with the wrong account."""
    for other in enrolled_participants(store):
        try:
            same = other != grant.participant_id and load_grant(store, other).health_user_id == grant.health_user_id
        except (ValueError, PipelineError):  # a broken record elsewhere is not this run's problem
            continue
        if same:
            print(
                f"WARNING: participants {other} and {grant.participant_id} are the same Google Health user.\n"
                f"  If that is a mistake, run this script again for {grant.participant_id} and sign in with "
                "the right Google account.",
                file=err,
            )


def _warn(err: TextIO, participant_id: str, requested: Sequence[str], granted: Sequence[str],
          expires_at: datetime | None) -> None:
    if expires_at is not None:
        print(
            f"WARNING: participant {participant_id}'s refresh token expires at {expires_at:%Y-%m-%d %H:%M %Z}.\n"
            "  The OAuth app is in 'Testing' publishing status, so Google ends its grants after 7 days.\n"
            "  Fix: Google Cloud console > Google Auth Platform > Audience > 'Publish app' (In production),\n"
            "  then run this script again. Until then, re-run it for every participant each week.",
            file=err,
        )
    if not granted:
        print("WARNING: the token endpoint did not list the granted scopes; assuming all were granted.", file=err)
        return
    missing = sorted(set(requested) - set(granted))
    if missing:
        print(
            f"WARNING: participant {participant_id} did not grant {len(missing)} requested scope(s):\n"
            + "".join(f"  - {scope}\n" for scope in missing)
            + "  Data types needing them will fail with ScopeMissing. Fix: run this script again and tick every box.",
            file=err,
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="One-time Google Health consent for one participant.")
    parser.add_argument("--participant", required=True, help="participant id, e.g. user1")
    parser.add_argument("--base-url", help="simulator base URL (OAuth and API); default: real Google")
    parser.add_argument("--login-hint", help="account to preselect (the simulator's userK)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--secrets", default=".state/secrets.json", help="local secrets file (default %(default)s)")
    where.add_argument("--gcp-project", help="store in Secret Manager of this project instead")
    parser.add_argument("--client-id", help="OAuth client id (default: 'oauth-client' in the store)")
    parser.add_argument("--client-secret", help="OAuth client secret (prefer the store: argv is visible to ps)")
    parser.add_argument("--no-browser", action="store_true", help="print the consent URL instead of opening it")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for consent")
    parser.add_argument("--webhooks-project-number", help="also subscribe the participant to webhooks, on the "
                        "subscriber of this Cloud project NUMBER (Application Default Credentials)")
    parser.add_argument("--webhooks-subscriber-id", default="fitbit-pipeline", help="default %(default)s")
    return parser


def _client_config(args: argparse.Namespace, store: SecretStore) -> tuple[OAuthClientConfig, bool]:
    """The OAuth client to use, and whether it should be saved to the store."""
    if bool(args.client_id) != bool(args.client_secret):
        raise AuthoriseError("pass both --client-id and --client-secret, or neither")
    if args.client_id:
        config = OAuthClientConfig(args.client_id, args.client_secret)
        return (config.with_endpoints_of(args.base_url) if args.base_url else config), True
    if args.base_url:  # the simulator's dev client; a real client's secret never goes to the simulator
        return OAuthClientConfig.for_base_url(args.base_url), load_oauth_client(store) is None
    stored = load_oauth_client(store)
    if stored is None:
        raise AuthoriseError(
            "no OAuth client: pass --client-id and --client-secret once (they are then stored as 'oauth-client')"
        )
    return stored, False


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr,
         session: requests.Session | None = None, browser: Callable[[str], bool] = webbrowser.open) -> int:
    """The command line; ``session`` and ``browser`` are injectable for tests. Returns the exit status."""
    args = _parser().parse_args(argv)
    store: SecretStore = SecretManagerStore(args.gcp_project) if args.gcp_project else LocalSecretStore(args.secrets)
    where = f"Secret Manager project {args.gcp_project}" if args.gcp_project else args.secrets

    def show(url: str) -> None:
        if args.no_browser or not browser(url):
            print(f"Open this URL in a browser to give consent:\n\n  {url}\n", file=out, flush=True)
        else:
            print("A browser window was opened for consent; waiting for it to finish...", file=out, flush=True)

    try:
        config, save_client = _client_config(args, store)
        webhooks = None
        if args.webhooks_project_number:
            webhooks = Subscriptions(cloud_platform_client(args.base_url), args.webhooks_project_number,
                                     args.webhooks_subscriber_id)
        grant = run_authorise(
            args.participant, store=store, client_config=config, open_browser=show,
            api_base_url=args.base_url or DEFAULT_BASE_URL, login_hint=args.login_hint, session=session,
            timeout_s=args.timeout, err=err, webhooks=webhooks,
        )
        if save_client:
            save_oauth_client(store, config)
    except (AuthoriseError, ValueError) as exc:
        print(f"authorise failed: {exc}", file=err)
        return 1
    except PipelineError as exc:
        print(f"authorise failed: {exc}\n  fix: {exc.fix}", file=err)
        return 1
    print(
        f"Stored the grant of participant {grant.participant_id} (health user {grant.health_user_id}, "
        f"time zone {grant.time_zone or 'unknown'}, {len(grant.scopes)} scopes) in {where}.",
        file=out,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
