"""The subscriber side of the simulator's webhooks: subscribers, subscriptions and the verification handshake.

What it reproduces (discovery 20261030 ``projects.subscribers``; team spec §6 and §12, checked 2026-11-30):

- ``POST/GET/DELETE /v4/projects/{projectNumber}/subscribers[/{id}]`` and ``…/subscriptions[/{id}]``,
  authenticated with a token carrying the ``cloud-platform`` scope; a project **id** (not a number) is
  refused;
- ``create`` runs the verification handshake synchronously (``{"type": "verification"}`` with the secret
  → must be 200/201; without → must be 401/403; else 400 ``FAILED_PRECONDITION``) and answers a done
  ``Operation``;
- ``PATCH`` on a subscriber or a subscription is always 400 (as reported live); ``DELETE`` of a subscriber
  with subscriptions needs ``force=true``;
- who hears of a change: AUTOMATIC configs every user (a fresh subscription name per notification), MANUAL
  configs only the users whose subscription lists the type.

The notifications themselves are sent by ``simulator.webhook_delivery``; ``simulator.webhooks`` joins both.
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from fitbit.catalogue import DATA_TYPES
from fitbit.timefmt import utc_text
from simulator.cohort import Cohort
from simulator.errors import ApiError, Response, error_response, json_response
from simulator.oauth import OAuthServer

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
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


def read_json(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object, or the API's 400."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.") from None
    if not isinstance(doc, dict):
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
    return doc


class SubscriberRegistry:
    """The subscribers and subscriptions of one simulator, and the API that manages them.

    Args:
        oauth: authenticates the management calls.
        cohort: the users a MANUAL subscription may name.
        post: sends the handshake's two POSTs (``requests.post`` unless a test injects one).
        lock: shared with the delivery, which reads the subscribers while it batches.
        seed: makes the AUTOMATIC subscription names deterministic.
        on_subscribed: called after each subscriber is created.
    """

    def __init__(self, oauth: OAuthServer, cohort: Cohort, post: Callable[..., requests.Response],
                 lock: threading.RLock, seed: int, on_subscribed: Callable[[], None]) -> None:
        self.oauth = oauth
        self.cohort = cohort
        self.subscribers: dict[str, Subscriber] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}  # name -> Subscription resource
        self._post = post
        self._lock = lock
        self._rng = random.Random(f"{seed}:webhooks")
        self._on_subscribed = on_subscribed

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> Response | None:
        """The answer for a subscriber or subscription path, or None when the path is not one of those."""
        match = _SUBSCRIBERS.match(path)
        if match is None:
            return None
        try:
            access = self.oauth.authenticate(headers, query, "google.devicesandservices.health.v4.Subscribers")
            if CLOUD_PLATFORM not in access.scopes:
                raise ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.",
                               "ACCESS_TOKEN_SCOPE_INSUFFICIENT", domain="googleapis.com")
            if not match.group("project").isdigit():
                raise ApiError(400, "INVALID_ARGUMENT", "Use the project number, not the project id.")
            return self._api(method, match, query, body)
        except ApiError as err:
            return error_response(err)

    def interested(self, health_user_id: str, data_type: str) -> list[tuple[Subscriber, str]]:
        """Each subscriber to tell of a change, with the subscription name its notification carries."""
        with self._lock:
            found = ((s, self._subscription_name(s, health_user_id, data_type)) for s in self.subscribers.values())
            return [(subscriber, name) for subscriber, name in found if name is not None]

    def _subscription_name(self, subscriber: Subscriber, health_user_id: str, data_type: str) -> str | None:
        policy = subscriber.policy_for(data_type)
        if policy == "AUTOMATIC":
            return str(uuid.UUID(int=self._rng.getrandbits(128)))
        for sub in self.subscriptions.values():
            if (sub["name"].startswith(subscriber.name + "/") and sub["user"] == f"users/{health_user_id}"
                    and data_type in sub["dataTypes"]):
                return sub["name"].rsplit("/", 1)[-1]
        return None

    def _api(self, method: str, m: re.Match[str], query: dict[str, str], body: bytes) -> Response:
        parent = f"projects/{m.group('project')}/subscribers"
        sub_id, is_subs, item = m.group("sub"), m.group("subs") is not None, m.group("id")
        doc = read_json(body) if body else {}
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
        subscriber = Subscriber(name, endpoint, secret, configs, utc_text(datetime.now(UTC)))
        with self._lock:
            self.subscribers[name] = subscriber
        self._on_subscribed()
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
        persona = self.cohort.by_health_id(user[len("users/"):]) if isinstance(user, str) and \
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
