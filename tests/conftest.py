"""Shared fixtures (a simulator core, an in-process API client for it, a running HTTP simulator) and tiers.

Each test gets its tier's marker from its folder (``unit``, ``contract``, ``local``, ``packaging``; the
emulator tier's tests say ``emulator`` themselves where they need the emulators), so ``-m`` can pick tiers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import requests

from simulator import SIM_BASE_URL, RunningSimulator, SimConfig, Simulator, running_simulator
from simulator.transport import SimulatorAdapter


TIERS = ("unit", "contract", "local", "packaging")
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.resolve().relative_to(_HERE).parts
        if len(parts) > 1 and parts[0] in TIERS:
            item.add_marker(parts[0])


class Api:
    """A thin authenticated client: ``api.get("/v4/users/me/identity")``, ``api.post(path, body)``."""

    def __init__(self, sim: Simulator, user: str = "user1", scopes: tuple[str, ...] | None = None,
                 base_url: str = SIM_BASE_URL) -> None:
        self.sim = sim
        self.user = user
        self.base_url = base_url
        self.session = requests.Session()
        if base_url == SIM_BASE_URL:
            self.adapter = SimulatorAdapter(sim)
            self.session.mount(base_url, self.adapter)
        self.token = sim.token(user, scopes)
        self.session.headers["Authorization"] = f"Bearer {self.token['access_token']}"

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base_url + path, params=params, timeout=30)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.base_url + path, json=body, timeout=30)


@pytest.fixture(scope="session")
def sim() -> Simulator:
    """Five participants x 14 days ending 2026-11-05, sleep already processed; never mutate its faults.

    Its per-user quota is out of reach: every module shares it, and how many requests they make within a
    minute grows with the catalogue (the quota itself is tested on a simulator of its own). It is the tidy
    model: every participant on a Fitbit tracker (offsets and civil times everywhere, so every zone story is
    checked), every point named, nothing deleted (a deletion is state that would make tests depend on their
    order). The live-API shapes have their own simulators (tests/contract/test_simulator_live_shapes.py).
    """
    return Simulator(SimConfig(users=5, days=14, seed=1, sleep_processing_seconds=0,
                               faults={"quota_per_minute": 1_000_000}, health_connect_users=(),
                               unnamed_points=False, deletions=False))


@pytest.fixture
def api(sim: Simulator) -> Api:
    return Api(sim)


@pytest.fixture(scope="session")
def reconciled(sim: Simulator) -> Callable[..., list[dict[str, Any]]]:
    """``reconciled(user, type_id, fields=None)``: every reconciled point of the window, fetched once."""

    @cache
    def fetch(user: str, type_id: str, fields: str | None = None) -> list[dict[str, Any]]:
        api, items, token = Api(sim, user), [], None
        mask = {"fields": fields} if fields else {}
        while True:
            page = api.get(f"/v4/users/me/dataTypes/{type_id}/dataPoints:reconcile", pageSize=10000, **mask,
                           **({"pageToken": token} if token else {})).json()
            items += page.get("dataPoints", [])
            token = page.get("nextPageToken")
            if not token:
                return items

    return fetch


@pytest.fixture(scope="session")
def live() -> Iterator[RunningSimulator]:
    """A simulator on a loopback port (3 users x 7 days) for tests that need real HTTP."""
    with running_simulator(users=3, days=7, seed=1) as running:
        yield running
