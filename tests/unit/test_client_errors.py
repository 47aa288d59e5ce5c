"""Reading error bodies and Retry-After: only codes come out of a body, and odd headers do not crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fitbit.errors import AccountNotLinked, BadRequest, DisallowedScopes, ScopeMissing, TerminalError
from fitbit.http_errors import error_for_response, is_json_content_type, parse_error_body, retry_after_seconds

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), (" 2.5 ", 2.5), ("Mon, 23 Nov 2026 12:01:00 GMT", 60.0), ("Mon, 23 Nov 2026 11:00:00 GMT", 0.0),
     ("-5", 0.0), (None, None), ("", None), ("soon", None), ("nan", None), ("inf", None)],
)
def test_retry_after_reads_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


@pytest.mark.parametrize(
    ("content_type", "is_json"),
    [("application/json", True), ("application/json; charset=UTF-8", True), ("application/problem+json", True),
     ("text/html; charset=UTF-8", False), ("", False), (None, False)],
)
def test_json_content_types_are_recognised(content_type: str | None, is_json: bool) -> None:
    assert is_json_content_type(content_type) is is_json


def test_reasons_come_from_error_info_and_detailed_reasons_without_duplicates() -> None:
    body = (b'{"error": {"status": "INVALID_ARGUMENT", "details": [{"reason": "INVALID_DATA_POINT_FILTER",'
            b' "metadata": {"detailedReasons": "INVALID_DATA_POINT_FILTER, INVALID_TIME_RANGE"}}]}}')
    info = parse_error_body("application/json", body)
    assert info.status == "INVALID_ARGUMENT"
    assert info.reasons == ("INVALID_DATA_POINT_FILTER", "INVALID_TIME_RANGE")


@pytest.mark.parametrize("body", [b"<html/>", b"not json", b"[1]", b'{"error": "x"}', b'{"error": {"details": 3}}'])
def test_unreadable_error_bodies_yield_no_codes(body: bytes) -> None:
    info = parse_error_body("application/json", body)
    assert (info.status, info.reasons, info.legacy_account) == ("", (), False)


@pytest.mark.parametrize(
    ("body", "expected"),
    [(b'{"error": {"details": [{"reason": "ACCOUNT_NOT_LINKED"}]}}', AccountNotLinked),
     (b'{"error": {"status": "FAILED_PRECONDITION"}}', AccountNotLinked),
     (b'{"error": {"status": "FAILED_PRECONDITION", "details": [{"reason": "SOMETHING_ELSE"}]}}', BadRequest)],
    ids=["reason-without-status", "status-without-reason", "other-precondition"],
)
def test_only_the_account_state_precondition_means_account_not_linked(body: bytes, expected: type) -> None:
    error = error_for_response(400, {"Content-Type": "application/json"}, body, what="users.getIdentity")
    assert type(error) is expected


def test_a_service_disabled_403_says_to_enable_the_api_not_to_reconsent() -> None:
    body = b'{"error": {"code": 403, "status": "PERMISSION_DENIED", "details": [{"reason": "SERVICE_DISABLED"}]}}'
    error = error_for_response(403, {"Content-Type": "application/json"}, body, what="users.getIdentity")
    assert isinstance(error, BadRequest) and "enable the Google Health API" in error.fix


def test_a_plain_403_is_treated_as_a_missing_permission() -> None:
    error = error_for_response(403, {"Content-Type": "text/html"}, b"<html/>", what="users.getIdentity")
    assert isinstance(error, ScopeMissing) and error.http_status == 403  # type: ignore[attr-defined]


def test_a_bare_400_is_reported_as_a_malformed_request() -> None:
    error = error_for_response(400, {"Content-Type": "text/html"}, b"<html>Your client has issued</html>", what="x")
    assert isinstance(error, BadRequest) and "malformed" in str(error)


def test_disallowed_oauth_scopes_is_terminal_and_says_to_reauthorise_with_the_catalogue_scopes() -> None:
    body = (b'{"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "disallowed scopes", "details": '
            b'[{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "DISALLOWED_OAUTH_SCOPES"}]}}')
    error = error_for_response(403, {"Content-Type": "application/json"}, body, what="steps list")
    assert isinstance(error, DisallowedScopes) and isinstance(error, TerminalError)
    assert "authorise.py" in error.fix and "include_granted_scopes" in error.fix
    assert "DISALLOWED_OAUTH_SCOPES" in str(error) and "disallowed scopes" not in str(error)
