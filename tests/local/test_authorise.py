"""scripts/authorise.py against a fake Google (a requests adapter) and a fake browser.

The browser is played the way a person's would be: GET the consent URL without following the
redirect, then GET the ``Location`` on the script's real loopback server.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse

from fitbit.catalogue import required_scopes
from fitbit.errors import AccountNotLinked, DisallowedScopes, ReconsentNeeded
from fitbit.oauth import SIMULATOR_CLIENT_SECRET, OAuthClientConfig
from helper.secrets import LocalSecretStore, load_grant, load_oauth_client
from tools.authorise import AuthoriseError, main, run_authorise

API = "https://health.test/"
CONFIG = OAuthClientConfig("client-1.apps.googleusercontent.com", "CLIENT-SECRET-XYZ",
                           auth_uri="https://accounts.test/o/oauth2/v2/auth", token_uri="https://oauth.test/token",
                           revoke_uri="https://oauth.test/revoke")
ZONES = {"user1": "Europe/Berlin", "user2": "America/New_York"}


class FakeGoogle(BaseAdapter):
    """Consent page, token endpoint (code + PKCE, refresh) and identity/settings, routed by path only."""

    def __init__(self, *, granted: tuple[str, ...] | None = None, testing: bool = False, deny: bool = False,
                 same_account: bool = False, not_linked: bool = False) -> None:
        super().__init__()
        self.granted, self.testing, self.deny = granted, testing, deny
        self.same_account, self.not_linked = same_account, not_linked
        self.auth_queries: list[dict[str, str]] = []
        self.codes: dict[str, dict[str, str]] = {}
        self.access: dict[str, str] = {}  # access token -> user
        self.issued: list[str] = []  # every token handed out, to check none is printed

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        url = urlsplit(request.url)
        if url.path == "/o/oauth2/v2/auth":
            return self._reply(request, *self._consent(dict(parse_qsl(url.query))))
        if url.path == "/token":
            body = request.body.decode() if isinstance(request.body, bytes) else request.body or ""
            return self._reply(request, *self._token(dict(parse_qsl(body))))
        user = self.access.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if user is None:
            return self._reply(request, 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        if self.not_linked:
            return self._reply(request, 400, {"error": {"code": 400, "status": "FAILED_PRECONDITION", "details": [
                {"reason": "ACCOUNT_NOT_LINKED"}]}})
        if url.path == "/v4/users/me/identity":
            hid = "900" if self.same_account else f"hid-{user}"
            return self._reply(request, 200, {"name": "users/me/identity", "healthUserId": hid})
        if url.path == "/v4/users/me/settings":
            return self._reply(request, 200, {"timeZone": ZONES.get(user, "UTC"), "utcOffset": "3600s"})
        return self._reply(request, 404, "<html>not found</html>")

    def _consent(self, query: dict[str, str]) -> tuple[int, object, dict[str, str]]:
        self.auth_queries.append(query)
        back: dict[str, str] = {"state": query["state"]}
        if self.deny:
            back["error"] = "access_denied"
        else:
            code = f"4/code-{len(self.codes)}"
            self.codes[code] = query
            back["code"] = code
        return 302, "", {"Location": f"{query['redirect_uri']}?{urlencode(back)}"}

    def _token(self, form: dict[str, str]) -> tuple[int, object]:
        user = form.get("refresh_token", "").removeprefix("1//RT-")
        if form["grant_type"] == "authorization_code":
            asked = self.codes.pop(form["code"], None)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
            if (asked is None or asked["redirect_uri"] != form["redirect_uri"]
                    or asked["code_challenge"] != challenge.rstrip(b"=").decode()
                    or form["client_secret"] not in (CONFIG.client_secret, SIMULATOR_CLIENT_SECRET)):
                return 400, {"error": "invalid_grant"}
            user = asked.get("login_hint", "anon")
        access = f"ya29.AT-{user}-{len(self.access)}"
        self.access[access] = user
        body: dict[str, Any] = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                                "scope": " ".join(self.granted or required_scopes())}
        if form["grant_type"] == "authorization_code":
            body["refresh_token"] = f"1//RT-{user}"
            if self.testing:
                body["refresh_token_expires_in"] = 604799
        self.issued += [access, body.get("refresh_token", access)]
        return 200, body

    def _reply(self, request: requests.PreparedRequest, status: int, payload: object,
               headers: dict[str, str] | None = None) -> requests.Response:
        raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        kind = "text/html" if isinstance(payload, str) else "application/json"
        response = HTTPResponse(body=io.BytesIO(raw), status=status, preload_content=False,
                                headers={"Content-Type": kind, **(headers or {})})
        return HTTPAdapter().build_response(request, response)

    def close(self) -> None:
        pass


def session_with(fake: FakeGoogle) -> requests.Session:
    session = requests.Session()
    session.mount("https://", fake)  # the loopback redirect (http://127.0.0.1) stays real HTTP
    return session


def browser(session: requests.Session, *, state: str | None = None) -> Callable[[str], None]:
    """A person's browser: show the consent page, then follow its redirect to the loopback server."""

    def open_url(url: str) -> None:
        consent = session.get(url, allow_redirects=False, timeout=5)
        assert consent.status_code == 302
        location = consent.headers["Location"]
        if state is not None:  # a forged or stale redirect
            location = location.replace(f"state={parse_qs(urlsplit(location).query)['state'][0]}", f"state={state}")
        requests.get(location, timeout=5)

    return open_url


def authorise(fake: FakeGoogle, store: LocalSecretStore, participant: str, err: io.StringIO | None = None,
              **kwargs: Any) -> Any:
    session = session_with(fake)
    return run_authorise(participant, store=store, client_config=CONFIG, open_browser=browser(session),
                         api_base_url=API, login_hint=participant, session=session, err=err or io.StringIO(),
                         timeout_s=5, **kwargs)


@pytest.fixture
def store(tmp_path: Any) -> LocalSecretStore:
    return LocalSecretStore(tmp_path / ".state" / "secrets.json")


def test_a_consent_run_stores_the_grant_with_identity_and_time_zone(store: LocalSecretStore) -> None:
    err = io.StringIO()
    returned = authorise(FakeGoogle(), store, "user1", err)
    stored = load_grant(store, "user1")
    assert stored == returned
    assert (stored.refresh_token, stored.health_user_id, stored.time_zone) == ("1//RT-user1", "hid-user1",
                                                                                "Europe/Berlin")
    assert stored.scopes == required_scopes() and stored.refresh_token_expires_at is None
    assert stored.granted_at.utcoffset() is not None
    assert err.getvalue() == ""


def test_consent_asks_for_exactly_the_catalogue_scopes_offline_with_pkce(store: LocalSecretStore) -> None:
    fake = FakeGoogle()
    authorise(fake, store, "user1")
    (query,) = fake.auth_queries
    assert tuple(query["scope"].split(" ")) == required_scopes()
    assert (query["access_type"], query["prompt"], query["code_challenge_method"]) == ("offline", "consent", "S256")
    assert query["redirect_uri"].startswith("http://127.0.0.1:") and query["login_hint"] == "user1"
    assert query["client_id"] == CONFIG.client_id and "client_secret" not in query


def test_a_second_participant_leaves_the_first_grant_intact(store: LocalSecretStore) -> None:
    fake = FakeGoogle()
    first = authorise(fake, store, "user1")
    authorise(fake, store, "user2")
    assert load_grant(store, "user1") == first
    assert load_grant(store, "user2").time_zone == "America/New_York"
    assert store.names("participant-") == ["participant-user1", "participant-user2"]


def test_a_redirect_with_a_foreign_state_is_refused_and_nothing_is_stored(store: LocalSecretStore) -> None:
    fake = FakeGoogle()
    session = session_with(fake)
    with pytest.raises(AuthoriseError, match="state"):
        run_authorise("user1", store=store, client_config=CONFIG, open_browser=browser(session, state="forged"),
                      api_base_url=API, session=session, timeout_s=5)
    assert store.names() == [] and fake.codes  # the code was never exchanged


def test_a_refused_consent_stores_nothing(store: LocalSecretStore) -> None:
    with pytest.raises(AuthoriseError, match="access_denied"):
        authorise(FakeGoogle(deny=True), store, "user1")
    assert store.names() == []


def test_no_redirect_within_the_timeout_fails_with_advice(store: LocalSecretStore) -> None:
    with pytest.raises(AuthoriseError, match="run the script again"):
        run_authorise("user1", store=store, client_config=CONFIG, open_browser=lambda url: None,
                      api_base_url=API, session=session_with(FakeGoogle()), timeout_s=0.1)


def test_a_testing_grant_records_its_expiry_and_says_how_to_fix_it(store: LocalSecretStore) -> None:
    err = io.StringIO()
    stored = authorise(FakeGoogle(testing=True), store, "user1", err)
    assert stored.refresh_token_expires_at is not None
    assert 6.9 < (stored.refresh_token_expires_at - stored.granted_at).total_seconds() / 86400 <= 7
    assert "Testing" in err.getvalue() and "In production" in err.getvalue()


def test_scopes_left_unticked_are_named_in_a_warning(store: LocalSecretStore) -> None:
    err = io.StringIO()
    kept = required_scopes()[:-1]
    stored = authorise(FakeGoogle(granted=kept), store, "user1", err)
    assert stored.scopes == kept
    assert required_scopes()[-1] in err.getvalue() and "ScopeMissing" in err.getvalue()


def test_two_participants_on_one_google_account_are_flagged(store: LocalSecretStore) -> None:
    fake = FakeGoogle(same_account=True)
    authorise(fake, store, "user1")
    err = io.StringIO()
    authorise(fake, store, "user2", err)
    assert "same Google Health user" in err.getvalue()


def test_an_account_without_google_health_stops_before_storing(store: LocalSecretStore) -> None:
    with pytest.raises(AccountNotLinked):
        authorise(FakeGoogle(not_linked=True), store, "user1")
    assert store.names() == []


def test_a_participant_id_unfit_for_a_secret_name_is_refused_before_consent(store: LocalSecretStore) -> None:
    fake = FakeGoogle()
    with pytest.raises(ValueError, match="participant id"):
        authorise(fake, store, "user 1/x")
    assert fake.auth_queries == []


# --- the command line ---------------------------------------------------------------------------


def test_the_command_line_stores_grant_and_client_and_never_prints_tokens(tmp_path: Any) -> None:
    fake = FakeGoogle(testing=True)
    session = session_with(fake)
    out, err = io.StringIO(), io.StringIO()
    secrets = tmp_path / "secrets.json"

    def real_browser(url: str) -> bool:
        browser(session)(url)
        return True

    argv = ["--participant", "user1", "--login-hint", "user1", "--secrets", str(secrets),
            "--client-id", "cid.apps.googleusercontent.com", "--client-secret", CONFIG.client_secret]
    assert main(argv, out=out, err=err, session=session, browser=real_browser) == 0
    store = LocalSecretStore(secrets)
    assert load_grant(store, "user1").health_user_id == "hid-user1"
    saved = load_oauth_client(store)
    assert saved is not None and saved.client_id == "cid.apps.googleusercontent.com"
    assert saved.token_uri == "https://oauth2.googleapis.com/token"  # real Google by default
    printed = out.getvalue() + err.getvalue()
    assert fake.issued and not any(token in printed for token in fake.issued)
    assert CONFIG.client_secret not in printed and "user1" in out.getvalue()


class BrowserInTheNextRoom(io.StringIO):
    """``--no-browser`` prints the URL; this stream plays the person who copies it into a browser."""

    def __init__(self, session: requests.Session) -> None:
        super().__init__()
        self.session = session

    def write(self, text: str) -> int:
        for word in text.split():
            if word.startswith("https://"):
                threading.Thread(target=browser(self.session), args=(word,), daemon=True).start()
        return super().write(text)


def test_no_browser_mode_against_a_simulator_uses_its_dev_client(tmp_path: Any) -> None:
    fake = FakeGoogle()
    session = session_with(fake)
    out, err = BrowserInTheNextRoom(session), io.StringIO()
    argv = ["--participant", "user2", "--login-hint", "user2", "--base-url", "https://sim.test",
            "--secrets", str(tmp_path / "s.json"), "--no-browser", "--timeout", "5"]
    never: Callable[[str], bool] = lambda url: pytest.fail("the browser must not be opened")  # noqa: E731
    code = main(argv, out=out, err=err, session=session, browser=never)
    assert code == 0, err.getvalue()
    assert "Open this URL" in out.getvalue()
    assert fake.auth_queries[0]["client_id"] == "sim-client-id.apps.googleusercontent.com"
    saved = load_oauth_client(LocalSecretStore(tmp_path / "s.json"))
    assert saved is not None and saved.token_uri == "https://sim.test/token"


def test_the_command_line_without_any_oauth_client_says_how_to_give_one(tmp_path: Any) -> None:
    err = io.StringIO()
    code = main(["--participant", "user1", "--secrets", str(tmp_path / "s.json")], out=io.StringIO(), err=err,
                browser=lambda url: pytest.fail("no consent without a client"))
    assert code == 1 and "--client-id" in err.getvalue()


def test_a_pipeline_error_is_printed_with_its_fix(tmp_path: Any) -> None:
    fake = FakeGoogle(not_linked=True)
    session = session_with(fake)
    err = io.StringIO()
    argv = ["--participant", "user1", "--base-url", "https://sim.test/", "--secrets", str(tmp_path / "s.json")]
    code = main(argv, out=io.StringIO(), err=err, session=session,
                browser=lambda url: (browser(session)(url), True)[1])
    assert code == 1 and "fix:" in err.getvalue() and "Google Health" in err.getvalue()


def test_consent_never_sets_include_granted_scopes(store: LocalSecretStore) -> None:
    fake = FakeGoogle()
    authorise(fake, store, "user1")
    assert "include_granted_scopes" not in fake.auth_queries[0]


def test_a_grant_holding_a_non_health_scope_is_refused_before_storing(store: LocalSecretStore) -> None:
    fake = FakeGoogle(granted=(*required_scopes(), "openid", "https://www.googleapis.com/auth/userinfo.email"))
    with pytest.raises(DisallowedScopes) as raised:
        authorise(fake, store, "user1")
    assert "openid" in str(raised.value) and "authorise.py" in raised.value.fix
    with pytest.raises(ReconsentNeeded):  # nothing was stored
        load_grant(store, "user1")
