"""Read a Google Health API response: a failed one becomes one error of ``fitbit.errors``, a 2xx one
is parsed and its envelope validated (or it too becomes an error).

API facts (error catalogue, troubleshooting and rate-limit pages, checked 2026-11-23; team spec §4, §10.5):

- error bodies follow AIP-193: ``{"error": {"code", "message", "status", "details": [ErrorInfo...]}}``;
  the reason code sits in ``ErrorInfo.reason`` or in ``ErrorInfo.metadata.detailedReasons``;
- 400 ``FAILED_PRECONDITION`` / ``ACCOUNT_NOT_LINKED`` and 412: no Google Health profile yet;
- 403 ``ACCESS_TOKEN_SCOPE_INSUFFICIENT``: a scope was not granted (granular consent);
- 403 ``DISALLOWED_OAUTH_SCOPES``: the grant holds a scope outside Google Health (live reports, team
  spec §12): re-authorise with exactly the catalogue's scopes;
- 403 "Could not mint UberMint from GaiaMint": consent given with a legacy Fitbit account;
- 404 may be an HTML page (unknown path), so the Content-Type is checked before any JSON parsing;
- 429 ``RESOURCE_EXHAUSTED``, ``Retry-After`` undocumented but honoured when sent (seconds or HTTP-date);
- a 2xx envelope is an object whose item array (``dataPoints``, ``rollupDataPoints``, ``pairedDevices``)
  may be missing (``{}`` is an empty page); ``nextPageToken`` is ``""`` or absent on the last page.
  A 2xx body that is not complete JSON is treated as truncated in transit (transient).

Messages carry the HTTP status, the canonical status and reason codes (identifiers, never values) and
the API method; never the body, the query or a token. Reason codes taken from a body are only kept when
they look like codes (``[A-Z][A-Z0-9_]*``), so free text in a body cannot leak into a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from fitbit.errors import (
    AccountNotLinked,
    BadRequest,
    DisallowedScopes,
    NetworkError,
    NotFound,
    PipelineError,
    RateLimited,
    ReconsentNeeded,
    ScopeMissing,
    ServerError,
    UnexpectedResponse,
)

__all__ = [
    "ErrorBody",
    "error_for_response",
    "is_json_content_type",
    "parse_error_body",
    "read_envelope",
    "retry_after_seconds",
]

_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,99}$")
_LEGACY_ACCOUNT = "UberMint"
_SERVICE_DISABLED = {"SERVICE_DISABLED", "ACCESS_NOT_CONFIGURED", "API_DISABLED"}


def is_json_content_type(content_type: str | None) -> bool:
    """True for ``application/json`` and ``application/*+json`` (parameters such as charset ignored)."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class ErrorBody:
    """What we dare read from an error body: canonical status, reason codes and a legacy-account flag."""

    def __init__(self, status: str = "", reasons: tuple[str, ...] = (), legacy_account: bool = False) -> None:
        self.status = status
        self.reasons = reasons
        self.legacy_account = legacy_account

    def describe(self) -> str:
        parts = [self.status] if self.status else []
        if self.reasons:
            parts.append(f"({', '.join(self.reasons)})")
        return " ".join(parts)


def _codes(value: object) -> list[str]:
    if isinstance(value, str):
        candidates = re.split(r"[\s,]+", value)
    elif isinstance(value, list):
        candidates = [v for v in value if isinstance(v, str)]
    else:
        return []
    return [c for c in candidates if _CODE.match(c)]


def parse_error_body(content_type: str | None, body: bytes) -> ErrorBody:
    """Read the canonical status and reason codes from an AIP-193 body; anything else yields an empty result."""
    if not is_json_content_type(content_type):
        return ErrorBody()
    try:
        data = json.loads(body)
    except ValueError:
        return ErrorBody()
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return ErrorBody()
    status = _text(error.get("status"))
    reasons: list[str] = []
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if not isinstance(detail, dict):
            continue
        reasons += _codes(detail.get("reason"))
        metadata = detail.get("metadata")
        if isinstance(metadata, dict):
            reasons += _codes(metadata.get("detailedReasons"))
    unique = tuple(dict.fromkeys(reasons))
    return ErrorBody(status if _CODE.match(status) else "", unique, _LEGACY_ACCOUNT in _text(error.get("message")))


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / infinity
        return None
    return max(0.0, seconds)


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    what: str,
) -> PipelineError:
    """The error to raise for a non-2xx response.

    Args:
        status: HTTP status code (not 2xx).
        headers: response headers (case-insensitive mapping, as ``requests`` gives).
        body: raw body; only its status and reason codes are read.
        what: a short description of the call for the message, e.g. ``"steps users.dataTypes.dataPoints.list"``.

    Returns:
        An instance of a ``fitbit.errors`` class, with ``http_status`` and ``reasons`` attributes set.
    """
    info = parse_error_body(headers.get("Content-Type"), body)
    described = f"HTTP {status}" + (f" {info.describe()}" if info.describe() else "")
    head = f"{what} failed: {described}"
    error = _classify(status, info, head, headers)
    error.http_status = status  # type: ignore[attr-defined]
    error.reasons = info.reasons  # type: ignore[attr-defined]
    return error


def _classify(status: int, info: ErrorBody, head: str, headers: Mapping[str, str]) -> PipelineError:
    reasons = set(info.reasons)
    if status == 429:
        return RateLimited(head, retry_after_s=retry_after_seconds(headers.get("Retry-After")))
    if status >= 500:
        return ServerError(f"{head}; the API had a server-side problem, the unit is retried")
    if status == 412:
        return AccountNotLinked(
            f"{head}; the participant has not finished setting up their Google Health profile",
            fix="the participant must open the Google Health (Fitbit) app and finish setting up the profile",
        )
    if "ACCOUNT_NOT_LINKED" in reasons or (status == 400 and info.status == "FAILED_PRECONDITION" and not reasons):
        return AccountNotLinked(f"{head}; the Google account has no Google Health profile")
    if status == 401:
        return ReconsentNeeded(f"{head}; the access token was refused even after asking for a fresh one")
    if status == 403:
        if "DISALLOWED_OAUTH_SCOPES" in reasons:
            return DisallowedScopes(f"{head}; the participant's grant holds scopes outside Google Health")
        if "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in reasons:
            return ScopeMissing(f"{head}; the participant did not grant the scope this data type needs")
        if info.legacy_account:
            return AccountNotLinked(
                f"{head}; consent was given with a legacy Fitbit login, not a Google account",
                fix="the participant must move their Fitbit account to a Google account in the Fitbit app, "
                "then run scripts/authorise.py again",
            )
        if reasons & _SERVICE_DISABLED:
            return BadRequest(
                f"{head}; the Google Health API is not enabled for the OAuth client's project",
                fix="enable the Google Health API in the Cloud project that owns the OAuth client",
            )
        return ScopeMissing(f"{head}; permission denied")
    if status in (404, 410):
        return NotFound(f"{head}; the endpoint or data point does not exist")
    if status == 400 and not reasons and not info.status:
        return BadRequest(f"{head}; the request was malformed (wrong verb, URL or JSON body)")
    if 400 <= status < 500:
        return BadRequest(f"{head}; fix the request (filter, window or parameters) rather than retrying")
    return UnexpectedResponse(f"{head}; an HTTP status this client does not expect")


def read_envelope(
    status: int, content_type: str | None, raw: bytes, *, items_key: str | None, what: str
) -> tuple[dict[str, Any], list[Any], str | None]:
    """Parse a 2xx JSON body and validate its envelope (two steps: bytes were read by the caller).

    Returns:
        ``(data, items, next_page_token)``; items ``[]`` when the array is absent, token ``None`` when
        ``""`` or absent.

    Raises:
        UnexpectedResponse: a non-JSON Content-Type, a body that is not an object, an item array that
            is not a list of objects, or a non-string ``nextPageToken``.
        NetworkError: the body is not complete JSON (truncated in transit).
    """
    if content_type and not is_json_content_type(content_type):
        media = content_type.split(";", 1)[0].strip()
        raise UnexpectedResponse(f"{what}: HTTP {status} with Content-Type {media!r} instead of JSON")
    try:
        data = json.loads(raw)
    except ValueError:
        raise NetworkError(
            f"{what}: HTTP {status} body is not complete JSON ({len(raw)} bytes); probably truncated in transit"
        ) from None
    if not isinstance(data, dict):
        raise UnexpectedResponse(f"{what}: the JSON body is a {type(data).__name__}, not an object")
    items: list[Any] = []
    if items_key is not None and items_key in data:
        items = data[items_key]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise UnexpectedResponse(f"{what}: '{items_key}' is not a list of objects")
    token = data.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise UnexpectedResponse(f"{what}: 'nextPageToken' is a {type(token).__name__}, not a string")
    return data, items, token or None
