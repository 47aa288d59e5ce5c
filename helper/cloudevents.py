"""CloudEvent envelopes: the shapes Eventarc delivers to gen2 functions, and how our messages ride in them.

- ``google.cloud.pubsub.topic.v1.messagePublished``: ``data.message.data`` is the base64 of one work
  message (``fitbit.messages``);
- ``google.cloud.storage.object.v1.finalized``: ``data`` is the object resource (generation a string).

Entry points decode the envelope here, then hand the typed message to the domain. The embedded queue
builds the very same shapes, so the functions cannot tell the runtimes apart.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Mapping

from fitbit.errors import MalformedMessage
from fitbit.messages import StoredObject, json_default

PUBSUB_EVENT = "google.cloud.pubsub.topic.v1.messagePublished"
STORAGE_FINALIZED = "google.cloud.storage.object.v1.finalized"


def pubsub_event_data(data: bytes, message_id: str, publish_time: datetime, subscription: str,
                      attributes: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``data`` of a messagePublished CloudEvent, as Eventarc builds it."""
    return {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": dict(attributes or {}),
            "messageId": message_id,
            "publishTime": json_default(publish_time),
        },
        "subscription": subscription,
    }


def message_from_pubsub_event(event_data: Any) -> bytes:
    try:
        encoded = event_data["message"]["data"]
        return base64.b64decode(encoded, validate=True)
    except (KeyError, TypeError, binascii.Error):
        raise MalformedMessage("event is not a Pub/Sub messagePublished event with base64 data") from None


def object_from_storage_event(event_data: Any) -> StoredObject:
    try:
        bucket, name = event_data["bucket"], event_data["name"]
        generation = str(event_data.get("generation", ""))
    except (KeyError, TypeError, AttributeError):
        raise MalformedMessage("event is not a storage object-finalized event") from None
    if not isinstance(bucket, str) or not isinstance(name, str) or not name:
        raise MalformedMessage("storage event lacks bucket or object name")
    return StoredObject(bucket, name, generation)


def storage_event_data(bucket: str, name: str, generation: str, size: int, created: datetime,
                       content_type: str = "application/json") -> dict[str, Any]:
    """The ``data`` of a storage finalized CloudEvent, with the fields Eventarc sends."""
    stamp = json_default(created)
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/{generation}",
        "bucket": bucket,
        "name": name,
        "generation": generation,
        "metageneration": "1",
        "contentType": content_type,
        "size": str(size),
        "timeCreated": stamp,
        "updated": stamp,
        "storageClass": "STANDARD",
    }
