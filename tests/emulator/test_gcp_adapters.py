"""The GCP adapters, unchanged, against the emulators through the official Google clients.

The same contract the embedded adapters keep (tests/unit/test_adapters_local.py): objects are created
only if absent, work messages round-trip through Pub/Sub, and staged rows reach BigQuery once, by
natural key, however often they are staged or flushed, and whatever flushes run at the same time.
"""

from __future__ import annotations

import base64
import threading
import uuid
from datetime import date, datetime, timezone

import pytest
from google.cloud import pubsub_v1

from fitbit.catalogue import PROCESSING_LOG_TABLE
from fitbit.messages import FlushTrigger, RunTrigger, Unit, decode
from helper.queue import PubSubQueue
from tools.relay import to_cloudevent
from helper.storage import GcsRawStore

pytestmark = pytest.mark.emulator
RAW_BUCKET = "fitbit-raw"  # the bucket the emulated fake-gcs-server notifies about


def _log_row(name: str, status: str = "loaded", processed_at: str = "2026-11-05T10:00:00Z") -> dict:
    return {"participant_id": "user1", "civil_date": "2026-11-05", "raw_object": name, "data_type": "steps",
            "method": "list", "status": status, "error_class": None, "fix": None, "row_counts": {"steps_daily": 1},
            "attempt": 0, "parser_version": "1", "processed_at": processed_at}


def test_gcs_creates_an_object_only_once_and_reads_back_its_metadata(gcp_env):
    gcp_env.ensure_buckets(["adapter-tests"])  # not RAW_BUCKET: the session's pipeline would be notified
    store = GcsRawStore("adapter-tests", gcp_env.project)
    name = f"raw/contract/{uuid.uuid4().hex}.json"
    assert store.create(name, b'{"a":1}', {"unit": "u1", "participant": "user1"}, "application/json") is True
    assert store.create(name, b'{"a":2}', {"unit": "other"}, "application/json") is False
    blob = store.read(name)
    assert (blob.body, blob.metadata) == (b'{"a":1}', {"unit": "u1", "participant": "user1"})
    assert store.exists(name.rsplit("/", 1)[0] + "/") and not store.exists("raw/contract/nothing-")
    with pytest.raises(FileNotFoundError):
        store.read("raw/contract/missing.json")


def test_a_new_object_is_notified_and_relayed_as_the_storage_event_eventarc_sends(gcp_env):
    gcp_env.ensure_buckets([RAW_BUCKET])
    with gcp_env.client_env():
        subscriber = pubsub_v1.SubscriberClient()
    tap = f"projects/{gcp_env.project}/subscriptions/notify-{uuid.uuid4().hex[:8]}"
    subscriber.create_subscription(name=tap, topic=f"projects/{gcp_env.project}/topics/gcs-events")
    name = f"tests/notify/{uuid.uuid4().hex}.json"  # outside raw/: transform_load would ignore it
    GcsRawStore(RAW_BUCKET, gcp_env.project).create(name, b"{}", {}, "application/json")
    messages = []
    for _ in range(20):
        messages += subscriber.pull(subscription=tap, max_messages=10, timeout=10).received_messages
        if any(m.message.attributes.get("objectId") == name for m in messages):
            break
    (received,) = [m.message for m in messages if m.message.attributes.get("objectId") == name]
    push = {"subscription": tap, "message": {"data": base64.b64encode(received.data).decode(),
                                             "attributes": dict(received.attributes),
                                             "messageId": received.message_id}}
    headers, data = to_cloudevent(push, f"projects/{gcp_env.project}/topics/gcs-events")
    assert headers["ce-type"] == "google.cloud.storage.object.v1.finalized"
    assert headers["ce-source"] == f"//storage.googleapis.com/projects/_/buckets/{RAW_BUCKET}"
    assert headers["ce-subject"] == f"objects/{name}" and headers["ce-bucket"] == RAW_BUCKET
    assert data["bucket"] == RAW_BUCKET and data["name"] == name
    assert isinstance(data["generation"], str) and data["generation"].isdigit()
    assert data["metageneration"] == "1" and data["size"] == "2"


def test_work_messages_round_trip_through_pubsub(gcp_env):
    topic = f"units-{uuid.uuid4().hex[:8]}"
    gcp_env.ensure_topics([topic])
    with gcp_env.client_env():
        subscriber = pubsub_v1.SubscriberClient()
    sub = f"projects/{gcp_env.project}/subscriptions/{topic}-pull"
    subscriber.create_subscription(name=sub, topic=f"projects/{gcp_env.project}/topics/{topic}")
    sent = [RunTrigger(run_id="r1"), FlushTrigger(run_id="f1"),
            Unit("user1", "steps", "reconcile", date(2026, 11, 4), date(2026, 11, 5), "daily", page=2, page_token="t",
                 not_before=datetime(2026, 11, 5, tzinfo=timezone.utc))]
    PubSubQueue(gcp_env.project, topic).publish(sent)
    got = []
    while len(got) < len(sent):
        response = subscriber.pull(subscription=sub, max_messages=10, timeout=10)
        got += [decode(m.message.data) for m in response.received_messages]
    assert sorted(got, key=repr) == sorted(sent, key=repr)


def test_bigquery_schema_creation_is_idempotent(warehouse):
    warehouse.ensure_schema()
    bq, _ = warehouse._clients()
    names = {t.table_id for t in bq.list_tables(warehouse.dataset)}
    assert PROCESSING_LOG_TABLE.name in names and not any("__staging" in n for n in names)


def test_staged_rows_are_merged_once_by_key_and_a_newer_fetch_wins(warehouse):
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/a")], "raw/a")
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/b")], "raw/b")
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/b")], "raw/b")  # a replay re-stages its batch
    assert warehouse.flush() == {"processing_log": 2}
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/a", "failed", "2026-11-05T11:00:00Z")], "raw/a2")
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/b", "failed", "2026-11-05T09:00:00Z")], "raw/b2")
    warehouse.flush()
    rows = warehouse.query("SELECT raw_object, status, row_counts FROM processing_log "
                           "WHERE raw_object IN ('raw/a', 'raw/b') ORDER BY 1")
    assert rows == [("raw/a", "failed", {"steps_daily": 1}), ("raw/b", "loaded", {"steps_daily": 1})]
    assert warehouse.flush() == {}


def test_concurrent_flushes_lose_no_staged_row_and_leave_no_staging_table(warehouse):
    names = [f"raw/c{i:03d}" for i in range(30)]
    errors: list[BaseException] = []

    def flush_repeatedly() -> None:
        try:
            for _ in range(2):
                warehouse.flush()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    flushers = [threading.Thread(target=flush_repeatedly) for _ in range(2)]
    for t in flushers:
        t.start()
    for name in names:
        warehouse.stage(PROCESSING_LOG_TABLE, [_log_row(name)], name)
    for t in flushers:
        t.join()
    warehouse.flush()
    assert errors == []
    assert warehouse.query("SELECT COUNT(*), COUNT(DISTINCT raw_object) FROM processing_log "
                           "WHERE raw_object LIKE 'raw/c%'") == [(30, 30)]
    bq, gcs = warehouse._clients()
    assert not [t.table_id for t in bq.list_tables(warehouse.dataset) if "__staging" in t.table_id]
    assert list(gcs.bucket(warehouse.staging_bucket).list_blobs()) == []


def test_the_emulated_bigquery_rejects_a_row_that_breaks_the_schema_and_the_batch_is_set_aside(warehouse):
    warehouse.stage(PROCESSING_LOG_TABLE, [{**_log_row("raw/bad"), "attempt": "not a number"}], "raw/bad")
    result = warehouse.flush()
    assert [(q.table, q.batch_id) for q in result.quarantined] == [("processing_log", "raw/bad")]
    assert result.blocked == {} and result.get("processing_log", 0) == 0
    bq, gcs = warehouse._clients()
    assert not [t.table_id for t in bq.list_tables(warehouse.dataset) if "__staging" in t.table_id]
    kept = [b.name for b in gcs.bucket(warehouse.staging_bucket).list_blobs()]
    assert kept == ["quarantine/processing_log/raw_bad.ndjson", "quarantine/processing_log/raw_bad.reason.json"]
    for blob in gcs.bucket(warehouse.staging_bucket).list_blobs():
        blob.delete()  # kept aside (nothing is lost) until someone fixes or drops it

