"""HealthClient.execute / pages against a fake transport (a requests adapter), never patched code: what a good
answer yields, the 401 retry with a fresh token, and paging. Failures: test_client_failures.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from fitbit.calls import daily_roll_up_call, export_tcx_call, list_call, paired_devices_call, roll_up_call
from fitbit.errors import ReconsentNeeded, TransientError, UnexpectedResponse
from tests.client_support import STEPS, TOKEN, client_for, google_error, reply


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
