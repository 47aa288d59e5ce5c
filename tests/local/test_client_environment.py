"""The client reads the environment's proxy settings once, when it is built (issue #14: requests looked
them up on every request), and still honours them: over real HTTP, the simulator standing in for a
forward proxy (it answers an absolute-form request target as the API would)."""

from __future__ import annotations

import pytest

from fitbit.client import HealthClient
from fitbit.errors import NetworkError
from simulator import running_simulator

UNREACHABLE = "http://health.invalid/"  # .invalid never resolves: only a proxy can reach it


def test_a_proxy_in_the_environment_is_used_and_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy", "http_proxy", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with running_simulator(users=1, days=1) as live:
        token = live.token("user1")["access_token"]
        monkeypatch.setenv("HTTP_PROXY", live.base_url)
        proxied = HealthClient(lambda: token, base_url=UNREACHABLE, timeout_s=5)
        assert proxied.identity()["healthUserId"]
        monkeypatch.delenv("HTTP_PROXY")
        assert proxied.identity()["healthUserId"]  # settings taken when the client was built
        direct = HealthClient(lambda: token, base_url=UNREACHABLE, timeout_s=5)
        with pytest.raises(NetworkError):
            direct.identity()
