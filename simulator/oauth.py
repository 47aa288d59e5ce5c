"""A stand-in for Google OAuth 2.0: consent (auto-approved), token, refresh, revoke, bearer checks.

Paths mirror Google's so only base URLs differ: ``GET /o/oauth2/v2/auth`` (accounts.google.com),
``POST /token`` and ``POST /revoke`` (oauth2.googleapis.com). Behaviour (team API doc §5, checked
2026-11-23): authorization-code flow with PKCE S256; loopback redirect URIs only; access tokens live
3599 s; refresh tokens only with ``access_type=offline``; granted ``scope`` = requested scopes,
space-separated; Testing-status grants add ``refresh_token_expires_in: 604799`` and die after 7 days;
failures are ``{"error": "invalid_grant" | "invalid_request" | ..., "error_description": ...}`` with
HTTP 400 (``invalid_client`` is 401, as Google answers). The participant is chosen with
``login_hint=userK`` (default user1), standing in for the Google account that signs in.

``include_granted_scopes=true`` merges every scope the participant granted this client before into the
new grant, as Google's incremental authorisation does; together with the data API's rule that a token
whose grant holds any non-Health scope is refused (403 ``DISALLOWED_OAUTH_SCOPES``, live reports
2026-11, ``app.py``), that is how an old ``openid email`` consent breaks a pipeline's new grant.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from simulator.cohort import Cohort
from simulator.control import Control
from simulator.errors import Response, json_response, unauthenticated

ACCESS_TTL_S = 3599
TESTING_REFRESH_TTL_S = 604799
CODE_TTL_S = 600
_HEALTH = "https://www.googleapis.com/auth/googlehealth."
KNOWN_SCOPES = frozenset(
    [f"{_HEALTH}{area}.readonly" for area in (
        "activity_and_fitness", "health_metrics_and_measurements", "sleep", "location", "ecg", "irn", "profile",
        "settings", "reproductive_health", "logged_symptoms", "mindfulness", "nutrition")]
    + [f"{_HEALTH}{area}.writeonly" for area in (
        "activity_and_fitness", "health_metrics_and_measurements", "sleep", "profile", "settings",
        "reproductive_health", "logged_symptoms", "mindfulness", "nutrition")]
    + ["openid", "email", "profile", "https://www.googleapis.com/auth/userinfo.email",
       "https://www.googleapis.com/auth/userinfo.profile"]
)
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


@dataclass
class Grant:
    user: str
    scopes: tuple[str, ...]
    created: float
    testing: bool
    revoked: bool = False


@dataclass
class Code:
    user: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str
    offline: bool
    expires: float
    used: bool = False


@dataclass
class Access:
    grant: Grant
    expires: float
    revoked: bool = False

    @property
    def user(self) -> str:
        return self.grant.user

    @property
    def scopes(self) -> tuple[str, ...]:
        return self.grant.scopes


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _html(status: int, title: str, detail: str) -> Response:
    page = f"<!DOCTYPE html><html><title>{title}</title><body><h1>{title}</h1><p>{detail}</p></body></html>"
    return status, {"Content-Type": "text/html; charset=UTF-8"}, page.encode()


class OAuthServer:
    def __init__(self, cohort: Cohort, control: Control, client_id: str, client_secret: str) -> None:
        self.cohort = cohort
        self.control = control
        self.client_id = client_id
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._codes: dict[str, Code] = {}
        self._refresh: dict[str, Grant] = {}
        self._access: dict[str, Access] = {}
        self._granted_before: dict[str, set[str]] = {}  # user -> every scope granted to this client so far

    # -- consent ----------------------------------------------------------------------------------
    def authorize(self, query: dict[str, str]) -> Response:
        if query.get("client_id") != self.client_id:
            return _html(401, "Error 401: invalid_client", "The OAuth client was not found.")
        redirect = query.get("redirect_uri", "")
        parts = urlsplit(redirect)
        if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost"):
            return _html(400, "Error 400: redirect_uri_mismatch",
                         "The simulator only redirects to http://127.0.0.1 or http://localhost.")
        state = query.get("state", "")

        def fail(error: str, description: str) -> Response:
            params = {"error": error, "error_description": description, **({"state": state} if state else {})}
            return _redirect(redirect, params)

        if query.get("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be code")
        scopes = tuple(query.get("scope", "").split())
        if not scopes:
            return fail("invalid_request", "Missing required parameter: scope")
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            return fail("invalid_scope", f"Some requested scopes were invalid: {unknown}")
        if not state:
            return fail("invalid_request", "Missing required parameter: state")
        challenge = query.get("code_challenge", "")
        if not challenge or query.get("code_challenge_method") != "S256":
            return fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
        user = query.get("login_hint") or "user1"
        if self.cohort.by_label(user) is None:
            return fail("access_denied", f"unknown participant {user!r}")
        code = "4/0Asim" + secrets.token_urlsafe(32)
        with self._lock:
            earlier = self._granted_before.setdefault(user, set())
            if query.get("include_granted_scopes") == "true":
                scopes = (*scopes, *sorted(earlier - set(scopes)))
            earlier.update(scopes)
            self._codes[code] = Code(user, redirect, scopes, challenge, query.get("access_type") == "offline",
                                     self.control.now() + CODE_TTL_S)
        return _redirect(redirect, {"state": state, "code": code, "scope": " ".join(scopes)})

    # -- token endpoint ---------------------------------------------------------------------------
    def token(self, form: dict[str, str], headers: dict[str, str]) -> Response:
        self.control.record_oauth("token")
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                client_id = ""
        if client_id != self.client_id or secret != self.client_secret:
            return _oauth_error("invalid_client", "Unauthorized", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(form)
        if grant_type == "refresh_token":
            return self._refresh_grant(form)
        return _oauth_error("unsupported_grant_type", f"Invalid grant_type: {grant_type}")

    def _exchange(self, form: dict[str, str]) -> Response:
        now = self.control.now()
        with self._lock:
            code = self._codes.get(form.get("code", ""))
            if code is None or code.used or code.expires < now:
                return _oauth_error("invalid_grant", "Malformed auth code.")
            if form.get("redirect_uri") != code.redirect_uri:
                return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request.")
            verifier = form.get("code_verifier", "")
            if not verifier:
                return _oauth_error("invalid_grant", "Missing code verifier.")
            if not _VERIFIER.match(verifier) or s256(verifier) != code.challenge:
                return _oauth_error("invalid_grant", "Invalid code verifier.")
            code.used = True
        return json_response(200, self.issue(code.user, code.scopes, offline=code.offline))

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        now = self.control.now()
        with self._lock:
            grant = self._refresh.get(form.get("refresh_token", ""))
        expired = grant is not None and grant.testing and now - grant.created >= TESTING_REFRESH_TTL_S + 1
        if grant is None or grant.revoked or expired or grant.user in self.control.faults.revoked_grant:
            return _oauth_error("invalid_grant", "Token has been expired or revoked.")
        body = self._access_for(grant)
        if grant.testing:
            body["refresh_token_expires_in"] = max(0, int(grant.created + TESTING_REFRESH_TTL_S - now))
        return json_response(200, body)

    def issue(self, user: str, scopes: tuple[str, ...], offline: bool = True) -> dict[str, Any]:
        """Mint a grant as a successful code exchange would (also used by ``/_admin/tokens``)."""
        testing = self.control.faults.testing_grants
        grant = Grant(user, tuple(scopes), self.control.now(), testing)
        body = self._access_for(grant)
        if offline:
            refresh = "1//sim" + secrets.token_urlsafe(40)
            with self._lock:
                self._refresh[refresh] = grant
            body["refresh_token"] = refresh
            if testing:
                body["refresh_token_expires_in"] = TESTING_REFRESH_TTL_S
        return body

    def _access_for(self, grant: Grant) -> dict[str, Any]:
        token = "ya29.sim-" + secrets.token_urlsafe(48)
        with self._lock:
            self._access[token] = Access(grant, self.control.now() + ACCESS_TTL_S)
        return {"access_token": token, "expires_in": ACCESS_TTL_S, "scope": " ".join(grant.scopes),
                "token_type": "Bearer"}

    def revoke(self, form: dict[str, str]) -> Response:
        self.control.record_oauth("revoke")
        token = form.get("token", "")
        with self._lock:
            grant = self._refresh.get(token)
            access = self._access.get(token)
            if grant is None and access is None:
                return _oauth_error("invalid_token", "Token expired or revoked")
            grant = grant or access.grant  # type: ignore[union-attr]
            grant.revoked = True  # revoking either token ends the whole grant, as Google does
            for a in self._access.values():
                if a.grant is grant:
                    a.revoked = True
        return json_response(200, {})

    # -- bearer checks ----------------------------------------------------------------------------
    def authenticate(self, headers: dict[str, str], query: dict[str, str], method: str) -> Access:
        """The access grant behind a request.

        Raises:
            ApiError: 401 UNAUTHENTICATED (missing, unknown, expired or revoked token).
        """
        auth = headers.get("authorization", "")
        token = (auth[7:].strip() if auth[:7].lower() == "bearer "
                 else query.get("access_token") or query.get("oauth_token", ""))
        if not token:
            raise unauthenticated(method, missing=True)
        with self._lock:
            access = self._access.get(token)
        if (access is None or access.revoked or access.grant.revoked or access.expires <= self.control.now()
                or self.control.revoked(access.user)):
            raise unauthenticated(method, missing=False)
        return access


def _redirect(uri: str, params: dict[str, str]) -> Response:
    sep = "&" if urlsplit(uri).query else "?"
    return 302, {"Location": uri + sep + urlencode(params), "Content-Type": "text/html; charset=UTF-8"}, b""


def parse_form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
