"""The OAuth stand-in: authorization code + PKCE, refresh, revoke, scopes, Testing grants, expiry."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from simulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SIM_BASE_URL, SimConfig, Simulator
from simulator.transport import simulator_session

SCOPE = "https://www.googleapis.com/auth/googlehealth."
SCOPES = [SCOPE + "activity_and_fitness.readonly", SCOPE + "health_metrics_and_measurements.readonly",
          SCOPE + "sleep.readonly", SCOPE + "settings.readonly"]
REDIRECT = "http://127.0.0.1:53682/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _consent(session: requests.Session, base: str, challenge: str, **override: Any) -> requests.Response:
    params = {"client_id": DEFAULT_CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
              "scope": " ".join(SCOPES), "access_type": "offline", "prompt": "consent", "state": "st4te",
              "code_challenge": challenge, "code_challenge_method": "S256", "login_hint": "user2", **override}
    params = {k: v for k, v in params.items() if v is not None}
    return session.get(f"{base}/o/oauth2/v2/auth?{urlencode(params)}", allow_redirects=False)


def _exchange(session: requests.Session, base: str, code: str, verifier: str, **override: str) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET, "code_verifier": verifier, **override}
    return session.post(f"{base}/token", data=form)


def _code(response: requests.Response) -> dict[str, list[str]]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def test_the_code_flow_with_pkce_works_over_real_http(live) -> None:
    session = requests.Session()
    verifier, challenge = _pkce()
    query = _code(_consent(session, live.base_url, challenge))
    assert query["state"] == ["st4te"] and query["scope"] == [" ".join(SCOPES)]
    tokens = _exchange(session, live.base_url, query["code"][0], verifier).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3599
    assert tokens["scope"] == " ".join(SCOPES) and tokens["refresh_token"]
    assert "refresh_token_expires_in" not in tokens
    identity = session.get(f"{live.base_url}/v4/users/me/identity",
                           headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert identity["healthUserId"] == live.sim.cohort.by_label("user2").health_user_id, "login_hint picks user2"
    refreshed = session.post(f"{live.base_url}/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET}).json()
    assert refreshed["access_token"] != tokens["access_token"] and "refresh_token" not in refreshed
    assert session.post(f"{live.base_url}/revoke", data={"token": tokens["refresh_token"]}).status_code == 200
    again = session.post(f"{live.base_url}/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    dead = session.get(f"{live.base_url}/v4/users/me/identity",
                       headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    assert dead.status_code == 401


@pytest.fixture
def local() -> tuple[Simulator, requests.Session]:
    sim = Simulator(SimConfig(users=2, days=1))
    return sim, simulator_session(sim)


@pytest.mark.parametrize(("override", "error"), [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": None}, "invalid_request"),
    ({"scope": "https://www.googleapis.com/auth/fitness.activity.read"}, "invalid_scope"),
    ({"state": None}, "invalid_request"),
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"login_hint": "user9"}, "access_denied"),
])
def test_consent_errors_come_back_on_the_redirect(local, override: dict[str, Any], error: str) -> None:
    _, session = local
    query = _code(_consent(session, SIM_BASE_URL, _pkce()[1], **override))
    assert query["error"] == [error] and "code" not in query


@pytest.mark.parametrize(("override", "status"), [
    ({"client_id": "someone-else.apps.googleusercontent.com"}, 401),
    ({"redirect_uri": "https://evil.example/callback"}, 400),
])
def test_a_wrong_client_or_redirect_never_redirects(local, override: dict[str, str], status: int) -> None:
    _, session = local
    response = _consent(session, SIM_BASE_URL, _pkce()[1], **override)
    assert response.status_code == status and response.headers["Content-Type"].startswith("text/html")


def test_the_code_exchange_checks_pkce_redirect_client_and_single_use(local) -> None:
    _, session = local
    verifier, challenge = _pkce()
    code = _code(_consent(session, SIM_BASE_URL, challenge))["code"][0]
    for override, error, status in [({"code_verifier": _pkce()[0]}, "invalid_grant", 400),
                                    ({"code_verifier": ""}, "invalid_grant", 400),
                                    ({"redirect_uri": "http://127.0.0.1:1/other"}, "invalid_grant", 400),
                                    ({"client_secret": "wrong"}, "invalid_client", 401),
                                    ({"grant_type": "password"}, "unsupported_grant_type", 400)]:
        response = _exchange(session, SIM_BASE_URL, code, verifier, **override)
        assert (response.status_code, response.json()["error"]) == (status, error), override
        assert response.json()["error_description"]
    assert _exchange(session, SIM_BASE_URL, code, verifier).status_code == 200
    assert _exchange(session, SIM_BASE_URL, code, verifier).json()["error"] == "invalid_grant", "codes are single-use"


def _refresh(session: requests.Session, token: str) -> requests.Response:
    return session.post(f"{SIM_BASE_URL}/token", data={"grant_type": "refresh_token", "refresh_token": token},
                        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))


def test_testing_grants_carry_a_seven_day_refresh_token_that_then_dies(local) -> None:
    sim, session = local
    sim.control.apply({"testing_grants": True})
    verifier, challenge = _pkce()
    code = _code(_consent(session, SIM_BASE_URL, challenge))["code"][0]
    tokens = _exchange(session, SIM_BASE_URL, code, verifier).json()
    assert tokens["refresh_token_expires_in"] == 604799
    sim.control.apply({"advance_clock_s": 3 * 86400})
    assert 0 < _refresh(session, tokens["refresh_token"]).json()["refresh_token_expires_in"] < 604799
    sim.control.apply({"advance_clock_s": 4 * 86400 + 60})
    assert _refresh(session, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_access_tokens_expire_after_an_hour_and_revoked_grants_fail_refresh(local) -> None:
    sim, session = local
    tokens = sim.token("user1")
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert session.get(f"{SIM_BASE_URL}/v4/users/me/identity", headers=headers).status_code == 200
    sim.control.apply({"advance_clock_s": 3600})
    expired = session.get(f"{SIM_BASE_URL}/v4/users/me/identity", headers=headers)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    assert expired.json()["error"]["status"] == "UNAUTHENTICATED"
    assert _refresh(session, tokens["refresh_token"]).status_code == 200
    sim.control.apply({"revoked_grant": ["user1"]})
    assert _refresh(session, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert _refresh(session, sim.token("user2")["refresh_token"]).status_code == 200


def test_a_request_without_credentials_is_401_credentials_missing(local) -> None:
    _, session = local
    response = session.get(f"{SIM_BASE_URL}/v4/users/me/dataTypes/steps/dataPoints")
    assert response.status_code == 401
    assert response.json()["error"]["details"][0]["reason"] == "CREDENTIALS_MISSING"


@pytest.mark.parametrize(("scopes", "path", "status"), [
    ([SCOPE + "activity_and_fitness.readonly"], "/v4/users/me/dataTypes/sleep/dataPoints", 403),
    ([SCOPE + "sleep.readonly"], "/v4/users/me/dataTypes/sleep/dataPoints", 200),
    ([SCOPE + "activity_and_fitness.readonly"], "/v4/users/me/dataTypes/heart-rate/dataPoints?pageSize=1", 403),
    ([SCOPE + "activity_and_fitness.readonly"], "/v4/users/me/settings", 403),
    ([SCOPE + "settings.readonly"], "/v4/users/me/pairedDevices", 200),
    ([SCOPE + "sleep.readonly"], "/v4/users/me/identity", 200),
    ([SCOPE + "activity_and_fitness.readonly"], "/v4/users/me/dataTypes/exercise/dataPoints/1:exportExerciseTcx", 403),
])
def test_scopes_are_enforced_per_data_type(local, scopes: list[str], path: str, status: int) -> None:
    sim, session = local
    token = sim.token("user1", tuple(scopes))["access_token"]
    response = session.get(SIM_BASE_URL + path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"


def _grant(sim: Simulator, session: requests.Session, scopes: list[str], **extra: str) -> dict[str, Any]:
    verifier, challenge = _pkce()
    code = _code(_consent(session, SIM_BASE_URL, challenge, scope=" ".join(scopes), **extra))["code"][0]
    response = _exchange(session, SIM_BASE_URL, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_grant_holding_a_non_health_scope_is_refused_with_disallowed_oauth_scopes(local) -> None:
    sim, session = local
    token = _grant(sim, session, [*SCOPES, "openid", "https://www.googleapis.com/auth/userinfo.email"])
    response = session.get(SIM_BASE_URL + "/v4/users/me/dataTypes/steps/dataPoints?pageSize=1",
                           headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["status"] == "PERMISSION_DENIED" and error["details"][0]["reason"] == "DISALLOWED_OAUTH_SCOPES"


def test_include_granted_scopes_pulls_earlier_scopes_back_into_the_grant(local) -> None:
    sim, session = local
    _grant(sim, session, ["openid", "email"])  # the participant once signed in to something else of ours
    merged = _grant(sim, session, SCOPES, include_granted_scopes="true")
    assert set(merged["scope"].split()) == {*SCOPES, "openid", "email"}
    refused = session.get(SIM_BASE_URL + "/v4/users/me/identity",
                          headers={"Authorization": f"Bearer {merged['access_token']}"})
    assert refused.json()["error"]["details"][0]["reason"] == "DISALLOWED_OAUTH_SCOPES"
    clean = _grant(sim, session, SCOPES)  # what authorise asks for: exactly the requested scopes
    assert set(clean["scope"].split()) == set(SCOPES)
    ok = session.get(SIM_BASE_URL + "/v4/users/me/identity", headers={"Authorization": f"Bearer {clean['access_token']}"})
    assert ok.status_code == 200, ok.text
