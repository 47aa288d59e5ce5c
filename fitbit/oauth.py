"""Google OAuth 2.0 for the Google Health API: consent URL with PKCE, code exchange, refreshed tokens.

Why google-auth: ``google.oauth2.credentials.Credentials`` already knows how to refresh a user
grant, when a token is near expiry (``REFRESH_THRESHOLD``, 3 min 45 s) and how the token endpoint
reports errors. Refreshes go through ``google.auth.transport.requests.Request(session)`` so tests and
the simulator inject the transport. google-auth has no authorization-code + PKCE exchange (that lives in
google-auth-oauthlib, which we do not depend on), so ``exchange_code`` is one plain form POST.

API facts (Google Health migration / setup pages and Google OAuth docs, checked 2026-11-23; team spec §5):

- endpoints ``accounts.google.com/o/oauth2/v2/auth``, ``oauth2.googleapis.com/token`` and ``/revoke``;
- a refresh token only comes with ``access_type=offline``; ``prompt=consent`` forces a fresh one;
- the API refuses any token whose grant holds a scope outside Google Health (403
  ``DISALLOWED_OAUTH_SCOPES``, live reports 2026-11), and ``include_granted_scopes=true`` pulls every
  scope the client was granted before back into the new grant: the consent URL never sets it;
- consent is granular: the token response's ``scope`` lists what was actually granted;
- ``refresh_token_expires_in`` is present for time-limited grants, notably apps in "Testing"
  publishing status, whose refresh tokens die after 7 days;
- an expired, revoked or otherwise dead refresh token is HTTP 400 ``{"error": "invalid_grant"}``.
google-auth itself retries the token endpoint (3 attempts, exponential backoff) on 5xx and on
``server_error`` / ``temporarily_unavailable``; we add no retry on top.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

import requests
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import TokenState
from google.auth.transport.requests import Request
from google.oauth2.credentials import Credentials

from fitbit.errors import BadRequest, NetworkError, PipelineError, ReconsentNeeded, ServerError, UnexpectedResponse

__all__ = [
    "SIMULATOR_CLIENT_ID",
    "SIMULATOR_CLIENT_SECRET",
    "Grant",
    "OAuthClientConfig",
    "TokenSource",
    "authorization_url",
    "code_challenge",
    "exchange_code",
    "new_code_verifier",
    "new_state",
    "revoke",
]

SIMULATOR_CLIENT_ID = "sim-client-id.apps.googleusercontent.com"
SIMULATOR_CLIENT_SECRET = "sim-client-secret"  # the simulator's published dev client, not a secret
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_RECONSENT_CODES = {"invalid_grant", "invalid_scope"}
_CLIENT_CODES = {"invalid_client", "unauthorized_client"}


@dataclass(frozen=True)
class OAuthClientConfig:
    """An OAuth client (Web or Desktop type) and the endpoints it talks to."""

    client_id: str
    client_secret: str = field(repr=False)
    auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise ValueError("an OAuth client needs both a client id and a client secret")
        for name in ("auth_uri", "token_uri", "revoke_uri"):
            if not getattr(self, name).startswith(("https://", "http://")):
                raise ValueError(f"{name} must be an http(s) URL")

    @classmethod
    def for_base_url(cls, base_url: str, *, client_id: str = SIMULATOR_CLIENT_ID,
                     client_secret: str = SIMULATOR_CLIENT_SECRET) -> OAuthClientConfig:
        """The endpoints of a server that mimics Google under one base URL (the simulator).

        Defaults to the simulator's dev client.
        """
        base = base_url if base_url.endswith("/") else base_url + "/"
        return cls(client_id, client_secret, base + "o/oauth2/v2/auth", base + "token", base + "revoke")

    def with_endpoints_of(self, base_url: str) -> OAuthClientConfig:
        """This client, pointed at another base URL's endpoints."""
        other = OAuthClientConfig.for_base_url(base_url)
        return replace(self, auth_uri=other.auth_uri, token_uri=other.token_uri, revoke_uri=other.revoke_uri)


# --- authorization request (PKCE, RFC 7636) --------------------------------------------------------


def new_code_verifier() -> str:
    """A fresh PKCE code verifier: 86 URL-safe characters (RFC 7636 allows 43-128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """The S256 challenge of ``verifier``: base64url(SHA-256(verifier)) without padding.

    Raises:
        ValueError: the verifier is not 43-128 unreserved characters.
    """
    if not _VERIFIER.match(verifier):
        raise ValueError("a PKCE code verifier is 43-128 characters of [A-Za-z0-9._~-]")
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """An unguessable ``state`` value binding the redirect to this run (CSRF protection)."""
    return secrets.token_urlsafe(32)


def authorization_url(config: OAuthClientConfig, redirect_uri: str, scopes: Sequence[str], state: str,
                      code_challenge: str, login_hint: str | None = None) -> str:
    """The consent URL: authorization code + PKCE S256, offline access, forced consent, granular scopes, and
    never ``include_granted_scopes`` (the grant must hold exactly ``scopes``).

    Args:
        config: the OAuth client.
        redirect_uri: where the browser returns with ``code`` and ``state`` (loopback for the script).
        scopes: every scope to request.
        state: the value the redirect must carry back.
        code_challenge: ``code_challenge(verifier)``.
        login_hint: the account to preselect (the simulator picks its participant with it).

    Returns:
        The URL to open in a browser.
    """
    if not scopes:
        raise ValueError("request at least one scope")
    params = {
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "access_type": "offline",
        "prompt": "consent",
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login_hint"] = login_hint
    joiner = "&" if "?" in config.auth_uri else "?"
    return config.auth_uri + joiner + urlencode(params, quote_via=quote)


# --- code exchange -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What the token endpoint returned for an authorization code. Tokens are hidden from ``repr``."""

    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    scopes: tuple[str, ...]
    expires_in: int | None = None
    refresh_token_expires_in: int | None = None

    @property
    def time_limited(self) -> bool:
        """True for a grant whose refresh token expires (an OAuth app in "Testing" status: 7 days)."""
        return self.refresh_token_expires_in is not None


def _optional_int(data: dict[str, object], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return int(str(value))
    except ValueError:
        raise UnexpectedResponse(f"token endpoint: '{key}' is not a number") from None


def _error_code(data: object) -> str | None:
    """The OAuth ``error`` code of a token-endpoint answer, only if it looks like one (never free text)."""
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) and re.match(r"^[a-z_]{1,64}$", code) else None


def _token_error(status: int, data: object, what: str) -> PipelineError:
    code = _error_code(data)
    head = f"{what}: HTTP {status}" + (f" {code}" if code else "")
    if code in _RECONSENT_CODES:
        return ReconsentNeeded(f"{head}; the authorization is no longer valid (expired, revoked or already used)")
    if code in _CLIENT_CODES:
        return BadRequest(f"{head}; the OAuth client was rejected",
                          fix="check the client id and secret stored under 'oauth-client' (or passed to the script)")
    if status >= 500:
        return ServerError(f"{head}; the token endpoint had a server-side problem")
    return BadRequest(f"{head}; the token request was refused")


def exchange_code(config: OAuthClientConfig, code: str, redirect_uri: str, code_verifier: str,
                  session: requests.Session | None = None, *, timeout_s: float = 30.0) -> Grant:
    """Exchange an authorization code (with its PKCE verifier) for a refresh and an access token.

    Raises:
        ReconsentNeeded: the code was expired, already used or did not match the verifier.
        BadRequest: the client was rejected or the request refused.
        ServerError, NetworkError: transient failures talking to the token endpoint.
        UnexpectedResponse: a 200 without a refresh token or access token.
    """
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "code_verifier": code_verifier,
    }
    what = "token endpoint (authorization code exchange)"
    try:
        response = (session or requests.Session()).post(
            config.token_uri, data=body, headers={"Accept": "application/json"}, timeout=timeout_s
        )
    except requests.RequestException as exc:
        raise NetworkError(f"{what}: {type(exc).__name__}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200:
        raise _token_error(response.status_code, data, what)
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"{what}: HTTP 200 without a JSON object")
    if not isinstance(data.get("access_token"), str) or not data["access_token"]:
        raise UnexpectedResponse(f"{what}: no access token in the answer")
    if not isinstance(data.get("refresh_token"), str) or not data["refresh_token"]:
        raise UnexpectedResponse(
            f"{what}: no refresh token in the answer",
            fix="remove the app's access at https://myaccount.google.com/permissions and run the script "
            "again (a refresh token only comes with access_type=offline and a fresh consent)",
        )
    scope = data.get("scope")
    return Grant(
        refresh_token=data["refresh_token"],
        access_token=data["access_token"],
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        expires_in=_optional_int(data, "expires_in"),
        refresh_token_expires_in=_optional_int(data, "refresh_token_expires_in"),
    )


def revoke(config: OAuthClientConfig, token: str, session: requests.Session | None = None) -> None:
    """Revoke a refresh (or access) token; a token that is already invalid counts as revoked.

    Raises:
        NetworkError, ServerError: the revocation could not be confirmed.
    """
    try:
        response = (session or requests.Session()).post(config.revoke_uri, data={"token": token}, timeout=30)
    except requests.RequestException as exc:
        raise NetworkError(f"revoke endpoint: {type(exc).__name__}") from None
    if response.status_code >= 500:
        raise ServerError(f"revoke endpoint: HTTP {response.status_code}")


# --- access tokens for the pipeline --------------------------------------------------------------


class TokenSource:
    """A callable returning a valid access token, refreshed through google-auth when near expiry.

    Args:
        config: the OAuth client the grant belongs to.
        refresh_token: the participant's refresh token.
        scopes: the scopes granted (sent with the refresh; Google checks they are all still granted).
        session: the ``requests`` transport for the token endpoint.
        participant_id: named in error messages so the fix says who must re-consent.
    """

    def __init__(self, config: OAuthClientConfig, refresh_token: str, scopes: Sequence[str],
                 session: requests.Session | None = None, *, participant_id: str | None = None) -> None:
        self._credentials = Credentials(
            token=None,
            refresh_token=refresh_token,
            token_uri=config.token_uri,
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=list(scopes) or None,
        )
        self._request = Request(session if session is not None else requests.Session())
        self._who = f"participant {participant_id}" if participant_id else "this participant"
        self._participant_id = participant_id

    def __call__(self) -> str:
        """A valid access token (cached until google-auth considers it stale).

        Raises:
            ReconsentNeeded: the refresh token is dead (``invalid_grant``) or a scope was withdrawn.
            BadRequest: the OAuth client itself was rejected.
            ServerError, NetworkError: transient failures (after google-auth's own retries).
        """
        if self._credentials.token_state is not TokenState.FRESH:
            self._refresh()
        return str(self._credentials.token)

    def invalidate(self) -> None:
        """Forget the cached access token (the API refused it), so the next call refreshes."""
        self._credentials.token = None
        self._credentials.expiry = None

    @property
    def refresh_token(self) -> str:
        """The current refresh token (Google may rotate it; store it back if it changed)."""
        return str(self._credentials.refresh_token)

    @property
    def granted_scopes(self) -> tuple[str, ...]:
        """Scopes the last refresh reported as granted (empty before the first refresh)."""
        return tuple(self._credentials.granted_scopes or ())

    def _refresh(self) -> None:
        what = f"token refresh for {self._who}"
        try:
            self._credentials.refresh(self._request)
        except auth_exceptions.RefreshError as exc:
            data = exc.args[1] if len(exc.args) > 1 else None
            code = _error_code(data)
            if code in _RECONSENT_CODES:
                command = f"python scripts/authorise.py --participant {self._participant_id or '<id>'}"
                raise ReconsentNeeded(
                    f"{what}: {code}; the grant expired (7-day 'Testing' grants), was revoked or unused for "
                    "6 months",
                    fix=f"ask the participant to consent again: run `{command}`",
                ) from None
            if code in _CLIENT_CODES:
                raise _token_error(400, data, what) from None
            if getattr(exc, "retryable", False):
                raise ServerError(f"{what}: the token endpoint kept failing") from None
            if code is None:
                raise UnexpectedResponse(f"{what}: the token endpoint answered in a shape we cannot read") from None
            raise BadRequest(f"{what}: the token endpoint refused the refresh ({code})") from None
        except auth_exceptions.TransportError as exc:
            raise NetworkError(f"{what}: {type(exc).__name__} talking to the token endpoint") from None
