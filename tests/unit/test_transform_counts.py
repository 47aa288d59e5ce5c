"""transform_load writes what the parser counted (NaN nulled, offsets derived, names derived) to the
processing log, where a person sees it: never a value, only kinds and counts."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from fitbit.jobs.transform import TransformContext, handle_object
from fitbit.messages import StoredObject, Unit, encode
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse

NOW = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)


class Published:
    def __init__(self):
        self.messages = []

    def publish(self, messages):
        self.messages += list(messages)


def test_the_processing_log_counts_nan_values_nulled_and_offsets_derived(tmp_path):
    store = LocalRawStore(tmp_path / "raw", "raw-bucket")
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    unit = Unit("user5", "weight", "list", date(2026, 11, 1), date(2026, 11, 4), "daily")
    body = json.dumps({"dataPoints": [
        {"name": "users/1/dataTypes/weight/dataPoints/1",
         "weight": {"sampleTime": {"physicalTime": "2026-11-02T14:30:00.481Z"}, "weightGrams": "NaN"}},
        {"name": "users/1/dataTypes/weight/dataPoints/2",
         "weight": {"sampleTime": {"physicalTime": "2026-11-03T14:30:00Z"}, "weightGrams": 71000.0}},
    ]}).encode()
    name = "raw/user5/weight/2026-11-01/list/2026-11-01_2026-11-04/page-0000-abc.json"
    store.create(name, body, {"unit": encode(unit).decode(), "fetched_at": "2026-11-06T09:00:00Z",
                              "time_zone": "America/Los_Angeles"}, "application/json")
    ctx = TransformContext(store, warehouse, Published(), lambda: NOW)
    assert handle_object(StoredObject("raw-bucket", name, "1"), ctx) == "loaded"
    warehouse.flush()
    (status, counts), = warehouse.query("SELECT status, parse_counts FROM processing_log")
    assert status == "loaded"
    assert json.loads(counts) == {"non_finite_nulled": 1, "offsets_derived": 2}
    rows = warehouse.query("SELECT weight_grams, offset_source, utc_offset_s FROM weight ORDER BY sample_time")
    assert rows == [(None, "account_time_zone", -28800), (71000.0, "account_time_zone", -28800)]
    warehouse.close()


def test_a_rejected_point_lands_in_rejected_points_and_the_rest_of_its_page_loads(tmp_path):
    from tools.summary import render_live_shapes, summarise

    store = LocalRawStore(tmp_path / "raw", "raw-bucket")
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    unit = Unit("user1", "steps", "reconcile", date(2026, 11, 2), date(2026, 11, 3), "daily")

    def steps(minute, count):
        return {"steps": {"interval": {"startTime": f"2026-11-02T10:{minute:02d}:00Z", "startUtcOffset": "3600s",
                                       "endTime": f"2026-11-02T10:{minute + 1:02d}:00Z", "endUtcOffset": "3600s"},
                          "count": count}}

    body = json.dumps({"dataPoints": [steps(0, "12"), steps(1, str(2**64)), steps(2, "7")]}).encode()
    name = "raw/user1/steps/2026-11-02/reconcile/2026-11-02_2026-11-03/page-0000-abc.json"
    store.create(name, body, {"unit": encode(unit).decode(), "fetched_at": "2026-11-06T09:00:00Z"},
                 "application/json")
    assert handle_object(StoredObject("raw-bucket", name, "1"), TransformContext(
        store, warehouse, Published(), lambda: NOW)) == "loaded"
    warehouse.flush()
    assert warehouse.query("SELECT steps FROM steps_intraday ORDER BY start_time") == [(12,), (7,)]
    assert warehouse.query("SELECT participant_id, civil_date, raw_object, json_path, error_class, reason "
                           "FROM rejected_points") == [
        ("user1", date(2026, 11, 2), name, "dataPoints[1].steps.count", "ValueOutOfRange", "int64_out_of_range")]
    (counts,), = warehouse.query("SELECT parse_counts FROM processing_log")
    assert json.loads(counts) == {"points_rejected": 1}
    shown = "\n".join(render_live_shapes(summarise(warehouse).live))
    assert "points rejected (left out of their table" in shown and "): 1" in shown
    assert "steps_intraday: ValueOutOfRange int64_out_of_range x1" in shown
    warehouse.close()
