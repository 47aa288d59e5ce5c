"""The simulator's realistic latency and its project-wide quota, over real HTTP on loopback."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from simulator import running_simulator

IDENTITY = "/v4/users/me/identity"


def _get(base_url: str, token: str) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    with requests.Session() as session:  # a connection of its own, as each participant's session has
        response = session.get(base_url + IDENTITY, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return response.status_code, response.json(), time.monotonic() - started


def test_latency_delays_each_data_request_and_overlaps_across_connections() -> None:
    with running_simulator(users=8, days=1, latency_ms=400, latency_jitter=0.0) as live:
        tokens = [live.token(f"user{i}")["access_token"] for i in range(1, 9)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda t: _get(live.base_url, t), tokens))
        wall = time.monotonic() - started
    assert [status for status, _, _ in answers] == [200] * 8
    assert min(seconds for _, _, seconds in answers) >= 0.4, "every data request waits the latency"
    # Eight requests one after another would take 3.2 s; waiting on separate server threads they overlap.
    assert wall < 2.0, f"8 concurrent requests took {wall:.2f} s: the latency blocked other connections"


def test_latency_is_jittered_and_settable_through_admin() -> None:
    with running_simulator(users=1, days=1) as live:
        faults = requests.post(live.base_url + "/_admin/faults", json={"latency_ms": 100, "latency_jitter": 0.5},
                               timeout=10).json()
        assert (faults["latency_ms"], faults["latency_jitter"]) == (100.0, 0.5)
        token = live.token()["access_token"]
        seconds = [_get(live.base_url, token)[2] for _ in range(12)]
        bad = requests.post(live.base_url + "/_admin/faults", json={"latency_jitter": 2}, timeout=10)
    assert min(seconds) >= 0.05
    assert max(seconds) - min(seconds) > 0.01, "jitter varies the latency from request to request"
    assert bad.status_code == 400


def test_the_project_quota_refuses_across_users_and_the_stats_count_429s_per_kind() -> None:
    with running_simulator(users=3, days=1, project_quota_per_minute=5, quota_per_minute=2) as live:
        tokens = {u: live.token(u)["access_token"] for u in ("user1", "user2", "user3")}
        statuses = [_get(live.base_url, tokens[u])[0] for u in ("user1", "user1", "user1")]
        assert statuses == [200, 200, 429], "the per-user quota answers first"
        statuses = [_get(live.base_url, tokens[u])[0] for u in ("user2", "user2", "user3")]
        assert statuses == [200, 200, 200]
        status, body, _ = _get(live.base_url, tokens["user3"])
        stats = requests.get(live.base_url + "/_admin/stats", timeout=10).json()["quota"]
    assert status == 429, "five requests in the minute fill the project's window, whoever asks next"
    assert body["error"]["details"][0]["metadata"]["quota_limit"] == "QueriesPerMinutePerProject"
    assert stats["429s"] == {"user": 1, "project": 1, "injected": 0}
    assert (stats["peak_user_rpm"], stats["peak_project_rpm"]) == (2, 5)
