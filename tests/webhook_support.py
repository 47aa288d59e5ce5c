"""Shared pieces of the webhook tests: a recording HTTP endpoint, signed bodies, notification builders."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from helper.settings import Settings

KEYSET_PATH = "/webhooks/public_keyset.json"
SECRET = "Bearer test-webhook-secret"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Endpoint:
    """A loopback endpoint that records every POST and answers the scripted statuses (then ``default``)."""

    url: str
    received: list[Received] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    default: int = 204

    def next_status(self) -> int:
        return self.script.pop(0) if self.script else self.default


@contextmanager
def recording_endpoint(secret: str = SECRET) -> Iterator[Endpoint]:
    """Answers verification like a correct receiver; notifications with the script."""
    holder: dict[str, Endpoint] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            endpoint = holder["e"]
            if json.loads(body or b"{}") == {"type": "verification"}:
                status = 201 if self.headers.get("Authorization") == secret else 401
            else:
                endpoint.received.append(Received(dict(self.headers.items()), body))
                status = endpoint.next_status()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder["e"] = Endpoint(f"http://127.0.0.1:{server.server_address[1]}/")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder["e"]
    finally:
        server.shutdown()
        server.server_close()


def notification(health_user_id: str, data_type: str = "steps", start: str = "2026-11-04T10:14:00",
                 end: str = "2026-11-04T10:29:00", operation: str = "UPSERT", physical: tuple[str, str] | None = None,
                 civil: bool = True) -> dict[str, Any]:
    """A notification as Google documents it; civil times given as naive ISO strings."""
    interval: dict[str, Any] = {}
    if civil:
        lo, hi = datetime.fromisoformat(start), datetime.fromisoformat(end)
        interval["civilDateTimeInterval"] = {
            "startDateTime": {"date": {"year": lo.year, "month": lo.month, "day": lo.day},
                              "time": {"hours": lo.hour, "minutes": lo.minute}},
            "endDateTime": {"date": {"year": hi.year, "month": hi.month, "day": hi.day},
                            "time": {"hours": hi.hour, "minutes": hi.minute}}}
    if physical:
        interval["physicalTimeInterval"] = {"startTime": physical[0], "endTime": physical[1]}
    return {"data": {"version": "1", "clientProvidedSubscriptionName": "p-test", "healthUserId": health_user_id,
                     "operation": operation, "dataType": data_type, "intervals": [interval]}}


def body_of(*notes: dict[str, Any]) -> bytes:
    return json.dumps(list(notes), separators=(",", ":")).encode()


def local_settings(state_dir: Path, api_base_url: str, **env: str) -> Settings:
    base = api_base_url.rstrip("/")
    return Settings.from_env({"FITBIT_RUNTIME": "local", "FITBIT_STATE_DIR": str(state_dir),
                              "HEALTH_API_BASE_URL": base, "OAUTH_BASE_URL": base,
                              "WEBHOOK_KEYSET_URL": base + KEYSET_PATH, **env})
