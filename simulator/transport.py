"""An in-process transport: mount the simulator on a ``requests.Session`` instead of a socket.

    session = requests.Session()
    session.mount(SIM_BASE_URL, SimulatorAdapter(Simulator()))
    session.get(f"{SIM_BASE_URL}/v4/users/me/identity", headers={"Authorization": "Bearer ..."})

Responses are real ``requests.Response`` objects built from the same ``handle`` the HTTP server
uses, so code under test cannot tell the difference except for speed. Redirects (the OAuth consent
302) are returned as-is; ``requests`` follows them only if asked to.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from simulator.app import Simulator

SIM_BASE_URL = "http://health.simulator.local"
_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented",
            503: "Service Unavailable"}


class SimulatorAdapter(BaseAdapter):
    """A requests transport adapter that answers from a Simulator in the same process."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__()
        self.sim = sim
        self.requests: list[tuple[str, str, bytes]] = []  # (method, path_with_query, body) as sent

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        parts = urlsplit(request.url or "")
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = b"".join(body)  # type: ignore[arg-type]
        self.requests.append((request.method or "GET", path, body))
        status, headers, payload = self.sim.handle(request.method or "GET", path, dict(request.headers), body)
        response = requests.Response()
        response.status_code = status
        response.reason = _REASONS.get(status, "")
        response.headers = CaseInsensitiveDict({**headers, "Content-Length": str(len(payload))})
        response.raw = io.BytesIO(payload)
        response._content = payload  # noqa: SLF001 - the body is already complete
        response.url = request.url or ""
        response.request = request
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        return response

    def close(self) -> None:
        return None


def simulator_session(sim: Simulator, base_url: str = SIM_BASE_URL) -> requests.Session:
    """A Session whose requests to ``base_url`` are answered in process by ``sim``."""
    session = requests.Session()
    session.mount(base_url, SimulatorAdapter(sim))
    return session
