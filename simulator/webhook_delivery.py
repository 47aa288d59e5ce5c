"""The delivery side of the simulator's webhooks: notifications batched into signed POSTs, retried until 204.

What it reproduces (team spec §6 and §12, checked 2026-11-30):

- a notification is ``{"data": {version, clientProvidedSubscriptionName, healthUserId, operation,
  dataType, intervals: [{physicalTimeInterval, civilDateTimeInterval, civilIso8601TimeInterval}]}}``,
  posted as a JSON array (as seen live; an object on request), up to ``batch_size`` (≤ 99) per POST;
- every POST signed (``GOOGLE-HEALTH-API-SIGNATURE`` by default, or ``X-HEALTHAPI-SIGNATURE``) with the
  keys of ``simulator.webhook_keys``;
- only ``204`` ends a delivery; anything else (even ``200``) is retried with exponential backoff until
  ``max_attempts``, then dropped and counted;
- ``Modes`` for the awkward cases: ``duplicates`` (each POST sent again N times), ``out_of_order`` (the
  newest batch first), ``bad_signature`` / ``unsigned`` (the next N POSTs), ``send_authorization`` (the
  secret on notifications, default true), ``header``, ``body_form``, ``batch_size``; ``replay`` re-sends
  delivered POSTs byte for byte.

One worker thread sends the POSTs, oldest due first; it ends when none is left open.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from simulator.timefmt import rfc3339
from simulator.webhook_keys import Keyring
from simulator.webhook_subscribers import Subscriber

HEADERS = ("GOOGLE-HEALTH-API-SIGNATURE", "X-HEALTHAPI-SIGNATURE")


@dataclass
class Post:
    """One POST to an endpoint: the exact bytes and headers, and what happened to it."""

    seq: int
    endpoint: str
    body: bytes
    headers: dict[str, str]
    notifications: int
    attempts: int = 0
    next_at: float = 0.0
    statuses: list[int] = field(default_factory=list)
    elapsed_ms: list[float] = field(default_factory=list)  # per attempt: POST sent → answer read
    done: bool = False
    dropped: bool = False


@dataclass
class Modes:
    duplicates: int = 0
    out_of_order: bool = False
    bad_signature: int = 0
    unsigned: int = 0
    send_authorization: bool = True
    header: str = HEADERS[0]
    body_form: str = "array"
    batch_size: int = 99
    retry_base_s: float = 0.2
    retry_max_s: float = 10.0
    max_attempts: int = 8


def notification(subscription: str, persona: Any, operation: str, data_type: str, start: int,
                 end: int) -> dict[str, Any]:
    """One notification of a change of ``persona``'s ``data_type`` between epoch seconds ``start`` and ``end``."""
    return {"data": {"version": "1", "clientProvidedSubscriptionName": subscription,
                     "healthUserId": persona.health_user_id, "operation": operation,
                     "dataType": data_type, "intervals": [_interval_forms(persona, start, end)]}}


class Delivery:
    """Pending notifications per subscriber, the POSTs made of them and the worker that sends them.

    Args:
        keys: signs each POST.
        post: sends a POST (``requests.post`` unless a test injects one).
        lock: shared with the subscriber registry.
        subscriber: the subscriber of a name at send time (None once deleted).
    """

    def __init__(self, keys: Keyring, post: Callable[..., requests.Response], lock: threading.RLock,
                 subscriber: Callable[[str], Subscriber | None]) -> None:
        self.keys = keys
        self.modes = Modes()
        self.posts: list[Post] = []
        self.seq = 0  # the number of the last POST queued
        self._post = post
        self._lock = lock
        self._wake = threading.Condition(lock)
        self._subscriber = subscriber
        self._worker: threading.Thread | None = None
        self._pending: dict[str, list[dict[str, Any]]] = {}

    def hold(self, subscriber: str, note: dict[str, Any]) -> None:
        """Keep ``note`` for ``subscriber`` until ``send_pending``."""
        with self._lock:
            self._pending.setdefault(subscriber, []).append(note)

    def send_pending(self) -> None:
        """Batch what is pending into signed POSTs (one list per subscriber) and hand them to the worker."""
        with self._lock:
            pending, self._pending = self._pending, {}
            batches = []
            for name, notes in pending.items():
                subscriber = self._subscriber(name)
                size = max(1, min(99, self.modes.batch_size))
                for i in range(0, len(notes), size):
                    batches.append((subscriber, notes[i:i + size]))
            if self.modes.out_of_order:
                batches.reverse()
            for subscriber, notes in batches:
                if subscriber is None:
                    continue
                for _ in range(1 + self.modes.duplicates):
                    self._queue(subscriber, notes)
            self._wake.notify_all()
        self._ensure_worker()

    def _queue(self, subscriber: Subscriber, notes: list[dict[str, Any]]) -> Post:
        doc: Any = notes if self.modes.body_form == "array" or len(notes) > 1 else notes[0]
        body = json.dumps(doc, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Google-Health-API-Webhooks"}
        if self.modes.send_authorization:
            headers["Authorization"] = subscriber.secret
        if self.modes.unsigned:
            self.modes.unsigned -= 1
        else:
            signature = self.keys.sign(body)
            if self.modes.bad_signature:
                self.modes.bad_signature -= 1
                signature = _corrupt(signature)
            headers[self.modes.header] = signature
        self.seq += 1
        post = Post(self.seq, subscriber.endpoint_uri, body, headers, len(notes), next_at=time.monotonic())
        self.posts.append(post)
        return post

    def replay(self, count: int) -> int:
        """Send the last ``count`` delivered POSTs again, byte for byte (same body, same signature)."""
        with self._lock:
            delivered = [p for p in self.posts if p.done and not p.dropped][-count:]
            for old in delivered:
                self.seq += 1
                self.posts.append(Post(self.seq, old.endpoint, old.body, dict(old.headers), old.notifications,
                                       next_at=time.monotonic()))
            self._wake.notify_all()
        self._ensure_worker()
        return len(delivered)

    def wait_idle(self, timeout_s: float = 30.0) -> bool:
        """Block until every POST is delivered or dropped; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while any(not p.done for p in self.posts):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(timeout=min(left, 0.5))
            return True

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="webhook-emitter", daemon=True)
                self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                open_posts = [p for p in self.posts if not p.done]
                if not open_posts:
                    self._worker = None
                    self._wake.notify_all()
                    return
                post = min(open_posts, key=lambda p: (p.next_at, p.seq))
                wait = post.next_at - time.monotonic()
                if wait > 0:
                    self._wake.wait(timeout=min(wait, 1.0))
                    continue
                post.attempts += 1
            sent = time.perf_counter()
            status = self._deliver(post)
            with self._lock:
                post.elapsed_ms.append(round((time.perf_counter() - sent) * 1000, 2))
                post.statuses.append(status)
                if status == 204:
                    post.done = True
                elif post.attempts >= self.modes.max_attempts:
                    post.done = post.dropped = True
                else:
                    delay = min(self.modes.retry_base_s * 2 ** (post.attempts - 1), self.modes.retry_max_s)
                    post.next_at = time.monotonic() + delay
                self._wake.notify_all()

    def _deliver(self, post: Post) -> int:
        try:
            return self._post(post.endpoint, data=post.body, headers=post.headers, timeout=30).status_code
        except requests.RequestException:
            return 0


def _corrupt(signature: str) -> str:
    """The same signature with one bit of its last byte flipped (still base64, still the right key id)."""
    raw = bytearray(base64.b64decode(signature))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def _interval_forms(persona: Any, start: int, end: int) -> dict[str, Any]:
    def civil(epoch: int) -> datetime:
        return datetime.fromtimestamp(epoch, timezone.utc).replace(tzinfo=None) + timedelta(
            seconds=persona.offset_at(epoch))

    def parts(moment: datetime) -> dict[str, Any]:
        return {"date": {"year": moment.year, "month": moment.month, "day": moment.day},
                "time": {"hours": moment.hour, "minutes": moment.minute}}

    lo, hi = civil(start), civil(end)
    return {"physicalTimeInterval": {"startTime": rfc3339(start), "endTime": rfc3339(end)},
            "civilDateTimeInterval": {"startDateTime": parts(lo), "endDateTime": parts(hi)},
            "civilIso8601TimeInterval": {"startTime": lo.isoformat(), "endTime": hi.isoformat()}}
