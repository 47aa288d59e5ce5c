"""The client and OAuth helpers against the Google Health simulator, in process (its requests adapter).

These check that our requests are ones the simulator (a model of the live API) accepts and that its
awkward answers (429, 503, truncated bodies, ACCOUNT_NOT_LINKED, HTML 404, expired tokens) land on
the right ``fitbit.errors`` class.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fitbit.calls import ApiCall, daily_roll_up_call, list_call, reconcile_call, roll_up_call
from fitbit.catalogue import DATA_TYPES, by_path_id
from fitbit.client import HealthClient
from fitbit.errors import (
    AccountNotLinked,
    BadRequest,
    NetworkError,
    NotFound,
    RateLimited,
    ReconsentNeeded,
    ScopeMissing,
    ServerError,
)
from fitbit.oauth import OAuthClientConfig, TokenSource, authorization_url, code_challenge, exchange_code, revoke
from simulator import SIM_BASE_URL, SimConfig, Simulator, simulator_session

END = date(2026, 11, 5)  # the simulator's default last day
START = END - timedelta(days=3)
CONFIG = OAuthClientConfig.for_base_url(SIM_BASE_URL)


def simulator(**faults: Any) -> Simulator:
    return Simulator(SimConfig(users=2, days=4, seed=3, sleep_processing_seconds=0, faults=faults))


def client_for(sim: Simulator, user: str = "user1", scopes: tuple[str, ...] | None = None) -> HealthClient:
    token = sim.token(user, scopes)["access_token"]
    return HealthClient(lambda: token, base_url=SIM_BASE_URL, session=simulator_session(sim))


@pytest.fixture(scope="module")
def sim() -> Simulator:
    return simulator()


def read_calls() -> list[tuple[str, ApiCall]]:
    calls = []
    for entry in DATA_TYPES:
        for read in entry.reads:
            label = f"{entry.path_id}-{read.method}"
            if read.method == "dailyRollUp":
                call = daily_roll_up_call(entry.path_id, start=START, end=END, page_size=read.page_size)
            elif read.method == "rollUp":
                day = datetime(2026, 11, 4, tzinfo=UTC)
                call = roll_up_call(entry.path_id, start=day, end=day + timedelta(days=1),
                                    window_size=read.window_size or "60s", page_size=read.page_size)
            elif entry.path_id == "heart-rate":  # raw 1-second samples: one hour is plenty
                hour = datetime(2026, 11, 4, 12, tzinfo=UTC)
                call = list_call(entry.path_id, filter=entry.physical_time_filter(hour, hour + timedelta(hours=1)),
                                 page_size=read.page_size)
            else:
                build = list_call if read.method == "list" else reconcile_call
                call = build(entry.path_id, filter=entry.civil_day_filter(START, END), page_size=read.page_size)
            calls.append((label, call))
    return calls


@pytest.mark.parametrize(("label", "call"), read_calls(), ids=[label for label, _ in read_calls()])
def test_every_catalogue_read_is_accepted_and_parsed(sim: Simulator, label: str, call: ApiCall) -> None:
    client = client_for(sim)
    items = [item for page in client.pages(call) for item in page.items]
    key = by_path_id(label.rsplit("-", 1)[0]).json_key
    assert all(key in item for item in items), label


STEP_DAYS = by_path_id("steps").civil_day_filter(START, END)


def test_the_busiest_reads_return_data(sim: Simulator) -> None:
    client = client_for(sim)
    steps = [i for p in client.pages(reconcile_call("steps", filter=STEP_DAYS,
                                                     page_size=10000)) for i in p.items]
    sleep = [i for p in client.pages(list_call("sleep", filter=by_path_id("sleep").civil_day_filter(START, END),
                                               page_size=25)) for i in p.items]
    assert steps and sleep


def test_small_pages_follow_the_tokens_to_the_same_points_as_one_big_page(sim: Simulator) -> None:
    client = client_for(sim)
    day = by_path_id("steps").civil_day_filter(END - timedelta(days=1), END)
    big = [i for p in client.pages(reconcile_call("steps", filter=day, page_size=10000)) for i in p.items]
    pages = list(client.pages(reconcile_call("steps", filter=day, page_size=100)))
    assert len(pages) > 2 and [i for p in pages for i in p.items] == big


def test_daily_rollups_come_back_one_window_per_day_of_the_exclusive_range(sim: Simulator) -> None:
    client = client_for(sim)
    windows = [w for p in client.pages(daily_roll_up_call("steps", start=START, end=END)) for w in p.items]
    days = sorted(date(**w["civilStartTime"]["date"]) for w in windows)
    assert days == [START + timedelta(days=i) for i in range((END - START).days)]


def test_account_reads_answer_identity_settings_and_devices(sim: Simulator) -> None:
    client = client_for(sim, "user2")
    assert client.identity()["healthUserId"] != client_for(sim, "user1").identity()["healthUserId"]
    assert client.settings()["timeZone"]
    assert client.paired_devices()


def test_an_exercise_track_exports_as_tcx_xml(sim: Simulator) -> None:
    client = client_for(sim)
    everything = by_path_id("exercise").civil_day_filter(END - timedelta(days=10), END + timedelta(days=1))
    sessions = [i for p in client.pages(list_call("exercise", filter=everything, page_size=25)) for i in p.items]
    with_gps = [s["name"] for s in sessions if s["exercise"].get("exerciseMetadata", {}).get("hasGps")]
    assert with_gps, "seed 3 gives user1 a GPS session; pick another seed if the generators change"
    xml = client.export_tcx(with_gps[0])
    assert xml.lstrip().startswith(b"<?xml") and b"TrainingCenterDatabase" in xml


@pytest.mark.parametrize(
    ("fault", "error"),
    [("rate_limit", RateLimited), ("unavailable", ServerError), ("truncate", NetworkError)],
)
def test_injected_faults_land_on_transient_errors(fault: str, error: type[Exception]) -> None:
    sim = simulator(**{fault: {"count": 1, "user": None, "retry_after_s": 7}})
    client = client_for(sim)
    with pytest.raises(error) as caught:
        client.execute(reconcile_call("steps", filter=STEP_DAYS, page_size=10))
    if fault == "rate_limit":
        assert caught.value.retry_after_s == 7  # type: ignore[attr-defined]
    client.execute(reconcile_call("steps", filter=STEP_DAYS, page_size=10))  # burst over


def test_an_account_without_google_health_is_account_not_linked() -> None:
    with pytest.raises(AccountNotLinked):
        client_for(simulator(account_not_linked=["user1"])).identity()


def test_a_filter_mixing_civil_and_physical_time_is_a_bad_request_naming_the_reason(sim: Simulator) -> None:
    mixed = 'steps.interval.civil_start_time >= "2026-11-04" AND steps.interval.start_time < "2026-11-05T00:00:00Z"'
    with pytest.raises(BadRequest, match="INVALID_DATA_POINT_FILTER"):
        client_for(sim).execute(list_call("steps", filter=mixed, page_size=10))


def test_a_type_outside_the_granted_scopes_is_scope_missing(sim: Simulator) -> None:
    client = client_for(sim, scopes=("https://www.googleapis.com/auth/googlehealth.sleep.readonly",))
    with pytest.raises(ScopeMissing):
        client.execute(reconcile_call("steps", filter=STEP_DAYS, page_size=10))


def test_an_unknown_path_is_not_found_from_an_html_page(sim: Simulator) -> None:
    with pytest.raises(NotFound):
        client_for(sim).execute(ApiCall("GET", "v4/users/me/nonsense", (), None, "users.nonsense"))


# --- OAuth against the simulator ------------------------------------------------------------------


def consent(session: requests.Session, user: str) -> str:
    """Play the consent page in process and exchange the code; return the refresh token."""
    verifier = "v" * 20 + "-" + user.ljust(30, "x")
    redirect = "http://127.0.0.1:8765/"
    url = authorization_url(CONFIG, redirect, ("https://www.googleapis.com/auth/googlehealth.sleep.readonly",
                                               "https://www.googleapis.com/auth/googlehealth.settings.readonly"),
                            "st", code_challenge(verifier), login_hint=user)
    location = session.get(url, allow_redirects=False, timeout=5).headers["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st"]
    return exchange_code(CONFIG, query["code"][0], redirect, verifier, session).refresh_token


def test_a_code_exchanged_at_the_simulator_refreshes_into_working_access_tokens() -> None:
    sim = simulator()
    session = simulator_session(sim)
    refresh = consent(session, "user2")
    tokens = TokenSource(CONFIG, refresh, ("https://www.googleapis.com/auth/googlehealth.settings.readonly",
                                           "https://www.googleapis.com/auth/googlehealth.sleep.readonly"), session)
    client = HealthClient(tokens, base_url=SIM_BASE_URL, session=session)
    assert client.identity()["healthUserId"] == client_for(sim, "user2").identity()["healthUserId"]


def test_a_testing_grant_from_the_simulator_reports_its_7_day_expiry() -> None:
    sim = simulator(testing_grants=True)
    session = simulator_session(sim)
    verifier = "w" * 50
    url = authorization_url(CONFIG, "http://127.0.0.1:1/", ("https://www.googleapis.com/auth/googlehealth."
                                                            "sleep.readonly",), "s", code_challenge(verifier))
    code = parse_qs(urlsplit(session.get(url, allow_redirects=False).headers["Location"]).query)["code"][0]
    grant = exchange_code(CONFIG, code, "http://127.0.0.1:1/", verifier, session)
    assert grant.refresh_token_expires_in == 604799


def test_an_access_token_the_api_calls_expired_is_refreshed_once_and_the_call_succeeds() -> None:
    sim = simulator()
    session = simulator_session(sim)
    scopes = ("https://www.googleapis.com/auth/googlehealth.settings.readonly",)
    tokens = TokenSource(CONFIG, sim.token("user1", scopes)["refresh_token"], scopes, session)
    client = HealthClient(tokens, base_url=SIM_BASE_URL, session=session)
    first = tokens()
    sim.control.apply({"advance_clock_s": 4000})  # the simulator's clock passes the token's 3599 s
    assert client.settings()["timeZone"] and tokens() != first


def test_a_revoked_grant_needs_reconsent() -> None:
    sim = simulator(revoked_grant=["user1"])
    scopes = ("https://www.googleapis.com/auth/googlehealth.settings.readonly",)
    tokens = TokenSource(CONFIG, sim.token("user1", scopes)["refresh_token"], scopes, simulator_session(sim),
                         participant_id="user1")
    with pytest.raises(ReconsentNeeded):
        tokens()


def test_a_revoked_refresh_token_stops_refreshing() -> None:
    sim = simulator()
    session = simulator_session(sim)
    scopes = ("https://www.googleapis.com/auth/googlehealth.settings.readonly",)
    refresh = sim.token("user2", scopes)["refresh_token"]
    revoke(CONFIG, refresh, session)
    with pytest.raises(ReconsentNeeded):
        TokenSource(CONFIG, refresh, scopes, session)()
