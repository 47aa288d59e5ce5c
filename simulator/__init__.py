"""A local, faithful, deterministic Google Health API v4 simulator (see ``app.py`` for the surface).

Public API:

- ``Simulator(SimConfig(...))`` and its ``handle(method, path_with_query, headers, body)``;
- ``running_simulator(users=3, days=7, seed=1, **knobs)``: a loopback HTTP server in a thread;
- ``SimulatorAdapter`` / ``simulator_session``: the same core as a ``requests`` transport;
- ``python -m simulator --users N --days D --port P --seed S``: the stand-alone server.
"""

from __future__ import annotations

from simulator.app import Simulator, default_scopes
from simulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_END_DATE, SimConfig
from simulator.server import RunningSimulator, SimulatorServer, running_simulator
from simulator.transport import SIM_BASE_URL, SimulatorAdapter, simulator_session

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_END_DATE",
    "SIM_BASE_URL",
    "RunningSimulator",
    "SimConfig",
    "Simulator",
    "SimulatorAdapter",
    "SimulatorServer",
    "default_scopes",
    "running_simulator",
    "simulator_session",
]
