"""Eventarc stand-in for the emulated stack: Pub/Sub push deliveries in, binary-mode CloudEvents out.

Why it exists: on Google Cloud, Eventarc turns a Pub/Sub message and a Cloud Storage notification into
the CloudEvents gen2 functions receive. Nothing local does that: the Pub/Sub emulator pushes a wrapped
message, and fake-gcs-server only publishes notifications to a topic. This HTTP function sits behind
push subscriptions and re-posts each delivery to its function as Eventarc would (checked against
Eventarc's documented formats and shared/docs/emulators.md, 2026-11-23):

- a work message → ``google.cloud.pubsub.topic.v1.messagePublished``; ``ce-source`` is
  ``//pubsub.googleapis.com/<topic>`` (the topic is in the push URL's path, as functions-framework
  reads it); data is ``{"message": {data, attributes, messageId, message_id, publishTime,
  publish_time}, "subscription": ...}``;
- a JSON_API_V1 storage notification → ``google.cloud.storage.object.v1.<finalized|deleted|...>``
  with ``ce-source //storage.googleapis.com/projects/_/buckets/<bucket>``, ``ce-subject
  objects/<name>``, the ``ce-bucket`` extension, and the object resource as data, with generation
  and metageneration as strings and the fields fake-gcs-server omits filled in.

The relay returns the function's status code, so the platform's retry semantics hold end to end:
2xx acknowledges; anything else (or an unreachable function: 503) makes Pub/Sub redeliver with its
retry policy and, after ``max_delivery_attempts``, dead-letter. It also counts what it delivered
(``GET /_relay/stats``), which is what a test reads to know when the pipeline is idle.

Routing, like an Eventarc trigger's destination: the push endpoint is
``http://<relay>/<function>/projects/<project>/topics/<topic>`` and ``RELAY_FUNCTIONS`` is a JSON
object mapping each function name to its URL, so a new subscription needs no relay restart. Serve with
``functions-framework --target relay --signature-type http --source tools/relay.py``.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import threading
from collections import defaultdict
from typing import Any, Mapping
from urllib.parse import quote

import functions_framework
import requests

from helper.cloudevents import PUBSUB_EVENT

STORAGE_TYPES = {"OBJECT_FINALIZE": "finalized", "OBJECT_DELETE": "deleted", "OBJECT_ARCHIVE": "archived",
                 "OBJECT_METADATA_UPDATE": "metadataUpdated"}
FORWARD_TIMEOUT_S = float(os.environ.get("RELAY_TIMEOUT_S", "540"))
_lock = threading.Lock()
_stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"attempts": 0, "failures": 0, "in_flight": 0,
                                                         "acked": set()})
_session = requests.Session()


class NotAPushDelivery(ValueError):
    """The request is not a Pub/Sub push body; answered 400 so a misconfiguration is visible."""


def split_path(path: str) -> tuple[str, str]:
    """``/<function>/projects/<p>/topics/<t>`` → (function, topic path)."""
    function, _, topic = path.strip("/").partition("/")
    if not function or not topic.startswith("projects/") or "/topics/" not in topic:
        raise NotAPushDelivery("push endpoint path must be /<function>/projects/<project>/topics/<topic>")
    return function, topic


def pubsub_cloudevent(push: Mapping[str, Any], topic: str) -> tuple[dict[str, str], dict[str, Any]]:
    """Headers and data of the messagePublished CloudEvent Eventarc would send for this push body."""
    message = push["message"]
    message_id = str(message.get("messageId") or message["message_id"])
    publish_time = message.get("publishTime") or message.get("publish_time") or ""
    data = {"message": {"data": message.get("data", ""), "attributes": dict(message.get("attributes") or {}),
                        "messageId": message_id, "message_id": message_id,
                        "publishTime": publish_time, "publish_time": publish_time},
            "subscription": push["subscription"]}
    if message.get("orderingKey"):
        data["message"]["orderingKey"] = message["orderingKey"]
    headers = {"ce-id": message_id, "ce-type": PUBSUB_EVENT, "ce-source": f"//pubsub.googleapis.com/{topic}",
               "ce-time": publish_time}
    return headers, data


def storage_cloudevent(push: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Headers and data of the storage CloudEvent Eventarc would send for this notification."""
    message = push["message"]
    attrs = message["attributes"]
    try:
        obj = json.loads(base64.b64decode(message["data"], validate=True))
    except (binascii.Error, ValueError):
        raise NotAPushDelivery("storage notification data is not base64 JSON") from None
    bucket, name = attrs.get("bucketId", obj.get("bucket")), attrs.get("objectId", obj.get("name"))
    generation = str(obj.get("generation") or attrs.get("objectGeneration", ""))
    obj.update(bucket=bucket, name=name, generation=generation, metageneration=str(obj.get("metageneration", "1")))
    obj.setdefault("id", f"{bucket}/{name}/{generation}")
    obj.setdefault("selfLink", f"https://www.googleapis.com/storage/v1/b/{bucket}/o/{quote(name, safe='')}")
    obj.setdefault("mediaLink", obj["selfLink"].replace("/storage/v1/", "/download/storage/v1/")
                   + f"?generation={generation}&alt=media")
    obj.setdefault("timeStorageClassUpdated", obj.get("timeCreated", ""))
    event_type = STORAGE_TYPES.get(attrs.get("eventType", ""))
    if event_type is None:
        raise NotAPushDelivery(f"unknown storage event type {attrs.get('eventType')!r}")
    headers = {"ce-id": str(message.get("messageId") or message.get("message_id")),
               "ce-type": f"google.cloud.storage.object.v1.{event_type}",
               "ce-source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
               "ce-subject": f"objects/{name}", "ce-bucket": bucket,
               "ce-time": obj.get("updated") or attrs.get("eventTime") or message.get("publishTime", "")}
    return headers, obj


def to_cloudevent(push: Any, topic: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The binary-mode CloudEvent (headers, data) for one push body; storage notifications by their attributes."""
    if not isinstance(push, dict) or not isinstance(push.get("message"), dict) or "subscription" not in push:
        raise NotAPushDelivery("body is not a Pub/Sub push delivery")
    attrs = push["message"].get("attributes") or {}
    if attrs.get("payloadFormat") == "JSON_API_V1" and "eventType" in attrs:
        headers, data = storage_cloudevent(push)
    else:
        headers, data = pubsub_cloudevent(push, topic)
    return {"ce-specversion": "1.0", "Content-Type": "application/json", **headers}, data


def _functions() -> dict[str, str]:
    return json.loads(os.environ.get("RELAY_FUNCTIONS", "{}"))


@functions_framework.http
def relay(request):  # noqa: ANN001, ANN201 - flask.Request -> flask response tuple
    if request.method == "GET" and request.path == "/_relay/stats":
        with _lock:
            body = {sub: {**s, "acked": len(s["acked"])} for sub, s in _stats.items()}
        return body, 200
    push = request.get_json(force=True, silent=True)
    try:
        function, topic = split_path(request.path)
        headers, data = to_cloudevent(push, topic)
    except (NotAPushDelivery, KeyError, TypeError) as exc:
        return f"relay: {exc}", 400
    target = _functions().get(function)
    if target is None:
        return f"relay: no URL configured for function {function!r}", 404
    subscription = push["subscription"]
    with _lock:
        _stats[subscription]["attempts"] += 1
        _stats[subscription]["in_flight"] += 1
    try:
        response = _session.post(target, data=json.dumps(data), headers=headers, timeout=FORWARD_TIMEOUT_S)
        status = response.status_code
    except requests.RequestException:
        status = 503  # the function is down or restarting: let Pub/Sub redeliver
    with _lock:
        stats = _stats[subscription]
        stats["in_flight"] -= 1
        if 200 <= status < 300:
            stats["acked"].add(headers["ce-id"])
        else:
            stats["failures"] += 1
    return "", status
