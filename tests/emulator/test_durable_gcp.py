"""Lose nothing on Google Cloud (issue #11), against the emulators through the official clients.

- BigQuery per-batch isolation: a load job is all or nothing, so the flush halves the batches until it
  finds the one the warehouse refuses, sets it aside in the staging bucket's ``quarantine/`` and merges
  the rest; processing_log says ``quarantined`` for its raw object.
- The orphan sweep in the scheduled flush: a raw-store object no event ever named is handled by the flush.
- Dead letters: ``scripts/dead_letters.py`` counts and shows what the hold subscription keeps, and
  ``--replay`` republishes each message to the topic of the subscription it died on.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import date, datetime, timezone

import pytest

from fitbit.catalogue import PROCESSING_LOG_TABLE, table_named
from fitbit.jobs import flush as flush_job
from fitbit.jobs.sweep import SweepPolicy
from fitbit.jobs.transform import TransformContext, handle_object
from fitbit.messages import StoredObject, Unit, decode, encode
from helper.storage import GcsRawStore
from helper.warehouse import BigQueryWarehouse
from tools import dead_letters

pytestmark = pytest.mark.emulator
STEPS = table_named("steps_daily")


@pytest.fixture(scope="module")
def cloud(emulator_stack):
    """A raw bucket nobody is notified about, its staging bucket and a dataset, for this module only."""
    suffix = uuid.uuid4().hex[:8]
    raw = f"durable-raw-{suffix}"
    emulator_stack.ensure_buckets([raw, raw + "-staging"])
    with emulator_stack.client_env():
        warehouse = BigQueryWarehouse(emulator_stack.project, f"durable_{suffix}", raw + "-staging",
                                      endpoint=emulator_stack.env["BIGQUERY_EMULATOR_HOST"])
        warehouse._clients()
        store = GcsRawStore(raw, emulator_stack.project)
        store._bucket()
    warehouse.ensure_schema()
    return store, warehouse


def _steps(obj: str, steps: int, day: str) -> dict:
    return {"participant_id": "user1", "civil_date": day, "steps": steps, "raw_object": obj, "parser_version": "t",
            "fetched_at": "2026-11-06T00:00:00Z", "loaded_at": "2026-11-06T00:00:00Z"}


def _log_row(obj: str) -> dict:
    return {"participant_id": "user1", "civil_date": "2026-11-01", "raw_object": obj, "data_type": "steps",
            "method": "dailyRollUp", "status": "loaded", "error_class": None, "fix": None,
            "row_counts": {"steps_daily": 1}, "attempt": 0, "parser_version": "t",
            "processed_at": "2026-11-06T00:00:00Z"}


def test_bigquery_loads_every_batch_but_the_refused_one_which_is_quarantined_and_logged(cloud):
    store, warehouse = cloud
    unit = Unit("user1", "steps", "dailyRollUp", date(2026, 11, 2), date(2026, 11, 3), "backfill")
    store.create("raw/q/bad.json", b"{}", {"unit": encode(unit).decode()}, "application/json")
    ctx = TransformContext(store=store, warehouse=warehouse, queue=None,  # type: ignore[arg-type]
                           clock=lambda: datetime(2026, 11, 6, 1, tzinfo=timezone.utc))
    for i, day in enumerate(("2026-11-01", "2026-11-03", "2026-11-04")):
        warehouse.stage(STEPS, [_steps(f"raw/q/good-{i}.json", 100 + i, day)], f"raw/q/good-{i}.json")
        warehouse.stage(PROCESSING_LOG_TABLE, [_log_row(f"raw/q/good-{i}.json")], f"raw/q/good-{i}.json")
    warehouse.stage(STEPS, [_steps("raw/q/bad.json", 2**63, "2026-11-02")], "raw/q/bad.json")
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/q/bad.json")], "raw/q/bad.json")
    result = flush_job.flush(ctx)
    assert result.blocked == {}
    assert result["steps_daily"] == 3
    (q,) = result.quarantined
    assert q.batch_id == "raw/q/bad.json" and q.location.endswith("/quarantine/steps_daily/raw_q_bad.json.ndjson")
    assert str(2**63) not in q.reason
    assert sorted(r[0] for r in warehouse.query("SELECT steps FROM steps_daily WHERE raw_object LIKE 'raw/q/%'")) \
        == [100, 101, 102]
    status = dict(warehouse.query("SELECT raw_object, status FROM processing_log WHERE raw_object LIKE 'raw/q/%'"))
    assert status == {"raw/q/good-0.json": "loaded", "raw/q/good-1.json": "loaded", "raw/q/good-2.json": "loaded",
                      "raw/q/bad.json": "quarantined"}
    _, gcs = warehouse._clients()
    left = sorted(b.name for b in gcs.bucket(warehouse.staging_bucket).list_blobs())
    assert left == ["quarantine/steps_daily/raw_q_bad.json.ndjson", "quarantine/steps_daily/raw_q_bad.json.reason.json"]


def test_the_scheduled_flush_hands_an_object_no_event_named_to_transform_load(cloud):
    store, warehouse = cloud
    doc = {"unit": {"participant": "user2", "data_type": "sleep", "method": "list", "start": "2026-11-01"},
           "error_class": "ReconsentNeeded", "fix": "authorise again"}
    name = f"errors/user2/{uuid.uuid4().hex}.json"
    assert store.create(name, json.dumps(doc).encode(), {}, "application/json")  # this bucket notifies nobody
    ctx = TransformContext(store=store, warehouse=warehouse, queue=None,  # type: ignore[arg-type]
                           clock=lambda: datetime.now(timezone.utc), sweep=SweepPolicy(grace_s=0))
    outcome = handle_object(StoredObject(store.bucket, "control/flush-test.json", "1"), ctx)
    assert outcome.startswith("flushed:")
    assert warehouse.query(f"SELECT status, error_class FROM processing_log WHERE raw_object = '{name}'") == [
        ("failed", "ReconsentNeeded")]
    again = handle_object(StoredObject(store.bucket, "control/flush-test.json", "1"), ctx)
    assert again.endswith(" 0 orphans"), "an object with an outcome is no orphan"


def test_dead_letters_are_counted_shown_and_replayed_to_their_source_topic(gcp_env, monkeypatch):
    from google.cloud import pubsub_v1
    from google.pubsub_v1 import types

    units = f"dlq-{uuid.uuid4().hex[:8]}"
    dead, source, hold = f"{units}-dead-letter", f"{units}-extract", f"{units}-dead-letter-hold"
    gcp_env.ensure_topics([units, dead])
    with gcp_env.client_env():
        subscriber, publisher = pubsub_v1.SubscriberClient(), pubsub_v1.PublisherClient()
    project = gcp_env.project
    topic = lambda name: publisher.topic_path(project, name)  # noqa: E731
    sub = lambda name: subscriber.subscription_path(project, name)  # noqa: E731
    subscriber.create_subscription(request=types.Subscription(name=sub(hold), topic=topic(dead)))
    subscriber.create_subscription(request=types.Subscription(
        name=sub(source), topic=topic(units), ack_deadline_seconds=10,
        dead_letter_policy={"dead_letter_topic": topic(dead), "max_delivery_attempts": 5}))
    unit = Unit("user1", "steps", "reconcile", date(2026, 11, 1), date(2026, 11, 2), "daily")
    publisher.publish(topic(units), encode(unit), origin="test").result(timeout=30)
    _nack_until_dead_lettered(subscriber, sub(source), sub(hold))

    monkeypatch.setenv("FITBIT_RUNTIME", "gcp")
    monkeypatch.setenv("GCP_PROJECT", project)
    monkeypatch.setenv("UNITS_TOPIC", units)
    out = io.StringIO()
    assert dead_letters.main([], out=out) == 0
    assert out.getvalue().splitlines() == [f"dead letters: 1 ({source}: 1)", f"  {source}: {unit.label} (5 attempts)"]
    out = io.StringIO()
    assert dead_letters.main(["--replay"], out=out) == 0, "shown messages were released, so they are replayed"
    assert "dead letters: replayed 1" in out.getvalue()
    received = _pull(subscriber, sub(source))
    assert [decode(r.message.data) for r in received] == [unit]
    assert dict(received[0].message.attributes) == {"origin": "test"}
    subscriber.acknowledge(subscription=sub(source), ack_ids=[r.ack_id for r in received])
    assert _pull(subscriber, sub(hold), wait_s=2) == [], "the hold subscription acknowledged it"


def _pull(subscriber, subscription: str, wait_s: float = 30.0) -> list:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        response = subscriber.pull(subscription=subscription, max_messages=10, return_immediately=True, timeout=10)
        if response.received_messages:
            return list(response.received_messages)
        time.sleep(0.2)
    return []


def _nack_until_dead_lettered(subscriber, source: str, hold: str) -> None:
    """Nack every delivery (a function failing) until Pub/Sub moves the message to the dead-letter topic."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for received in _pull(subscriber, source, wait_s=1):
            subscriber.modify_ack_deadline(subscription=source, ack_ids=[received.ack_id], ack_deadline_seconds=0)
        letters = _pull(subscriber, hold, wait_s=0.5)
        if letters:
            subscriber.modify_ack_deadline(subscription=hold, ack_ids=[r.ack_id for r in letters],
                                           ack_deadline_seconds=0)
            return
    raise AssertionError("the emulator never dead-lettered the message")
