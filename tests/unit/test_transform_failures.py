"""Every deterministic failure of reading an object is recorded and acknowledged (issue #11).

Before, transform_load raised (HTTP 500 → redelivery → dead letter, no ``processing_log`` row) for parse
errors outside Terminal/Key/Value/TypeError, a storage event for a missing object, metadata without or
with a malformed ``unit``, an ``errors/`` object that is not JSON, and a name with ``..``. Now each becomes
one failed ``processing_log`` row with its error class and fix, and the handler returns normally; a
Transient error still raises, so the platform redelivers.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from fitbit.errors import ServerError
from fitbit.jobs.transform import TransformContext, handle_object
from fitbit.messages import StoredObject, Unit, encode
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse

NOW = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)
UNIT = Unit("user1", "steps", "reconcile", date(2026, 11, 2), date(2026, 11, 3), "daily")
NAME = "raw/user1/steps/2026-11-02/reconcile/2026-11-02_2026-11-03/page-0000-abc.json"
PAGE = json.dumps({"dataPoints": []}).encode()


class Published:
    def __init__(self):
        self.messages = []

    def publish(self, messages):
        self.messages += list(messages)


@pytest.fixture
def env(tmp_path):
    store = LocalRawStore(tmp_path / "raw", "raw-bucket")
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    yield store, warehouse, TransformContext(store, warehouse, Published(), lambda: NOW)
    warehouse.close()


def _outcomes(warehouse):
    warehouse.flush()
    return warehouse.query("SELECT raw_object, participant_id, data_type, status, error_class, fix "
                           "FROM processing_log ORDER BY raw_object")


def _meta(**changes):
    meta = {"unit": encode(UNIT).decode(), "fetched_at": "2026-11-06T09:00:00Z"}
    meta.update(changes)
    return {k: v for k, v in meta.items() if v is not None}


@pytest.mark.parametrize(("metadata", "error_class"), [
    (_meta(unit=None), "MalformedMessage"),  # metadata without its unit
    (_meta(unit="{not json"), "MalformedMessage"),
    (_meta(unit=json.dumps({"schema": "fitbit-pipeline", "version": 1, "kind": "flush", "run_id": "r"})),
     "MalformedMessage"),  # a message, but not a unit
    (_meta(fetched_at=None), "MalformedMessage"),
    (_meta(fetched_at="[]"), "MalformedMessage"),  # found by test_fuzz_transform: a TIMESTAMP DuckDB refused
    (_meta(fetched_at="0001-01-01T00:00:00+01:00"), "MalformedMessage"),
])
def test_metadata_without_a_readable_unit_is_recorded_and_acknowledged(env, metadata, error_class):
    store, warehouse, ctx = env
    store.create(NAME, PAGE, metadata, "application/json")
    assert handle_object(StoredObject("raw-bucket", NAME, "1"), ctx) == "failed"
    ((name, participant, data_type, status, recorded, fix),) = _outcomes(warehouse)
    assert (name, participant, data_type, status, recorded) == (NAME, "user1", "steps", "failed", error_class)
    assert fix


def test_a_storage_event_for_a_missing_object_is_recorded_and_acknowledged(env):
    _, warehouse, ctx = env
    assert handle_object(StoredObject("raw-bucket", NAME, "1"), ctx) == "failed"
    ((_, participant, _, status, error_class, fix),) = _outcomes(warehouse)
    assert (participant, status, error_class) == ("user1", "failed", "NotFound") and "deleted" in fix


@pytest.mark.parametrize("name", ["raw/../outside.json", "raw/user1/../../x.json", "errors/../raw/x.json"])
def test_a_name_with_dot_dot_is_recorded_and_acknowledged(env, name):
    _, warehouse, ctx = env
    assert handle_object(StoredObject("raw-bucket", name, "1"), ctx) == "failed"
    ((recorded, _, _, status, error_class, _),) = _outcomes(warehouse)
    assert (recorded, status, error_class) == (name, "failed", "MalformedMessage")


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"unit": "x", "error_class": 3}', b"\xff\xfe"])
def test_an_errors_object_that_is_not_what_extract_writes_is_recorded(env, body):
    store, warehouse, ctx = env
    name = "errors/user1/steps/abc.json"
    store.create(name, body, {"participant": "user1", "data_type": "steps", "method": "reconcile"},
                 "application/json")
    assert handle_object(StoredObject("raw-bucket", name, "1"), ctx) == "failed"
    ((_, participant, data_type, status, error_class, _),) = _outcomes(warehouse)
    assert (participant, data_type, status, error_class) == ("user1", "steps", "failed", "MalformedMessage")


@pytest.mark.parametrize(("body", "error_class"), [
    (b"<html>502</html>", "UnexpectedResponse"),
    (json.dumps({"dataPoints": {"a": 1}}).encode(), "UnexpectedResponse"),
    (json.dumps({"dataPoints": [{"heartRate": {"sampleTime": {"physicalTime": "2026-11-02T10:00:00Z"}}}]}).encode(),
     "TimeZoneUnknown"),  # heart-rate points without offsets and no zone: page-level
])
def test_a_page_the_parser_refuses_is_recorded_and_acknowledged(env, body, error_class):
    store, warehouse, ctx = env
    unit = Unit("user1", "heart-rate", "list", date(2026, 11, 2), date(2026, 11, 3), "daily")
    store.create(NAME, body, _meta(unit=encode(unit).decode()), "application/json")
    assert handle_object(StoredObject("raw-bucket", NAME, "1"), ctx) == "failed"
    ((_, _, _, status, recorded, fix),) = _outcomes(warehouse)
    assert (status, recorded) == ("failed", error_class) and fix


def test_a_page_whose_every_point_is_rejected_loads_its_rejections(env):
    store, warehouse, ctx = env
    body = json.dumps({"dataPoints": [{"steps": {"interval": {"startTime": 1, "endTime": 2}}}]}).encode()
    store.create(NAME, body, _meta(), "application/json")
    assert handle_object(StoredObject("raw-bucket", NAME, "1"), ctx) == "loaded"
    ((_, _, _, status, error_class, _),) = _outcomes(warehouse)
    assert (status, error_class) == ("loaded", None)
    rejected = warehouse.query("SELECT json_path, error_class FROM rejected_points")
    assert rejected == [("dataPoints[0]", "AttributeError")]


def test_a_transient_error_still_raises_for_redelivery(env):
    store, warehouse, ctx = env
    store.create(NAME, PAGE, _meta(), "application/json")

    class FlakyStore:
        bucket = "raw-bucket"

        def read(self, name):
            raise ServerError("storage answered 503")

    ctx.store = FlakyStore()
    with pytest.raises(ServerError):
        handle_object(StoredObject("raw-bucket", NAME, "1"), ctx)
