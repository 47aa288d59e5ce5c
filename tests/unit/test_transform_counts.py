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
