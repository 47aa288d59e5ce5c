"""Errors, marked for the platform (retry or not) and worded for a person (what to do next).

The tree::

    PipelineError
    ├── TransientError            raise it: Pub/Sub / the local queue redelivers
    │   ├── RateLimited           HTTP 429 RESOURCE_EXHAUSTED; carries retry_after_s when known
    │   ├── ServerError           HTTP 5xx
    │   ├── NetworkError          timeouts, refused connections, truncated bodies
    │   └── NotYet                a unit whose not-before time has not come
    └── TerminalError             record it with its fix, then acknowledge
        ├── ReconsentNeeded       invalid_grant / revoked / expired Testing grant
        │   └── DisallowedScopes  403 DISALLOWED_OAUTH_SCOPES: the grant holds a non-Health scope
        ├── ScopeMissing          403 ACCESS_TOKEN_SCOPE_INSUFFICIENT
        ├── AccountNotLinked      400 FAILED_PRECONDITION ACCOUNT_NOT_LINKED (or 412 profile set-up)
        ├── BadRequest            400 INVALID_ARGUMENT (bad filter, bad window, ...)
        ├── NotFound              404 (JSON or an HTML page)
        ├── UnexpectedResponse    a body whose shape we cannot read
        ├── TimeZoneUnknown       points without offsets, and no IANA zone known for the participant
        └── MalformedMessage      a work message or event we cannot decode

Messages never carry tokens, response bodies or health values; they name the participant and the
fix. This module imports nothing so any layer can use it.
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""

    fix: str = "see the logs for the failing unit"

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        if fix is not None:
            self.fix = fix

    @property
    def error_class(self) -> str:
        return type(self).__name__


class TransientError(PipelineError):
    """Worth retrying: the same request may succeed later."""

    fix = "nothing: the unit is retried automatically"


class RateLimited(TransientError):
    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ServerError(TransientError):
    pass


class NetworkError(TransientError):
    pass


class NotYet(TransientError):
    def __init__(self, message: str, *, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


class TerminalError(PipelineError):
    """Retrying cannot help; a person has to act (or the unit is simply wrong)."""


class ReconsentNeeded(TerminalError):
    fix = "run `python scripts/authorise.py --participant <id>` again for this participant"


class DisallowedScopes(ReconsentNeeded):
    """The API refuses any token whose grant holds a scope outside Google Health (live reports, 2026-11)."""

    fix = ("re-authorise: run `python scripts/authorise.py --participant <id>` again; it asks for exactly the "
           "catalogue's Google Health scopes and never sets include_granted_scopes, so the new grant holds no "
           "other scope (if one persists, remove the app at https://myaccount.google.com/permissions first)")


class ScopeMissing(TerminalError):
    fix = "re-run scripts/authorise.py for this participant and grant every requested permission"


class AccountNotLinked(TerminalError):
    fix = "the participant must sign in to the Google Health (Fitbit) app with this Google account"


class BadRequest(TerminalError):
    fix = "a bug in the request we built: report it with the unit's data type and method"


class NotFound(TerminalError):
    fix = "the endpoint or data point does not exist: check the catalogue entry's read method"


class UnexpectedResponse(TerminalError):
    fix = "the API answered with a shape we cannot read: keep the raw object and report it"


class TimeZoneUnknown(TerminalError):
    """Points came without UTC offsets or civil times and the participant's IANA time zone is unknown.

    Never guessed as UTC: civil dates would silently shift for everyone not on UTC.
    """

    fix = ("the participant's time zone is unknown: run `python scripts/authorise.py --participant <id>` again "
           "(it stores the account's IANA time zone), then replay the raw object")


class MalformedMessage(TerminalError):
    fix = "the message was not produced by this pipeline's scheduler or functions: check the publisher"
