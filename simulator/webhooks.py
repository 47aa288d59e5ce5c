"""The webhook side of the simulator: subscribers, subscriptions, the handshake, signed pushes with retries.

What it reproduces (discovery 20261030 ``projects.subscribers``; team spec §6 and §12, checked 2026-11-30):

- ``POST/GET/DELETE /v4/projects/{projectNumber}/subscribers[/{id}]`` and ``…/subscriptions[/{id}]``,
  authenticated with a token carrying the ``cloud-platform`` scope; a project **id** (not a number) is
  refused; ``create`` runs the verification handshake synchronously (``{"type": "verification"}``
  with the secret → must be 200/201; without → must be 401/403; else 400 ``FAILED_PRECONDITION``)
  and answers a done ``Operation``; ``PATCH`` on a subscription is always 400 (as reported live);
  ``DELETE`` of a subscriber with subscriptions needs ``force=true``;
- notifications for MANUAL subscriptions (the user's subscription lists the type) and AUTOMATIC
  configs (every user), ``{"data": {version, clientProvidedSubscriptionName, healthUserId, operation,
  dataType, intervals: [{physicalTimeInterval, civilDateTimeInterval, civilIso8601TimeInterval}]}}``,
  posted as a JSON array (as seen live; an object on request), up to ``batch_size`` (≤ 99) per POST;
- every POST signed (``GOOGLE-HEALTH-API-SIGNATURE`` by default, or ``X-HEALTHAPI-SIGNATURE``) with the
  keys of ``simulator.webhook_keys``, published at ``GET /webhooks/public_keyset.json``;
- only ``204`` ends a delivery; anything else (even ``200``) is retried with exponential backoff until
  ``max_attempts``, then dropped and counted;
- modes (``POST /_admin/webhooks/modes``) for the awkward cases: ``duplicates`` (each POST sent again N
  times), ``out_of_order`` (the newest batch first), ``bad_signature`` / ``unsigned`` (the next N POSTs),
  ``send_authorization`` (the secret on notifications, default true), ``header``, ``body_form``,
  ``batch_size``; ``POST /_admin/webhooks/replay`` re-sends delivered POSTs byte for byte.

Changes it announces: ``POST /_admin/webhooks/emit`` (a sync of one user's type on one day), and by
itself the moment the latest night finishes sleep staging (the data really changes then). Each change
is logged with its wall time (``GET /_admin/webhooks``) so callers can measure end-to-end latency.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

import requests

from fitbit.catalogue import DATA_TYPES
from simulator.cohort import Cohort
from simulator.config import SimConfig
from simulator.control import Control
from simulator.errors import ApiError, Response, error_response, json_response
from simulator.oauth import OAuthServer
from simulator.store import DataStore
from simulator.webhook_keys import Keyring


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

KEYSET_PATH = "/webhooks/public_keyset.json"
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
HEADERS = ("GOOGLE-HEALTH-API-SIGNATURE", "X-HEALTHAPI-SIGNATURE")
WEBHOOK_TYPES = frozenset(dt.path_id for dt in DATA_TYPES if dt.webhook)
_ID = re.compile(r"^[a-z]([a-z0-9-]{2,34}[a-z0-9])$")
_SUBSCRIBERS = re.compile(r"^/v4/projects/(?P<project>[^/]+)/subscribers(?:/(?P<sub>[^/:]+))?"
                          r"(?:/subscriptions(?P<subs>)(?:/(?P<id>[^/:]+))?)?$")


@dataclass
class Subscriber:
    name: str
    endpoint_uri: str
    secret: str
    configs: list[dict[str, Any]]
    created: str

    def resource(self) -> dict[str, Any]:
        return {"name": self.name, "endpointUri": self.endpoint_uri, "subscriberConfigs": self.configs,
                "endpointAuthorization": {"secretSet": True}, "state": "ACTIVE",
                "createTime": self.created, "updateTime": self.created}

    def policy_for(self, data_type: str) -> str | None:
        return next((c.get("subscriptionCreatePolicy") for c in self.configs if data_type in c.get("dataTypes", [])),
                    None)


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


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


class WebhookHub:
    """Subscriber registry and notification emitter for one ``Simulator``."""

    def __init__(self, sim: Simulator, post: Callable[..., requests.Response] | None = None) -> None:
        self.sim = sim
        self.keys = Keyring(sim.config.seed)
        self.modes = Modes()
        self.subscribers: dict[str, Subscriber] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}  # name -> Subscription resource
        self.posts: list[Post] = []
        self.changes: list[dict[str, Any]] = []
        self._post = post or requests.post
        self._seq = 0
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._worker: threading.Thread | None = None
        self._sleep_timer: threading.Timer | None = None
        self._rng = random.Random(f"{sim.config.seed}:webhooks")
        self._pending: dict[str, list[dict[str, Any]]] = {}

    # -- routing ------------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> Response | None:
        """The answer for a webhook path, or None when the path is not one of ours."""
        if path == KEYSET_PATH and method == "GET":
            return 200, {"Content-Type": "application/json", "Cache-Control": "public, max-age=3600"}, \
                self.keys.public_keyset()
        if path.startswith("/_admin/webhooks"):
            return self._admin(method, path, body)
        match = _SUBSCRIBERS.match(path)
        if match is None:
            return None
        try:
            access = self.sim.oauth.authenticate(headers, query, "google.devicesandservices.health.v4.Subscribers")
            if CLOUD_PLATFORM not in access.scopes:
                raise ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                               "ACCESS_TOKEN_SCOPE_INSUFFICIENT", domain="googleapis.com")
            if not match.group("project").isdigit():
                raise ApiError(400, "INVALID_ARGUMENT", "Use the project number, not the project id.")
            return self._api(method, match, query, body)
        except ApiError as err:
            return error_response(err)

    def _api(self, method: str, m: re.Match[str], query: dict[str, str], body: bytes) -> Response:
        parent = f"projects/{m.group('project')}/subscribers"
        sub_id, is_subs, item = m.group("sub"), m.group("subs") is not None, m.group("id")
        doc = _json(body) if body else {}
        if not is_subs:
            if sub_id is None and method == "POST":
                return self._create_subscriber(parent, query.get("subscriberId") or f"s{uuid.uuid4().hex[:12]}", doc)
            if sub_id is None and method == "GET":
                found = [s.resource() for n, s in sorted(self.subscribers.items()) if n.startswith(parent + "/")]
                return json_response(200, {"subscribers": found, "totalSize": len(found)} if found else {})
            if sub_id is not None and method == "DELETE":
                return self._delete_subscriber(f"{parent}/{sub_id}", query.get("force") == "true")
            if sub_id is not None and method == "PATCH":
                raise ApiError(400, "INVALID_ARGUMENT", "Updating subscriber configs is not supported.")
            raise ApiError(404, "NOT_FOUND", "Method not found.")
        owner = self.subscribers.get(f"{parent}/{sub_id}")
        if owner is None:
            raise ApiError(404, "NOT_FOUND", f"Subscriber {parent}/{sub_id} was not found.")
        if item is None and method == "POST":
            return self._create_subscription(owner, query.get("subscriptionId") or f"u{uuid.uuid4().hex[:12]}", doc)
        if item is None and method == "GET":
            wanted = re.search(r'user\s*=\s*"([^"]+)"', query.get("filter", ""))
            found = [s for n, s in sorted(self.subscriptions.items()) if n.startswith(owner.name + "/")
                     and (wanted is None or s["user"] == wanted.group(1))]
            return json_response(200, {"subscriptions": found} if found else {})
        name = f"{owner.name}/subscriptions/{item}"
        if method == "DELETE" and item is not None:
            with self._lock:
                if self.subscriptions.pop(name, None) is None:
                    raise ApiError(404, "NOT_FOUND", f"Subscription {name} was not found.")
            return json_response(200, {})
        if method == "PATCH":
            raise ApiError(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
        raise ApiError(404, "NOT_FOUND", "Method not found.")

    def _create_subscriber(self, parent: str, sub_id: str, doc: dict[str, Any]) -> Response:
        name = f"{parent}/{sub_id}"
        endpoint = doc.get("endpointUri")
        secret = (doc.get("endpointAuthorization") or {}).get("secret")
        configs = doc.get("subscriberConfigs") or []
        if not _ID.match(sub_id):
            raise ApiError(400, "INVALID_ARGUMENT", "subscriberId must match [a-z]([a-z0-9-]{2,34}[a-z0-9]).")
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise ApiError(400, "INVALID_ARGUMENT", "endpointUri must be an HTTPS URL.")
        if not isinstance(secret, str) or not secret:
            raise ApiError(400, "INVALID_ARGUMENT", "endpointAuthorization.secret is required.")
        for config in configs:
            unknown = set(config.get("dataTypes", [])) - WEBHOOK_TYPES
            if unknown or config.get("subscriptionCreatePolicy") not in ("AUTOMATIC", "MANUAL"):
                raise ApiError(400, "INVALID_ARGUMENT", f"Unsupported subscriber config (types {sorted(unknown)}).")
        if name in self.subscribers:
            raise ApiError(409, "ALREADY_EXISTS", f"Subscriber {name} already exists.")
        problem = self.verify_endpoint(endpoint, secret)
        if problem:
            raise ApiError(400, "FAILED_PRECONDITION", f"Endpoint verification failed: {problem}.")
        subscriber = Subscriber(name, endpoint, secret, configs, _now_iso())
        with self._lock:
            self.subscribers[name] = subscriber
        self._arm_sleep_change()
        return json_response(200, {"name": f"{name}/operations/create", "done": True,
                                   "response": {"@type": "type.googleapis.com/google.devicesandservices.health.v4."
                                                "Subscriber", **subscriber.resource()}})

    def verify_endpoint(self, endpoint: str, secret: str) -> str | None:
        """The two verification POSTs; a description of the failure, or None when both pass."""
        headers = {"Content-Type": "application/json", "User-Agent": "Google-Health-API-Webhooks-Verifier"}
        body = json.dumps({"type": "verification"}).encode()
        try:
            with_secret = self._post(endpoint, data=body, headers={**headers, "Authorization": secret}, timeout=10)
            without = self._post(endpoint, data=body, headers=headers, timeout=10)
        except requests.RequestException as exc:
            return f"endpoint unreachable ({type(exc).__name__})"
        if with_secret.status_code not in (200, 201):
            return f"the request with Authorization got {with_secret.status_code}, expected 200 or 201"
        if without.status_code not in (401, 403):
            return f"the request without Authorization got {without.status_code}, expected 401 or 403"
        return None

    def _delete_subscriber(self, name: str, force: bool) -> Response:
        with self._lock:
            if name not in self.subscribers:
                raise ApiError(404, "NOT_FOUND", f"Subscriber {name} was not found.")
            children = [n for n in self.subscriptions if n.startswith(name + "/")]
            if children and not force:
                raise ApiError(400, "FAILED_PRECONDITION", "The subscriber has subscriptions; use force=true.")
            for child in children:
                del self.subscriptions[child]
            del self.subscribers[name]
        return json_response(200, {"name": f"{name}/operations/delete", "done": True})

    def _create_subscription(self, owner: Subscriber, sub_id: str, doc: dict[str, Any]) -> Response:
        user, types = doc.get("user"), doc.get("dataTypes") or []
        persona = self.sim.cohort.by_health_id(user[len("users/"):]) if isinstance(user, str) and \
            user.startswith("users/") else None
        if persona is None:
            raise ApiError(400, "INVALID_ARGUMENT", "user must be users/{healthUserId} of a known user.")
        if not _ID.match(sub_id) or any("/" in t for t in types):
            raise ApiError(400, "INVALID_ARGUMENT", "Invalid subscription id or data type.")
        if any(owner.policy_for(t) != "MANUAL" for t in types):
            raise ApiError(400, "FAILED_PRECONDITION", "The subscriber has no MANUAL config for these types.")
        name = f"{owner.name}/subscriptions/{sub_id}"
        with self._lock:
            if name in self.subscriptions:
                raise ApiError(409, "ALREADY_EXISTS", f"Subscription {name} already exists.")
            self.subscriptions[name] = {"name": name, "user": user, "dataTypes": list(types)}
        return json_response(200, self.subscriptions[name])

    # -- notifications ----------------------------------------------------------------------------
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
        queued = 0
        with self._lock:
            self.changes.append({"user": user, "dataType": data_type, "day": day.isoformat(), "why": why,
                                 "at": time.time(), "posts_before": self._seq})
            for subscriber in self.subscribers.values():
                subscription = self._subscription_name(subscriber, persona.health_user_id, data_type)
                if subscription is None:
                    continue
                note = {"data": {"version": "1", "clientProvidedSubscriptionName": subscription,
                                 "healthUserId": persona.health_user_id, "operation": operation,
                                 "dataType": data_type, "intervals": [_interval_forms(persona, start, end)]}}
                self._pending.setdefault(subscriber.name, []).append(note)
                queued += 1
        return queued

    def _subscription_name(self, subscriber: Subscriber, health_user_id: str, data_type: str) -> str | None:
        policy = subscriber.policy_for(data_type)
        if policy == "AUTOMATIC":
            return str(uuid.UUID(int=self._rng.getrandbits(128)))
        for sub in self.subscriptions.values():
            if (sub["name"].startswith(subscriber.name + "/") and sub["user"] == f"users/{health_user_id}"
                    and data_type in sub["dataTypes"]):
                return sub["name"].rsplit("/", 1)[-1]
        return None

    def _interval(self, persona: Any, data_type: str, day: date) -> tuple[int, int]:
        if data_type == "sleep":
            sleep = self.sim.store.plan(persona, day).main_sleep
            if sleep is not None:
                return sleep.start, sleep.end
        start = persona.day_start(day) + 10 * 3600
        return start, start + (60 if data_type == "weight" else 900)

    def send_pending(self) -> None:
        """Batch what is pending into signed POSTs (one list per subscriber) and hand them to the worker."""
        with self._lock:
            pending, self._pending = self._pending, {}
            batches = []
            for name, notes in pending.items():
                subscriber = self.subscribers.get(name)
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
        self._seq += 1
        post = Post(self._seq, subscriber.endpoint_uri, body, headers, len(notes), next_at=time.monotonic())
        self.posts.append(post)
        return post

    def replay(self, count: int) -> int:
        """Send the last ``count`` delivered POSTs again, byte for byte (same body, same signature)."""
        with self._lock:
            delivered = [p for p in self.posts if p.done and not p.dropped][-count:]
            for old in delivered:
                self._seq += 1
                self.posts.append(Post(self._seq, old.endpoint, old.body, dict(old.headers), old.notifications,
                                       next_at=time.monotonic()))
            self._wake.notify_all()
        self._ensure_worker()
        return len(delivered)

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
            doc = _json(body) if body else {}
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


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
    return doc


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

    def instant(epoch: int) -> str:
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat().replace("+00:00", "Z")

    lo, hi = civil(start), civil(end)
    return {"physicalTimeInterval": {"startTime": instant(start), "endTime": instant(end)},
            "civilDateTimeInterval": {"startDateTime": parts(lo), "endDateTime": parts(hi)},
            "civilIso8601TimeInterval": {"startTime": lo.isoformat(), "endTime": hi.isoformat()}}
