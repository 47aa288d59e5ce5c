"""The relay (our Eventarc stand-in) without emulators: CloudEvent shapes, and status codes passed through.

Its output is checked through functions-framework's own CloudEvent decoding, so what the relay posts
is exactly what a ``@functions_framework.cloud_event`` function receives on Google Cloud.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import functions_framework
import pytest

from tools import relay
from helper.cloudevents import object_from_storage_event

ROOT = Path(__file__).resolve().parents[2]
TOPIC = "projects/demo-project/topics/fitbit-units"
# A notification exactly as fake-gcs-server 1.54.0 published it (shared/docs/emulators.md, 2026-11-23).
NOTIFICATION_ATTRS = {"eventType": "OBJECT_FINALIZE", "payloadFormat": "JSON_API_V1", "bucketId": "raw-bucket",
                      "objectId": "raw/u1/steps.json", "objectGeneration": "1795437772635709",
                      "eventTime": "2026-11-23T12:42:52Z"}
NOTIFICATION_DATA = {"kind": "storage#object", "id": "raw-bucket/raw/u1/steps.json#1795437772635709",
                     "name": "raw/u1/steps.json", "bucket": "raw-bucket", "generation": "1795437772635709",
                     "contentType": "application/json", "timeCreated": "2026-11-23T12:42:52.635696Z",
                     "updated": "2026-11-23T12:42:52.635698Z", "storageClass": "STANDARD", "size": "73"}


def _push(data: bytes, attributes: dict[str, str] | None = None, message_id: str = "27") -> dict:
    return {"subscription": "projects/demo-project/subscriptions/s1",
            "message": {"data": base64.b64encode(data).decode(), "attributes": attributes or {},
                        "messageId": message_id, "message_id": message_id,
                        "publishTime": "2026-11-23T12:40:24.633Z", "publish_time": "2026-11-23T12:40:24.633Z"}}


def test_a_work_message_becomes_the_messagepublished_event_eventarc_sends():
    headers, data = relay.to_cloudevent(_push(b'{"kind":"flush"}', {"a": "b"}), TOPIC)
    assert headers["ce-type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert headers["ce-source"] == f"//pubsub.googleapis.com/{TOPIC}" and headers["ce-id"] == "27"
    assert data["subscription"] == "projects/demo-project/subscriptions/s1"
    assert base64.b64decode(data["message"]["data"]) == b'{"kind":"flush"}'
    assert data["message"]["attributes"] == {"a": "b"} and data["message"]["message_id"] == "27"


def test_a_storage_notification_becomes_the_finalized_event_with_string_generation():
    push = _push(json.dumps(NOTIFICATION_DATA).encode(), NOTIFICATION_ATTRS)
    headers, data = relay.to_cloudevent(push, "projects/demo-project/topics/gcs-events")
    assert headers["ce-type"] == "google.cloud.storage.object.v1.finalized"
    assert headers["ce-source"] == "//storage.googleapis.com/projects/_/buckets/raw-bucket"
    assert headers["ce-subject"] == "objects/raw/u1/steps.json" and headers["ce-bucket"] == "raw-bucket"
    assert data["generation"] == "1795437772635709" and data["metageneration"] == "1"
    assert data["mediaLink"].endswith("raw%2Fu1%2Fsteps.json?generation=1795437772635709&alt=media")
    stored = object_from_storage_event(data)
    assert (stored.bucket, stored.name, stored.generation) == ("raw-bucket", "raw/u1/steps.json", "1795437772635709")


def test_functions_framework_decodes_what_the_relay_posts(tmp_path: Path):
    source = tmp_path / "record_main.py"
    source.write_text("import functions_framework\nEVENTS = []\n\n@functions_framework.cloud_event\n"
                      "def record(cloud_event):\n    EVENTS.append(cloud_event)\n")
    client = functions_framework.create_app("record", str(source), "cloudevent").test_client()
    push = _push(json.dumps(NOTIFICATION_DATA).encode(), NOTIFICATION_ATTRS)
    headers, data = relay.to_cloudevent(push, "projects/demo-project/topics/gcs-events")
    assert client.post("/", data=json.dumps(data), headers=headers).status_code == 200
    (event,) = sys.modules["record_main"].EVENTS  # functions-framework registers the source by its file name
    assert event["type"] == "google.cloud.storage.object.v1.finalized" and event["bucket"] == "raw-bucket"
    assert event["subject"] == "objects/raw/u1/steps.json" and event.data["generation"] == "1795437772635709"


@pytest.mark.parametrize("body", [{"no": "message"}, {"message": {"data": "x"}}, ["list"]])
def test_a_body_that_is_not_a_push_delivery_is_refused(body):
    with pytest.raises(relay.NotAPushDelivery):
        relay.to_cloudevent(body, TOPIC)


@pytest.fixture
def target() -> Iterator[tuple[str, list[int]]]:
    """A function stand-in answering with the next queued status code (204 when none is queued)."""
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(statuses.pop(0) if statuses else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", statuses
    finally:
        server.shutdown()
        server.server_close()


def test_the_relay_passes_the_functions_status_back_so_pubsub_retries_or_acknowledges(target, monkeypatch):
    url, statuses = target
    monkeypatch.setenv("RELAY_FUNCTIONS", json.dumps({"extract": url, "down": "http://127.0.0.1:9/"}))
    client = functions_framework.create_app("relay", str(ROOT / "tools/relay.py"), "http").test_client()
    path = f"/extract/{TOPIC}"
    statuses.append(500)
    assert client.post(path, json=_push(b"{}", message_id="m1")).status_code == 500
    assert client.post(path, json=_push(b"{}", message_id="m1")).status_code == 204
    assert client.post(f"/down/{TOPIC}", json=_push(b"{}", message_id="m2")).status_code == 503
    assert client.post(f"/nowhere/{TOPIC}", json=_push(b"{}")).status_code == 404
    assert client.post("/extract/not-a-topic", json=_push(b"{}")).status_code == 400
    stats = client.get("/_relay/stats").get_json()["projects/demo-project/subscriptions/s1"]
    assert stats["acked"] == 1 and stats["failures"] >= 2 and stats["in_flight"] == 0
