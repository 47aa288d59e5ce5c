"""The webhook side of the simulator: subscribers, subscriptions, the handshake, signed pushes with retries.

``WebhookHub`` joins the two halves for one ``Simulator`` and routes their paths:

- ``simulator.webhook_subscribers``: the ``projects.subscribers`` API (subscribers, subscriptions, the
  verification handshake) and who hears of a change;
- ``simulator.webhook_delivery``: notifications batched into POSTs signed with the keys of
  ``simulator.webhook_keys`` (published at ``GET /webhooks/public_keyset.json``), retried until 204,
  with modes for the awkward cases.

Changes it announces: ``POST /_admin/webhooks/emit`` (a sync of one user's type on one day), and by
itself the moment the latest night finishes sleep staging (the data really changes then). Each change
is logged with its wall time (``GET /_admin/webhooks``) so callers can measure end-to-end latency.
The other admin routes: ``POST /_admin/webhooks/modes`` (the delivery's ``Modes``), ``…/replay``
(re-send delivered POSTs byte for byte), ``…/rotate`` (a new signing key) and ``…/wait`` (until idle).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

import requests

from simulator.cohort import Cohort
from simulator.config import SimConfig
from simulator.control import Control
from simulator.errors import Response, json_response
from simulator.oauth import OAuthServer
from simulator.store import DataStore
from simulator.webhook_delivery import Delivery, notification
from simulator.webhook_keys import Keyring
from simulator.webhook_subscribers import WEBHOOK_TYPES, SubscriberRegistry, read_json

KEYSET_PATH = "/webhooks/public_keyset.json"


class Simulator(Protocol):
    """What the hub reads from ``simulator.app.Simulator``, named here so this module does not import the
    app that imports it (no import cycle)."""

    config: SimConfig
    cohort: Cohort
    control: Control
    store: DataStore
    oauth: OAuthServer
    started: float

    def sleep_processed(self) -> bool: ...


class WebhookHub:
    """Subscriber registry and notification emitter for one ``Simulator``."""

    def __init__(self, sim: Simulator, post: Callable[..., requests.Response] | None = None) -> None:
        self.sim = sim
        self.keys = Keyring(sim.config.seed)
        self._lock = threading.RLock()
        send = post or requests.post
        self.registry = SubscriberRegistry(sim.oauth, sim.cohort, send, self._lock, sim.config.seed,
                                           on_subscribed=self._arm_sleep_change)
        self.delivery = Delivery(self.keys, send, self._lock, self.registry.subscribers.get)
        self.subscribers = self.registry.subscribers
        self.subscriptions = self.registry.subscriptions
        self.modes = self.delivery.modes
        self.posts = self.delivery.posts
        self.changes: list[dict[str, Any]] = []
        self._sleep_timer: threading.Timer | None = None

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> Response | None:
        """The answer for a webhook path, or None when the path is not one of ours."""
        if path == KEYSET_PATH and method == "GET":
            return 200, {"Content-Type": "application/json", "Cache-Control": "public, max-age=3600"}, \
                self.keys.public_keyset()
        if path.startswith("/_admin/webhooks"):
            return self._admin(method, path, body)
        return self.registry.handle(method, path, query, headers, body)

    def verify_endpoint(self, endpoint: str, secret: str) -> str | None:
        """The two verification POSTs; a description of the failure, or None when both pass."""
        return self.registry.verify_endpoint(endpoint, secret)

    # -- changes ------------------------------------------------------------------------------------
    def emit(self, user: str, data_type: str, day: date, operation: str = "UPSERT", why: str = "sync") -> int:
        """Announce a change of ``user``'s ``data_type`` on ``day`` to every interested subscriber, now."""
        queued = self.enqueue(user, data_type, day, operation, why)
        self.send_pending()
        return queued

    def enqueue(self, user: str, data_type: str, day: date, operation: str = "UPSERT", why: str = "sync") -> int:
        """Like ``emit`` but held until ``send_pending``, so several changes share a batch (as Google batches)."""
        persona = self.sim.cohort.by_label(user)
        if persona is None or data_type not in WEBHOOK_TYPES:
            raise ValueError(f"unknown user {user!r} or a type without webhooks {data_type!r}")
        start, end = self._interval(persona, data_type, day)
        with self._lock:
            self.changes.append({"user": user, "dataType": data_type, "day": day.isoformat(), "why": why,
                                 "at": time.time(), "posts_before": self.delivery.seq})
            interested = self.registry.interested(persona.health_user_id, data_type)
            for subscriber, subscription in interested:
                self.delivery.hold(subscriber.name, notification(subscription, persona, operation, data_type,
                                                                 start, end))
        return len(interested)

    def _interval(self, persona: Any, data_type: str, day: date) -> tuple[int, int]:
        if data_type == "sleep":
            sleep = self.sim.store.plan(persona, day).main_sleep
            if sleep is not None:
                return sleep.start, sleep.end
        start = persona.day_start(day) + 10 * 3600
        return start, start + (60 if data_type == "weight" else 900)

    def send_pending(self) -> None:
        """Batch what is pending into signed POSTs (one list per subscriber) and hand them to the worker."""
        self.delivery.send_pending()

    def replay(self, count: int) -> int:
        """Send the last ``count`` delivered POSTs again, byte for byte (same body, same signature)."""
        return self.delivery.replay(count)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until every POST is delivered or dropped; False on timeout."""
        return self.delivery.wait_idle(timeout_s)

    # -- the change the simulator makes by itself ---------------------------------------------------
    def _arm_sleep_change(self) -> None:
        """Announce the latest night when sleep staging finishes (the moment its data really changes)."""
        if self._sleep_timer is not None or self.sim.sleep_processed():
            return
        delay = self.sim.started + self.sim.config.sleep_processing_seconds - self.sim.control.now()
        self._sleep_timer = threading.Timer(max(0.0, delay), self._sleep_processed)
        self._sleep_timer.daemon = True
        self._sleep_timer.start()

    def _sleep_processed(self) -> None:
        day = self.sim.cohort.days[-1]
        for persona in self.sim.cohort.personas:
            if self.sim.store.plan(persona, day).main_sleep is not None:
                self.enqueue(persona.label, "sleep", day, why="sleep processed")
        self.send_pending()

    # -- admin --------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "keyset_path": KEYSET_PATH, "primary_key_id": self.keys.primary.key_id,
                "subscribers": [s.resource() for s in self.subscribers.values()],
                "subscriptions": list(self.subscriptions.values()),
                "posts": [{"seq": p.seq, "notifications": p.notifications, "statuses": p.statuses, "done": p.done,
                           "dropped": p.dropped, "elapsed_ms": p.elapsed_ms} for p in self.posts],
                "changes": list(self.changes), "modes": vars(self.modes).copy(),
            }

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        try:
            doc = read_json(body) if body else {}
            if path == "/_admin/webhooks" and method == "GET":
                return json_response(200, self.describe())
            if path == "/_admin/webhooks/emit" and method == "POST":
                day = date.fromisoformat(doc.get("day") or self.sim.cohort.days[-1].isoformat())
                users = doc.get("users") or [doc.get("user", "user1")]
                queued = sum(self.enqueue(u, t, day, doc.get("operation", "UPSERT")) for u in users
                             for t in doc.get("dataTypes") or [doc.get("dataType", "steps")])
                self.send_pending()
                return json_response(200, {"queued": queued})
            if path == "/_admin/webhooks/modes" and method == "POST":
                with self._lock:
                    for key, value in doc.items():
                        if not hasattr(self.modes, key):
                            raise ValueError(f"unknown webhook mode {key!r}")
                        setattr(self.modes, key, type(getattr(self.modes, key))(value))
                return json_response(200, vars(self.modes))
            if path == "/_admin/webhooks/replay" and method == "POST":
                return json_response(200, {"replayed": self.replay(int(doc.get("count", 1)))})
            if path == "/_admin/webhooks/rotate" and method == "POST":
                key = self.keys.rotate(keep_old=bool(doc.get("keep_old", True)))
                return json_response(200, {"primary_key_id": key.key_id})
            if path == "/_admin/webhooks/wait" and method == "POST":
                idle = self.wait_idle(float(doc.get("timeout_s", 30)))
                return json_response(200 if idle else 504, self.describe())
        except (ValueError, TypeError) as exc:
            return json_response(400, {"error": str(exc)})
        return json_response(404, {"error": f"no webhook admin route {method} {path}"})
