"""Done-when: the consent flow completes against the simulator over real HTTP, for several participants.

The browser is played with ``requests``: GET the consent URL on the simulator without following the
redirect, then GET the ``Location`` on the script's loopback server.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from fitbit.catalogue import required_scopes
from fitbit.client import HealthClient
from fitbit.oauth import OAuthClientConfig, TokenSource
from simulator import RunningSimulator, running_simulator
from helper.secrets import LocalSecretStore, load_grant, load_oauth_client
from tools.authorise import main, run_authorise


def play_browser(url: str) -> None:
    consent = requests.get(url, allow_redirects=False, timeout=10)
    assert consent.status_code in (302, 303), consent.status_code
    assert requests.get(consent.headers["Location"], timeout=10).status_code == 200


@pytest.fixture(scope="module")
def live() -> Iterator[RunningSimulator]:
    with running_simulator(users=3, days=3, seed=2) as running:
        yield running


def authorise(live: RunningSimulator, store: LocalSecretStore, participant: str, err: io.StringIO) -> object:
    return run_authorise(participant, store=store, client_config=OAuthClientConfig.for_base_url(live.base_url),
                         open_browser=play_browser, api_base_url=live.base_url, login_hint=participant,
                         timeout_s=10, err=err)


def test_two_participants_authorise_against_the_simulator_and_both_grants_work(live: RunningSimulator,
                                                                               tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    err = io.StringIO()
    first = authorise(live, store, "user1", err)
    authorise(live, store, "user2", err)
    assert load_grant(store, "user1") == first  # the second run left the first grant intact
    grants = [load_grant(store, p) for p in ("user1", "user2")]
    assert len({g.health_user_id for g in grants}) == 2 and all(g.time_zone for g in grants)
    assert all(g.scopes == required_scopes() and g.refresh_token_expires_at is None for g in grants)
    assert err.getvalue() == ""
    for grant in grants:  # each stored refresh token really works for its own participant
        config = OAuthClientConfig.for_base_url(live.base_url)
        client = HealthClient(TokenSource(config, grant.refresh_token, grant.scopes), base_url=live.base_url)
        assert client.identity()["healthUserId"] == grant.health_user_id
        assert client.settings()["timeZone"] == grant.time_zone


def test_a_testing_grant_from_the_simulator_warns_and_stores_its_expiry(tmp_path: Path) -> None:
    with running_simulator(users=1, days=1, seed=1, testing_grants=True) as sim:
        err = io.StringIO()
        grant = authorise(sim, LocalSecretStore(tmp_path / "secrets.json"), "user1", err)
    assert grant.refresh_token_expires_at - grant.granted_at == timedelta(seconds=604799)  # type: ignore[attr-defined]
    assert "Testing" in err.getvalue()


def test_the_command_line_enrols_against_the_simulator_without_printing_tokens(live: RunningSimulator,
                                                                               tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.json"
    out, err = io.StringIO(), io.StringIO()

    def browser(url: str) -> bool:
        play_browser(url)
        return True

    argv = ["--participant", "user3", "--login-hint", "user3", "--base-url", live.base_url, "--secrets", str(secrets)]
    assert main(argv, out=out, err=err, browser=browser) == 0, err.getvalue()
    store = LocalSecretStore(secrets)
    grant = load_grant(store, "user3")
    client = load_oauth_client(store)
    assert client is not None and client.token_uri == f"{live.base_url}/token"
    printed = out.getvalue() + err.getvalue()
    assert grant.refresh_token not in printed and client.client_secret not in printed
    assert "user3" in out.getvalue()
