"""The embedded adapters behave like their cloud twins: create-if-absent objects with notifications,
a queue that holds deferred units back, and a warehouse whose loads are idempotent by natural key."""

from datetime import date, datetime, timedelta, timezone

import pytest

from fitbit.catalogue import PROCESSING_LOG_TABLE, table_spec
from fitbit.messages import Unit, decode
from helper.cloudevents import PUBSUB_EVENT, STORAGE_FINALIZED, message_from_pubsub_event
from helper.queue import LocalQueue
from helper.storage import LocalRawStore


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def test_objects_are_created_once_and_never_overwritten(tmp_path):
    events = []
    store = LocalRawStore(tmp_path, "raw-bucket", on_finalize=lambda obj, size, at: events.append((obj, size)))
    assert store.create("raw/a/b.json", b"{}", {"k": "v"}, "application/json") is True
    assert store.create("raw/a/b.json", b'{"other": 1}', {"k": "w"}, "application/json") is False
    blob = store.read("raw/a/b.json")
    assert blob.body == b"{}" and blob.metadata == {"k": "v"}
    assert [(e.name, size) for e, size in events] == [("raw/a/b.json", 2)]
    assert store.exists("raw/a/") and store.exists("raw/a/b") and not store.exists("raw/z/")


def test_object_names_cannot_escape_the_store(tmp_path):
    with pytest.raises(ValueError):
        LocalRawStore(tmp_path, "b").create("../evil", b"", {}, "text/plain")


def test_the_queue_delivers_eventarc_shapes_and_holds_deferred_units(tmp_path):
    clock = Clock()
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=clock)
    later = Unit("user1", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 6), "retry", attempt=1,
                 not_before=clock.now + timedelta(seconds=30))
    now = Unit("user1", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 6), "daily")
    queue.publish([later, now])
    store = LocalRawStore(tmp_path, "raw-bucket", on_finalize=queue.object_finalized)
    store.create("raw/x.json", b"{}", {}, "application/json")
    first = queue.pop_ready()
    assert first.event_type == PUBSUB_EVENT and decode(message_from_pubsub_event(first.data)) == now
    assert first.attributes()["source"].startswith("//pubsub.googleapis.com/projects/")
    queue.ack(first)
    second = queue.pop_ready()
    assert second.event_type == STORAGE_FINALIZED and second.data["name"] == "raw/x.json"
    assert second.data["bucket"] == "raw-bucket" and isinstance(second.data["generation"], str)
    assert second.subject == "objects/raw/x.json"
    queue.ack(second)
    assert queue.pop_ready() is None and len(queue) == 1
    clock.now += timedelta(seconds=31)
    assert decode(message_from_pubsub_event(queue.pop_ready().data)) == later


def _row(steps, fetched, obj):
    return {"participant_id": "user1", "civil_date": "2026-11-01", "steps": steps, "raw_object": obj,
            "parser_version": "t", "fetched_at": fetched, "loaded_at": fetched}


def test_merging_is_idempotent_and_the_newest_fetch_wins(warehouse):
    table = table_spec("steps", "dailyRollUp")
    warehouse.stage(table, [_row(100, "2026-11-02T00:00:00Z", "a")], "a")
    warehouse.stage(table, [_row(150, "2026-11-03T00:00:00Z", "b")], "b")
    assert warehouse.flush() == {"steps_daily": 2}
    warehouse.stage(table, [_row(100, "2026-11-02T00:00:00Z", "a")], "a")  # a replay of the older page
    warehouse.flush()
    assert warehouse.query("SELECT COUNT(*), MAX(steps) FROM steps_daily") == [(1, 150)]


def test_restaging_a_batch_replaces_it(warehouse):
    table = table_spec("steps", "dailyRollUp")
    warehouse.stage(table, [_row(1, "2026-11-02T00:00:00Z", "a")], "a")
    warehouse.stage(table, [_row(2, "2026-11-02T00:00:00Z", "a")], "a")
    warehouse.flush()
    assert warehouse.query("SELECT steps FROM steps_daily") == [(2,)]


def test_flush_with_nothing_staged_changes_nothing(warehouse):
    assert warehouse.flush() == {}


def test_json_columns_and_timestamps_load(warehouse):
    row = {"participant_id": "u", "civil_date": "2026-11-01", "raw_object": "o", "data_type": "steps",
           "method": "reconcile", "status": "loaded", "error_class": None, "fix": None,
           "row_counts": {"steps_intraday": 3}, "attempt": 0, "parser_version": "t",
           "processed_at": "2026-11-02T00:00:00.5Z"}
    warehouse.stage(PROCESSING_LOG_TABLE, [row], "o")
    warehouse.flush()
    assert warehouse.query("SELECT CAST(JSON_EXTRACT(row_counts, '$.steps_intraday') AS INT64) FROM processing_log") == [(3,)]


def test_a_newer_fetch_with_the_same_values_leaves_the_row_and_its_lineage_alone(warehouse):
    table = table_spec("sleep", "list")
    base = {c: None for c in table.column_names}
    base.update(participant_id="u", civil_date="2026-11-01", data_point_name="users/1/dataTypes/sleep/dataPoints/9",
                start_time="2026-10-31T22:00:00Z", stages=[{"type": "LIGHT"}], processed=True, minutes_asleep=400,
                parser_version="t")
    first = dict(base, raw_object="first", fetched_at="2026-11-01T08:00:00Z", loaded_at="2026-11-01T08:00:00Z")
    warehouse.stage(table, [first], "first")
    warehouse.flush()
    warehouse.stage(table, [dict(first, raw_object="second", fetched_at="2026-11-02T08:00:00Z")], "second")
    warehouse.flush()
    assert warehouse.query("SELECT raw_object, minutes_asleep FROM sleep_sessions") == [("first", 400)]
    revised = dict(first, raw_object="third", fetched_at="2026-11-03T08:00:00Z", stages=[{"type": "DEEP"}])
    warehouse.stage(table, [revised], "third")
    warehouse.flush()
    assert warehouse.query("SELECT raw_object, COUNT(*) OVER () FROM sleep_sessions") == [("third", 1)]
