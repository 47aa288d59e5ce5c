"""OAuth: consent URL, PKCE, code exchange and refreshed tokens, over a fake token endpoint (a requests adapter)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from fitbit.calls import identity_call
from fitbit.client import HealthClient
from fitbit.errors import BadRequest, NetworkError, ReconsentNeeded, ServerError, UnexpectedResponse
from fitbit.oauth import (
    Grant,
    OAuthClientConfig,
    TokenSource,
    authorization_url,
    code_challenge,
    exchange_code,
    new_code_verifier,
    new_state,
)

CONFIG = OAuthClientConfig("client-1.apps.googleusercontent.com", "CLIENT-SECRET-XYZ",
                           token_uri="https://oauth.test/token")
SCOPES = ("https://www.googleapis.com/auth/googlehealth.sleep.readonly",
          "https://www.googleapis.com/auth/googlehealth.settings.readonly")
REFRESH = "1//REFRESH-TOKEN-SECRET"
Reply = tuple[int, dict[str, object] | str]


class FakeGoogle(BaseAdapter):
    """A token endpoint plus a tiny API; each token request pops the next scripted reply."""

    def __init__(self, *token_replies: Reply | Exception, api: Callable[[str], int] | None = None) -> None:
        super().__init__()
        self.token_replies = list(token_replies)
        self.token_forms: list[dict[str, str]] = []
        self.api_tokens: list[str] = []
        self.api = api or (lambda token: 200)

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        url = urlsplit(request.url)
        if url.path == "/token":
            body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
            self.token_forms.append(dict(parse_qsl(body)))
            item = self.token_replies.pop(0)
            if isinstance(item, Exception):
                raise item
            status, payload = item
        else:
            token = request.headers["Authorization"].removeprefix("Bearer ")
            self.api_tokens.append(token)
            status, payload = self.api(token), {"healthUserId": "2210458839101187653"}
        raw_body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        raw = HTTPResponse(body=io.BytesIO(raw_body), status=status, preload_content=False,
                           headers={"Content-Type": "application/json"})
        return HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


def session_with(fake: FakeGoogle) -> requests.Session:
    session = requests.Session()
    session.mount("https://", fake)
    return session


def token_reply(access: str = "ya29.ACCESS-1", expires_in: int = 3599, **extra: object) -> Reply:
    return 200, {"access_token": access, "expires_in": expires_in, "token_type": "Bearer",
                 "scope": " ".join(SCOPES), **extra}


# --- consent URL and PKCE ------------------------------------------------------------------------


def test_the_consent_url_asks_for_offline_access_forced_consent_and_pkce() -> None:
    url = authorization_url(CONFIG, "http://127.0.0.1:5555/", SCOPES, "state-1", "challenge-1", login_hint="user1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://accounts.google.com/o/oauth2/v2/auth"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_id": CONFIG.client_id, "redirect_uri": "http://127.0.0.1:5555/", "response_type": "code",
        "scope": " ".join(SCOPES), "access_type": "offline", "prompt": "consent",
        "state": "state-1", "code_challenge": "challenge-1",
        "code_challenge_method": "S256", "login_hint": "user1",
    }
    assert CONFIG.client_secret not in url


def test_the_consent_url_never_asks_to_include_previously_granted_scopes() -> None:
    # Google refuses any token whose grant holds a non-Health scope (403 DISALLOWED_OAUTH_SCOPES), and
    # include_granted_scopes would pull every scope this client was ever granted back into the new grant.
    url = authorization_url(CONFIG, "http://127.0.0.1:5555/", SCOPES, "state-1", "challenge-1", login_hint="user1")
    assert "include_granted_scopes" not in url


def test_the_consent_url_omits_login_hint_when_not_given() -> None:
    assert "login_hint" not in authorization_url(CONFIG, "http://127.0.0.1:1/", SCOPES, "s", "c")


def test_the_s256_challenge_matches_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifiers_and_states_are_fresh_and_well_formed() -> None:
    verifiers = {new_code_verifier() for _ in range(5)}
    assert len(verifiers) == 5 and all(43 <= len(v) <= 128 for v in verifiers)
    assert all(code_challenge(v) for v in verifiers)
    assert new_state() != new_state()
    with pytest.raises(ValueError):
        code_challenge("too-short")


def test_simulator_endpoints_hang_off_its_base_url() -> None:
    sim = OAuthClientConfig.for_base_url("http://127.0.0.1:8080")
    assert (sim.auth_uri, sim.token_uri, sim.revoke_uri) == (
        "http://127.0.0.1:8080/o/oauth2/v2/auth", "http://127.0.0.1:8080/token", "http://127.0.0.1:8080/revoke")
    assert sim.client_id == "sim-client-id.apps.googleusercontent.com"
    moved = CONFIG.with_endpoints_of("http://127.0.0.1:9/")
    assert moved.client_id == CONFIG.client_id and moved.token_uri == "http://127.0.0.1:9/token"


def test_the_client_secret_stays_out_of_repr() -> None:
    assert "CLIENT-SECRET" not in repr(CONFIG)


# --- code exchange --------------------------------------------------------------------------------


def test_the_code_exchange_posts_code_verifier_and_client_and_returns_the_grant() -> None:
    fake = FakeGoogle(token_reply(refresh_token=REFRESH, refresh_token_expires_in=604799))
    grant = exchange_code(CONFIG, "4/CODE", "http://127.0.0.1:5555/", "v" * 43, session_with(fake))
    assert fake.token_forms == [{
        "grant_type": "authorization_code", "code": "4/CODE", "redirect_uri": "http://127.0.0.1:5555/",
        "client_id": CONFIG.client_id, "client_secret": CONFIG.client_secret, "code_verifier": "v" * 43,
    }]
    assert grant.refresh_token == REFRESH and grant.scopes == SCOPES
    assert grant.refresh_token_expires_in == 604799 and grant.time_limited
    assert REFRESH not in repr(grant) and "ACCESS" not in repr(grant)


def test_a_production_grant_has_no_refresh_token_expiry() -> None:
    fake = FakeGoogle(token_reply(refresh_token=REFRESH))
    grant = exchange_code(CONFIG, "c", "http://127.0.0.1:1/", "v" * 43, session_with(fake))
    assert grant.refresh_token_expires_in is None and not grant.time_limited


@pytest.mark.parametrize(
    ("reply", "error"),
    [((400, {"error": "invalid_grant", "error_description": "Bad Request"}), ReconsentNeeded),
     ((401, {"error": "invalid_client"}), BadRequest),
     ((500, "<html>oops</html>"), ServerError),
     (token_reply(), UnexpectedResponse),  # no refresh token
     (requests.ConnectionError("refused"), NetworkError)],
    ids=["invalid-grant", "invalid-client", "server", "no-refresh-token", "network"],
)
def test_code_exchange_failures_map_to_pipeline_errors(reply: Reply | Exception, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        exchange_code(CONFIG, "4/CODE", "http://127.0.0.1:1/", "v" * 43, session_with(FakeGoogle(reply)))
    assert "4/CODE" not in str(caught.value) and CONFIG.client_secret not in str(caught.value)


# --- TokenSource --------------------------------------------------------------------------------


def test_a_token_source_refreshes_once_and_then_serves_the_cached_token() -> None:
    fake = FakeGoogle(token_reply("ya29.A"))
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(fake))
    assert tokens() == "ya29.A" and tokens() == "ya29.A"
    assert len(fake.token_forms) == 1
    form = fake.token_forms[0]
    assert form["grant_type"] == "refresh_token" and form["refresh_token"] == REFRESH
    assert form["client_id"] == CONFIG.client_id and set(form["scope"].split()) == set(SCOPES)
    assert tokens.granted_scopes == SCOPES


def test_a_token_near_expiry_is_refreshed_before_use() -> None:
    fake = FakeGoogle(token_reply("ya29.A", expires_in=60), token_reply("ya29.B"))
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(fake))
    assert [tokens(), tokens(), tokens()] == ["ya29.A", "ya29.B", "ya29.B"]


def test_a_rotated_refresh_token_is_exposed_for_storing_back() -> None:
    fake = FakeGoogle(token_reply(refresh_token="1//ROTATED"))
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(fake))
    tokens()
    assert tokens.refresh_token == "1//ROTATED"


def test_invalid_grant_means_reconsent_with_a_fix_naming_the_participant() -> None:
    fake = FakeGoogle((400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}))
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(fake), participant_id="user7")
    with pytest.raises(ReconsentNeeded) as caught:
        tokens()
    assert "--participant user7" in caught.value.fix
    assert REFRESH not in f"{caught.value} {caught.value.fix}" and "expired or revoked" not in str(caught.value)


def test_a_rejected_oauth_client_is_a_configuration_problem_not_a_reconsent() -> None:
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(FakeGoogle((401, {"error": "invalid_client"}))))
    with pytest.raises(BadRequest) as caught:
        tokens()
    assert "oauth-client" in caught.value.fix


def test_an_unreachable_token_endpoint_is_a_network_error() -> None:
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(FakeGoogle(requests.ConnectionError("down"))))
    with pytest.raises(NetworkError):
        tokens()


def test_a_200_without_an_access_token_is_unexpected() -> None:
    tokens = TokenSource(CONFIG, REFRESH, SCOPES, session_with(FakeGoogle((200, {"expires_in": 3599}))))
    with pytest.raises(UnexpectedResponse):
        tokens()


def test_the_health_client_gets_a_really_fresh_token_after_a_401() -> None:
    fake = FakeGoogle(token_reply("ya29.OLD"), token_reply("ya29.NEW"),
                      api=lambda token: 401 if token == "ya29.OLD" else 200)
    session = session_with(fake)
    client = HealthClient(TokenSource(CONFIG, REFRESH, SCOPES, session), base_url="https://api.test/", session=session)
    page = client.execute(identity_call())
    assert fake.api_tokens == ["ya29.OLD", "ya29.NEW"] and page.data["healthUserId"]


def test_grant_is_a_frozen_value() -> None:
    grant = Grant("r", "a", SCOPES)
    with pytest.raises(AttributeError):
        grant.refresh_token = "x"  # type: ignore[misc]
