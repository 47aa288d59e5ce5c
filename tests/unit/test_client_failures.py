"""HealthClient.execute against a fake transport when the answer goes wrong: each HTTP failure mapped to a
Transient or Terminal error with its fix, never carrying the token or the body, and envelopes of the
wrong shape refused. The good answers: test_client.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from fitbit.calls import roll_up_call
from fitbit.errors import (
    AccountNotLinked,
    BadRequest,
    NetworkError,
    NotFound,
    PipelineError,
    RateLimited,
    ScopeMissing,
    ServerError,
    UnexpectedResponse,
)
from tests.client_support import JSON, STEPS, client_for, google_error, reply


# --- execute: error mapping -------------------------------------------------------------------------


def test_429_is_rate_limited_carrying_retry_after_seconds() -> None:
    limited = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", "RATE_LIMIT_EXCEEDED")
    limited[2]["Retry-After"] = "17"
    client, _ = client_for(limited)
    with pytest.raises(RateLimited) as caught:
        client.execute(STEPS)
    assert caught.value.retry_after_s == 17.0


def test_429_retry_after_may_be_an_http_date() -> None:
    limited = google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded")
    limited[2]["Retry-After"] = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    client, _ = client_for(limited)
    with pytest.raises(RateLimited) as caught:
        client.execute(STEPS)
    assert caught.value.retry_after_s is not None and 100 <= caught.value.retry_after_s <= 120


def test_429_without_retry_after_leaves_the_wait_to_the_platform() -> None:
    client, _ = client_for(google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"))
    with pytest.raises(RateLimited) as caught:
        client.execute(STEPS)
    assert caught.value.retry_after_s is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_a_server_error_sent_exactly_once(status: int) -> None:
    client, fake = client_for(reply(status, {"error": {"code": status, "status": "UNAVAILABLE"}}))
    with pytest.raises(ServerError):
        client.execute(STEPS)
    assert len(fake.requests) == 1  # no retry loop inside execute


@pytest.mark.parametrize(
    "failure",
    [requests.ConnectTimeout("t"), requests.ReadTimeout("t"), requests.ConnectionError("refused"),
     requests.exceptions.ChunkedEncodingError("cut")],
)
def test_timeouts_and_connection_failures_are_network_errors(failure: Exception) -> None:
    client, _ = client_for(failure)
    with pytest.raises(NetworkError):
        client.execute(STEPS)


def test_truncated_json_on_a_200_is_a_transient_network_error() -> None:
    client, _ = client_for(reply(200, b'{"dataPoints": [{"steps": {"count": "11'))
    with pytest.raises(NetworkError):
        client.execute(STEPS)


def test_an_html_404_is_not_found_without_being_parsed() -> None:
    html = b"<html><body>The requested URL /v4/users/me/foo was not found on this server.</body></html>"
    client, _ = client_for(reply(404, html, {"Content-Type": "text/html; charset=UTF-8"}))
    with pytest.raises(NotFound):
        client.execute(STEPS)


def test_a_json_404_is_not_found() -> None:
    client, _ = client_for(google_error(404, "NOT_FOUND", "Requested entity was not found."))
    with pytest.raises(NotFound):
        client.execute(STEPS)


def test_account_not_linked_is_terminal_with_the_profile_fix() -> None:
    client, _ = client_for(google_error(400, "FAILED_PRECONDITION", "The account is not linked to Google Health.",
                                        "ACCOUNT_NOT_LINKED", redirect_uri="https://fitbit.google.com/auth/signup"))
    with pytest.raises(AccountNotLinked) as caught:
        client.execute(STEPS)
    assert "Google Health" in caught.value.fix


def test_412_means_the_profile_set_up_is_unfinished() -> None:
    client, _ = client_for(reply(412, {"error": {"code": 412, "message": "Precondition check failed."}}))
    with pytest.raises(AccountNotLinked) as caught:
        client.execute(STEPS)
    assert "finish setting up" in caught.value.fix


def test_insufficient_scope_is_scope_missing() -> None:
    client, _ = client_for(google_error(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                                        "ACCESS_TOKEN_SCOPE_INSUFFICIENT"))
    with pytest.raises(ScopeMissing):
        client.execute(STEPS)


def test_a_legacy_fitbit_login_says_to_move_the_account_to_google() -> None:
    client, _ = client_for(google_error(403, "PERMISSION_DENIED",
                                        "The caller does not have permission. Could not mint UberMint from GaiaMint"))
    with pytest.raises(AccountNotLinked) as caught:
        client.execute(STEPS)
    assert "Google account" in caught.value.fix


def test_a_bad_filter_names_its_reason_codes_but_not_the_body_text() -> None:
    client, _ = client_for(google_error(400, "INVALID_ARGUMENT", "Filter cannot contain both physical and civil",
                                        "INVALID_DATA_POINT_FILTER",
                                        detailedReasons="INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS"))
    with pytest.raises(BadRequest) as caught:
        client.execute(STEPS)
    message = str(caught.value)
    assert "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS" in message and "INVALID_ARGUMENT" in message
    assert "Filter cannot contain" not in message
    assert caught.value.reasons == (  # type: ignore[attr-defined]
        "INVALID_DATA_POINT_FILTER", "INVALID_DATA_POINT_FILTER_MIXED_TIME_RESTRICTIONS")


def test_a_bad_rollup_window_is_a_bad_request() -> None:
    client, _ = client_for(google_error(400, "INVALID_ARGUMENT", "bad window", "INVALID_ROLLUP_WINDOW"))
    call = roll_up_call("steps", start=datetime(2026, 11, 21, tzinfo=UTC), end=datetime(2026, 11, 22, tzinfo=UTC),
                        window_size="60s")
    with pytest.raises(BadRequest, match="INVALID_ROLLUP_WINDOW"):
        client.execute(call)


LEAKY = b'{"error": {"code": %d, "message": "heart rate 187 bpm ya29.SECRET-ACCESS-TOKEN", "status": "X"}}'


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 429, 500, 503])
def test_error_messages_never_carry_the_token_or_the_body(status: int) -> None:
    leaky = (status, LEAKY % status, JSON)
    client, _ = client_for(leaky, leaky)
    with pytest.raises(PipelineError) as caught:
        client.execute(STEPS)
    text = f"{caught.value} {caught.value.fix} {caught.value!r}"
    assert "SECRET" not in text and "187" not in text and "heart rate" not in text


def test_reason_codes_in_a_body_that_are_not_codes_are_dropped() -> None:
    client, _ = client_for(google_error(400, "INVALID_ARGUMENT", "m", "weight 81.5 kg"))
    with pytest.raises(BadRequest) as caught:
        client.execute(STEPS)
    assert "81.5" not in str(caught.value)


# --- execute: envelope validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"text"', b'{"dataPoints": {"steps": {}}}', b'{"dataPoints": ["x"]}', b'{"nextPageToken": 5}'],
    ids=["list", "string", "items-object", "items-not-objects", "numeric-token"],
)
def test_an_envelope_of_the_wrong_shape_is_an_unexpected_response(body: bytes) -> None:
    client, _ = client_for(reply(200, body))
    with pytest.raises(UnexpectedResponse):
        client.execute(STEPS)


def test_a_200_html_page_is_not_parsed_as_json() -> None:
    client, _ = client_for(reply(200, b"<html>captive portal</html>", {"Content-Type": "text/html"}))
    with pytest.raises(UnexpectedResponse, match="text/html"):
        client.execute(STEPS)


def test_redirects_are_not_followed() -> None:
    client, fake = client_for(reply(302, b"", {"Location": "https://accounts.google.com/"}))
    with pytest.raises(UnexpectedResponse):
        client.execute(STEPS)
    assert len(fake.requests) == 1


def test_identity_without_a_health_user_id_is_unexpected() -> None:
    client, _ = client_for(reply(200, {"name": "users/me/identity"}))
    with pytest.raises(UnexpectedResponse):
        client.identity()
