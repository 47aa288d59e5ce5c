"""Serving the simulator over real HTTP on loopback, and a test helper that runs it in a thread.

``ThreadingHTTPServer`` from the standard library is enough: the handler is CPU-bound Python and the
callers are tests, benchmarks and the local demo. Access logging is off (no request lines on stderr;
the admin stats endpoint is the record).

Each response leaves in one write with Nagle's algorithm off. The standard handler writes the status
line and headers, then the body, in two unbuffered writes; on a kept-alive connection the second write
waits for the client's delayed ACK, which stalled every request by ~44 ms (measured 2026-11-30: 44 ms
on a kept-alive connection against 1.2 ms on a fresh one). Real Google front ends show no such stall.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.app import Simulator
from simulator.config import SimConfig


def make_handler(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "GoogleHealthSimulator/1.0"
        disable_nagle_algorithm = True  # TCP_NODELAY on every accepted connection
        wbufsize = -1  # buffered: headers and body go out together when the handler flushes

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = sim.handle(self.command, self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

    return Handler


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The standard backlog of 5 refused connections when 32 pipeline threads opened theirs at once
    # (a token refresh failed with a transport error); Google's front ends accept them.
    request_queue_size = 256

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), make_handler(sim))
        self.sim = sim

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


@dataclass(frozen=True)
class RunningSimulator:
    """What ``running_simulator`` yields: the base URL and the in-process core behind it."""

    base_url: str
    sim: Simulator

    def token(self, user: str = "user1", scopes: tuple[str, ...] | None = None) -> dict[str, Any]:
        return self.sim.token(user, scopes)


@contextmanager
def running_simulator(users: int = 3, days: int = 7, seed: int = 1, host: str = "127.0.0.1", port: int = 0,
                      **knobs: Any) -> Iterator[RunningSimulator]:
    """Run a simulator on a free loopback port in a background thread; shut it down on exit.

    ``knobs`` are SimConfig fields (``end_date``, ``sleep_processing_seconds``, ``client_id``, ...) or
    fault knobs (``rate_limit``, ``slow_ms``, ``testing_grants``, ... see control.py).
    """
    config_fields = set(SimConfig.__dataclass_fields__) - {"faults"}
    config = {k: v for k, v in knobs.items() if k in config_fields}
    faults = {k: v for k, v in knobs.items() if k not in config_fields}
    sim = Simulator(SimConfig(users=users, days=days, seed=seed, faults=faults, **config))
    server = SimulatorServer(sim, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="google-health-simulator", daemon=True)
    thread.start()
    try:
        yield RunningSimulator(server.base_url, sim)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
