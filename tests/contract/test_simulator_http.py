"""The simulator as a server: CLI, real HTTP, HTML 404s, determinism, quota, faults and admin stats."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator import SIM_BASE_URL, SimConfig, Simulator, running_simulator
from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
STEPS = "/v4/users/me/dataTypes/steps/dataPoints"
DAY = 'steps.interval.civil_start_time >= "2026-11-01" AND steps.interval.civil_start_time < "2026-11-02"'


def _auth(running: Any, user: str = "user1") -> dict[str, str]:
    return {"Authorization": f"Bearer {running.token(user)['access_token']}"}


def test_the_cli_prints_one_line_when_listening_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--users", "1", "--days", "1", "--port", "0",
                             "--seed", "3", "--end-date", "2026-11-05", "--testing-grants"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("simulator listening on http://127.0.0.1:")
        base = line.rsplit(" ", 1)[-1]
        tokens = requests.post(f"{base}/_admin/tokens", json={"user": "user1"}, timeout=10).json()
        assert tokens["refresh_token_expires_in"] == 604799
        identity = requests.get(f"{base}/v4/users/me/identity", timeout=10,
                                headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert identity.status_code == 200 and identity.json()["name"] == "users/me/identity"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_unknown_paths_and_wrong_verbs_are_html_404s(live) -> None:
    headers = _auth(live)
    for method, path in [("GET", "/v4/users/me/sleep"), ("GET", STEPS + ":rollUp"), ("DELETE", "/v4/users/me/identity"),
                         ("GET", "/v3/users/me/identity"), ("POST", "/v4/users/me/identity"), ("GET", "/")]:
        response = requests.request(method, live.base_url + path, headers=headers, timeout=10)
        assert response.status_code == 404, (method, path)
        assert response.headers["Content-Type"].startswith("text/html")
        assert "was not found on this server" in response.text


def test_two_simulators_with_the_same_seed_answer_byte_identically() -> None:
    requests_to_make = [
        ("GET", STEPS + "?" + "pageSize=300&filter=" + requests.utils.quote(DAY), None),
        ("GET", "/v4/users/me/dataTypes/heart-rate/dataPoints?pageSize=500", None),
        ("GET", "/v4/users/me/dataTypes/sleep/dataPoints", None),
        ("GET", "/v4/users/me/dataTypes/exercise/dataPoints:reconcile", None),
        ("POST", "/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp",
         {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "windowSize": "300s"}),
    ]
    knobs = {"users": 2, "days": 7, "sleep_processing_seconds": 0}
    with running_simulator(seed=1, **knobs) as one, running_simulator(seed=1, **knobs) as twin, \
            running_simulator(seed=2, **knobs) as other:
        for method, path, body in requests_to_make:
            a = requests.request(method, one.base_url + path, json=body, headers=_auth(one), timeout=30)
            b = requests.request(method, twin.base_url + path, json=body, headers=_auth(twin), timeout=30)
            c = requests.request(method, other.base_url + path, json=body, headers=_auth(other), timeout=30)
            assert a.status_code == 200 and a.content == b.content, path
            assert a.content != c.content, f"seed 2 must differ from seed 1: {path}"
        in_process = Api(Simulator(SimConfig(seed=1, **knobs)))
        assert in_process.get(STEPS, pageSize=300, filter=DAY).content == \
            requests.get(one.base_url + STEPS, params={"pageSize": 300, "filter": DAY}, headers=_auth(one)).content


def test_the_quota_is_300_requests_per_minute_per_user_with_retry_after() -> None:
    sim = Simulator(SimConfig(users=2, days=1))
    now = [1_800_000_000.0]
    sim.control._wall = lambda: now[0]  # noqa: SLF001 - a frozen clock keeps the window exact
    one, two = Api(sim, "user1"), Api(sim, "user2")
    for i in range(300):
        now[0] += 0.1
        assert one.get("/v4/users/me/identity").status_code == 200, i
    limited = one.get("/v4/users/me/identity")
    assert limited.status_code == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert int(limited.headers["Retry-After"]) == 31
    assert two.get("/v4/users/me/identity").status_code == 200, "the quota is per user"
    now[0] += 31
    assert one.get("/v4/users/me/identity").status_code == 200


def test_fault_knobs_inject_429s_503s_truncation_delay_and_unlinked_accounts() -> None:
    sim = Simulator(SimConfig(users=2, days=1))
    api, other = Api(sim, "user1"), Api(sim, "user2")
    admin = sim.handle("POST", "/_admin/faults", {}, json.dumps(
        {"rate_limit": {"count": 2, "user": "user1", "retry_after_s": 7}, "unavailable": 1}).encode())
    assert admin[0] == 200
    assert other.get("/v4/users/me/identity").status_code == 503, "an all-users fault hits the first caller"
    burst = [api.get("/v4/users/me/identity") for _ in range(3)]
    assert [r.status_code for r in burst] == [429, 429, 200]
    assert burst[0].headers["Retry-After"] == "7"
    sim.control.apply({"truncated_bodies": 1, "account_not_linked": ["user2"]})
    truncated = api.get("/v4/users/me/settings")
    assert truncated.status_code == 200
    with pytest.raises(ValueError):
        json.loads(truncated.content)
    assert api.get("/v4/users/me/settings").json()["timeZone"] == "Europe/Berlin"
    unlinked = other.get("/v4/users/me/identity").json()["error"]
    assert (unlinked["status"], unlinked["details"][0]["reason"]) == ("FAILED_PRECONDITION", "ACCOUNT_NOT_LINKED")
    sim.control.apply({"slow_ms": 120})
    started = time.monotonic()
    api.get("/v4/users/me/identity")
    assert time.monotonic() - started >= 0.12
    assert sim.handle("POST", "/_admin/faults", {}, b'{"nonsense": 1}')[0] == 400


def test_admin_stats_count_requests_per_participant_and_per_type_and_method(live) -> None:
    requests.post(live.base_url + "/_admin/reset", timeout=10).raise_for_status()
    headers = _auth(live, "user2")
    requests.get(live.base_url + STEPS, params={"pageSize": 1}, headers=headers, timeout=10)
    requests.get(live.base_url + STEPS + ":reconcile", params={"pageSize": 1}, headers=headers, timeout=10)
    requests.get(live.base_url + "/v4/users/me/settings", headers=headers, timeout=10)
    requests.get(live.base_url + "/v4/users/me/settings", timeout=10)
    stats = requests.get(live.base_url + "/_admin/stats", timeout=10).json()
    assert stats["requests"] == 4
    assert stats["by_user"] == {"-": 1, "user2": 3}
    assert stats["by_data_type"]["steps"] == {"list": 1, "reconcile": 1}
    assert stats["by_user_data_type"]["user2"]["settings"] == {"getSettings": 1}
    assert stats["by_status"] == {"200": 3, "401": 1}
    requests.post(live.base_url + "/_admin/reset", timeout=10).raise_for_status()
    assert requests.get(live.base_url + "/_admin/stats", timeout=10).json()["requests"] == 0


def test_the_in_process_adapter_is_a_real_requests_transport() -> None:
    sim = Simulator(SimConfig(users=1, days=1))
    api = Api(sim)
    response = api.get("/v4/users/me/identity")
    assert isinstance(response, requests.Response) and response.ok
    assert response.headers["content-type"].startswith("application/json")
    assert response.request.url == SIM_BASE_URL + "/v4/users/me/identity"
    assert api.adapter.requests[-1][:2] == ("GET", "/v4/users/me/identity")
    cohort = requests.Session()
    cohort.mount(SIM_BASE_URL, api.adapter)
    assert [u["user"] for u in cohort.get(SIM_BASE_URL + "/_admin/cohort").json()["users"]] == ["user1"]


def test_partial_responses_follow_the_fields_mask() -> None:
    api = Api(Simulator(SimConfig(users=1, days=1)))
    trimmed = api.get(STEPS, pageSize=3, fields="dataPoints(steps(interval/startTime)),nextPageToken").json()
    assert set(trimmed) == {"dataPoints", "nextPageToken"}
    assert all(set(p) == {"steps"} and set(p["steps"]) == {"interval"} and set(p["steps"]["interval"]) == {"startTime"}
               for p in trimmed["dataPoints"])
    assert api.get("/v4/users/me/identity", fields="healthUserId").json().keys() == {"healthUserId"}
    assert api.get(STEPS, fields="dataPoints(steps").status_code == 400


def test_a_kept_alive_connection_answers_without_a_delayed_ack_stall(live: Any) -> None:
    # A response written as headers-then-body waits for the client's delayed ACK (>= 40 ms on Linux) on every
    # request of a kept-alive connection. The fastest of several requests shows whether any request escaped it.
    session = requests.Session()
    session.headers.update(_auth(live))
    url = f"{live.base_url}/v4/users/me/settings"
    assert session.get(url, timeout=10).status_code == 200  # opens the connection
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        response = session.get(url, timeout=10)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    assert min(timings) < 0.025, f"every kept-alive request stalled: {[round(t * 1000) for t in timings]} ms"
