"""HealthClient.execute / pages against a fake transport (a requests adapter), never patched code."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from fitbit.calls import daily_roll_up_call, export_tcx_call, list_call, paired_devices_call, roll_up_call
from fitbit.client import HealthClient
from fitbit.errors import (
    AccountNotLinked,
    BadRequest,
    NetworkError,
    NotFound,
    PipelineError,
    RateLimited,
    ReconsentNeeded,
    ScopeMissing,
    ServerError,
    TransientError,
    UnexpectedResponse,
)

BASE = "https://health.test/"
TOKEN = "ya29.SECRET-ACCESS-TOKEN"
JSON = {"Content-Type": "application/json; charset=UTF-8"}
Reply = tuple[int, bytes, dict[str, str]]


def reply(status: int = 200, body: object = None, headers: dict[str, str] | None = None) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps({} if body is None else body).encode()
    return status, raw, dict(JSON if headers is None else headers)


def google_error(code: int, status: str, message: str, reason: str | None = None, **metadata: str) -> Reply:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "metadata": metadata}]
    body = {"error": {"code": code, "message": message, "status": status, "details": details if reason else []}}
    return reply(code, body)


class FakeApi(BaseAdapter):
    """Answers each request with the next scripted reply (or exception), recording what was sent."""

    def __init__(self, *replies: Reply | Exception | Callable[[requests.PreparedRequest], Reply]) -> None:
        super().__init__()
        self.replies = list(replies)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        self.requests.append(request)
        item = self.replies.pop(0)
        if isinstance(item, Exception):
            raise item
        status, body, headers = item(request) if callable(item) else item
        raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=status, preload_content=False)
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass

    def query(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.requests[index].url).query))


def client_for(
    *replies: object, token: Callable[[], str] = lambda: TOKEN, **kwargs: object
) -> tuple[HealthClient, FakeApi]:
    fake = FakeApi(*replies)  # type: ignore[arg-type]
    session = requests.Session()
    session.mount("https://", fake)
    return HealthClient(token, base_url=BASE, session=session, **kwargs), fake  # type: ignore[arg-type]


STEPS = list_call("steps", filter='steps.interval.civil_start_time >= "2026-11-21"', page_size=10000)


# --- execute: the happy paths ---------------------------------------------------------------------


def test_execute_sends_the_bearer_token_and_keeps_the_raw_bytes_and_items() -> None:
    body = b'{"dataPoints": [{"steps": {"count": "112"}}], "nextPageToken": "abc"}'
    client, fake = client_for(reply(200, body))
    page = client.execute(STEPS)
    sent = fake.requests[0]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.method == "GET" and urlsplit(sent.url).path == "/v4/users/me/dataTypes/steps/dataPoints"
    assert fake.query()["filter"] == 'steps.interval.civil_start_time >= "2026-11-21"'
    assert page.body == body and page.status == 200
    assert page.items == [{"steps": {"count": "112"}}]  # int64 strings left for the parser
    assert page.next_page_token == "abc"
    assert page.fetched_at.tzinfo is not None and page.fetched_at.utcoffset() == timedelta(0)
    assert page.call == STEPS


def test_the_filter_is_percent_encoded_as_in_googles_examples() -> None:
    client, fake = client_for(reply(200, {}))
    client.execute(list_call("steps", filter='steps.interval.civil_start_time >= "2026-11-21"', page_size=10))
    assert urlsplit(fake.requests[0].url).query == (
        "filter=steps.interval.civil_start_time%20%3E%3D%20%222026-11-21%22&pageSize=10")


def test_an_empty_object_is_an_empty_last_page() -> None:
    client, _ = client_for(reply(200, b"{}"))
    page = client.execute(STEPS)
    assert (page.data, page.items, page.next_page_token, page.body) == ({}, [], None, b"{}")


def test_an_empty_string_page_token_means_there_are_no_more_pages() -> None:
    client, _ = client_for(reply(200, {"dataPoints": [], "nextPageToken": ""}))
    assert client.execute(STEPS).next_page_token is None


def test_a_rollup_posts_its_body_as_json_and_reads_rollup_data_points() -> None:
    call = daily_roll_up_call("steps", start=date(2026, 9, 1), end=date(2026, 9, 8))
    client, fake = client_for(reply(200, {"rollupDataPoints": [{"steps": {"countSum": "9001"}}]}))
    page = client.execute(call)
    sent = fake.requests[0]
    assert sent.method == "POST" and sent.headers["Content-Type"] == "application/json"
    assert urlsplit(sent.url).path == "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp"
    assert json.loads(sent.body) == call.body
    assert b'"month":9' in sent.body  # integers without leading zeros
    assert page.items == [{"steps": {"countSum": "9001"}}]


def test_a_tcx_export_returns_the_xml_bytes_and_no_parsed_data() -> None:
    xml = b'<?xml version="1.0"?><TrainingCenterDatabase/>'
    client, fake = client_for(reply(200, xml, {"Content-Type": "application/vnd.garmin.tcx+xml"}))
    page = client.execute(export_tcx_call("7394018225563310417"))
    assert page.body == xml and page.data == {} and page.items == []
    assert fake.query() == {"alt": "media"}


def test_paired_devices_are_read_from_their_own_array() -> None:
    client, _ = client_for(reply(200, {"pairedDevices": [{"deviceVersion": "Charge 6"}]}))
    assert client.paired_devices() == [{"deviceVersion": "Charge 6"}]


# --- execute: 401 and the token provider ----------------------------------------------------------


class Tokens:
    """A token provider that hands out a new token each time and records invalidations."""

    def __init__(self) -> None:
        self.calls = 0
        self.invalidated = 0

    def __call__(self) -> str:
        self.calls += 1
        return f"token-{self.calls}"

    def invalidate(self) -> None:
        self.invalidated += 1


def test_a_401_asks_the_token_provider_again_and_retries_once() -> None:
    tokens = Tokens()
    unauthorized = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    client, fake = client_for(unauthorized, reply(200, {}), token=tokens)
    client.execute(STEPS)
    assert [r.headers["Authorization"] for r in fake.requests] == ["Bearer token-1", "Bearer token-2"]
    assert tokens.invalidated == 1


def test_a_second_401_means_the_participant_must_consent_again() -> None:
    unauthorized = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    client, fake = client_for(unauthorized, unauthorized, token=Tokens())
    with pytest.raises(ReconsentNeeded):
        client.execute(STEPS)
    assert len(fake.requests) == 2


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


# --- pages ----------------------------------------------------------------------------------------


def test_pages_follow_tokens_to_the_end_even_past_an_empty_first_page() -> None:
    client, fake = client_for(
        reply(200, {"nextPageToken": "p2"}),
        reply(200, {"dataPoints": [{"n": 1}], "nextPageToken": "p3"}),
        reply(200, {"dataPoints": [{"n": 2}]}),
    )
    pages = list(client.pages(STEPS))
    assert [p.items for p in pages] == [[], [{"n": 1}], [{"n": 2}]]
    assert [fake.query(i).get("pageToken") for i in range(3)] == [None, "p2", "p3"]
    assert all(fake.query(i)["filter"] == fake.query(0)["filter"] for i in range(3))  # same parameters
    assert pages[1].call.metadata()["page_token"] == "p2"


def test_pages_of_a_post_carry_the_token_in_the_body() -> None:
    call = roll_up_call("heart-rate", start=datetime(2026, 11, 21, tzinfo=UTC),
                        end=datetime(2026, 11, 22, tzinfo=UTC), window_size="60s")
    client, fake = client_for(reply(200, {"rollupDataPoints": [], "nextPageToken": "t2"}),
                              reply(200, {"rollupDataPoints": []}))
    list(client.pages(call))
    bodies = [json.loads(r.body) for r in fake.requests]
    assert "pageToken" not in bodies[0] and bodies[1]["pageToken"] == "t2"
    assert bodies[1]["range"] == bodies[0]["range"]


def test_pages_stop_with_a_transient_error_when_the_page_bound_is_hit_with_more_to_read() -> None:
    client, fake = client_for(*(reply(200, {"nextPageToken": f"t{i}"}) for i in range(5)))
    with pytest.raises(TransientError, match="more pages"):
        list(client.pages(STEPS, max_pages=3))
    assert len(fake.requests) == 3


def test_pages_ending_exactly_at_the_page_bound_are_complete() -> None:
    client, _ = client_for(reply(200, {"nextPageToken": "t1"}), reply(200, {}))
    assert len(list(client.pages(STEPS, max_pages=2))) == 2


def test_pages_stop_with_a_transient_error_when_the_time_bound_is_hit() -> None:
    now = iter([0.0, 10.0, 400.0])
    client, fake = client_for(*(reply(200, {"nextPageToken": f"t{i}"}) for i in range(5)), clock=lambda: next(now))
    with pytest.raises(TransientError):
        list(client.pages(STEPS, max_seconds=300.0))
    assert len(fake.requests) == 2


def test_a_page_token_handed_back_again_is_unexpected_instead_of_looping() -> None:
    client, _ = client_for(reply(200, {"nextPageToken": "same"}), reply(200, {"nextPageToken": "same"}))
    with pytest.raises(UnexpectedResponse):
        list(client.pages(STEPS))


def test_paired_devices_follow_their_own_pages() -> None:
    client, fake = client_for(reply(200, {"pairedDevices": [{"n": 1}], "nextPageToken": "d2"}),
                              reply(200, {"pairedDevices": [{"n": 2}]}))
    assert client.paired_devices() == [{"n": 1}, {"n": 2}]
    assert fake.query(1)["pageToken"] == "d2"
    assert paired_devices_call("d2").query == (("pageToken", "d2"),)
