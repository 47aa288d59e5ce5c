"""Error responses in the shapes the live API uses.

JSON errors follow AIP-193 (``{"error": {code, message, status, details: [ErrorInfo]}}``), the shape
shown in the team API doc §4.4 / §10.5: filter problems carry reason ``INVALID_DATA_POINT_FILTER``
with the specific cause in ``metadata.detailedReasons``; quota errors ``RATE_LIMIT_EXCEEDED``;
missing scopes ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``. Unknown paths and wrong verbs get Google's HTML
404 page (``text/html``), which is why clients must check Content-Type before parsing JSON.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

Response = tuple[int, dict[str, str], bytes]
HEALTH_DOMAIN = "health.googleapis.com"
SERVICE = "health.googleapis.com"


class ApiError(Exception):
    """An error the handler turns into a JSON error response."""

    def __init__(self, code: int, status: str, message: str, reason: str | None = None, *,
                 domain: str = HEALTH_DOMAIN, metadata: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.reason = reason
        self.domain = domain
        self.metadata = metadata
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.reason:
            info: dict[str, Any] = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": self.reason,
                                    "domain": self.domain}
            if self.metadata:
                info["metadata"] = self.metadata
            error["details"] = [info]
        return {"error": error}


def invalid_argument(message: str, reason: str | None = None, **metadata: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message, reason, metadata=metadata or None)


def filter_error(message: str, detailed: str | None = None) -> ApiError:
    meta = {"detailedReasons": detailed} if detailed else None
    return ApiError(400, "INVALID_ARGUMENT", message, "INVALID_DATA_POINT_FILTER", metadata=meta)


def unauthenticated(method: str, missing: bool) -> ApiError:
    if missing:
        return ApiError(
            401, "UNAUTHENTICATED",
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie "
            "or other valid authentication credential.",
            "CREDENTIALS_MISSING", domain="googleapis.com", metadata={"service": SERVICE, "method": method},
            headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
    return ApiError(
        401, "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other "
        "valid authentication credential.",
        "ACCESS_TOKEN_EXPIRED", domain="googleapis.com", metadata={"service": SERVICE, "method": method},
        headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'})


def scope_insufficient(method: str) -> ApiError:
    return ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                    "ACCESS_TOKEN_SCOPE_INSUFFICIENT", domain="googleapis.com",
                    metadata={"service": SERVICE, "method": method})


def disallowed_scopes(method: str) -> ApiError:
    """A token whose grant holds a scope outside Google Health (live reports 2026-11; wording ours)."""
    return ApiError(403, "PERMISSION_DENIED", "Request had disallowed OAuth scopes for this API.",
                    "DISALLOWED_OAUTH_SCOPES", domain="googleapis.com", metadata={"service": SERVICE, "method": method})


def rate_limited(retry_after_s: int, per: str = "user", limit: int = 300) -> ApiError:
    """A quota 429; ``per``: "user" or "project" (Google's limit names follow the Cloud quota convention)."""
    name, metric = (("Queries per minute per user", "QueriesPerMinutePerUser") if per != "project"
                    else ("Queries per minute", "QueriesPerMinutePerProject"))
    return ApiError(
        429, "RESOURCE_EXHAUSTED",
        f"Quota exceeded for quota metric 'Queries' and limit '{name}' of service "
        "'health.googleapis.com' for consumer 'project_number:000000000000'.",
        "RATE_LIMIT_EXCEEDED", domain="googleapis.com",
        metadata={"service": SERVICE, "quota_limit": metric, "quota_limit_value": str(limit)},
        headers={"Retry-After": str(retry_after_s)})


def unavailable() -> ApiError:
    return ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")


def account_not_linked() -> ApiError:
    return ApiError(400, "FAILED_PRECONDITION", "The account is not linked to Google Health.", "ACCOUNT_NOT_LINKED",
                    metadata={"redirect_uri": "https://fitbit.google.com/auth/signup"})


_ENCODER = msgspec.json.Encoder()  # thread-safe (msgspec >= 0.16)


def json_response(code: int, body: Any, pretty: bool = False, headers: dict[str, str] | None = None) -> Response:
    """Compact answers are encoded by msgspec (issue #14: ~5x faster than ``json.dumps`` on a page of
    points; UTF-8 rather than ``\\u`` escapes, as Google sends); ``prettyPrint`` ones by ``json``."""
    out = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
    if pretty:
        return code, out, (json.dumps(body, indent=2) + "\n").encode()
    return code, out, _ENCODER.encode(body) + b"\n"


def error_response(err: ApiError, pretty: bool = False) -> Response:
    return json_response(err.code, err.body(), pretty, err.headers)


def html_404(path: str) -> Response:
    page = (
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
        "  <title>Error 404 (Not Found)!!1</title>\n"
        "  <p><b>404.</b> <ins>That\u2019s an error.</ins>\n"
        f"  <p>The requested URL <code>{_escape(path)}</code> was not found on this server.  "
        "<ins>That\u2019s all we know.</ins>\n"
    )
    return 404, {"Content-Type": "text/html; charset=UTF-8"}, page.encode()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
