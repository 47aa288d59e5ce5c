"""Issue #12 on the emulated BigQuery: an old-schema dataset is migrated (ALTER TABLE ADD COLUMN), and a
record deleted at the source is marked deleted_at by the tombstone UPDATE exactly as on DuckDB, across
flushes and replays. Skipped without the emulators (REQUIRE_EMULATORS=1 makes that a failure)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import pytest

from fitbit.catalogue import all_tables, table_named
from fitbit.parse import PageContext, parse_page
from helper.sql import with_dataset
from helper.warehouse import BigQueryWarehouse, DuckDbWarehouse

pytestmark = [pytest.mark.emulator, pytest.mark.slow]
BASELINE = Path(__file__).resolve().parents[1] / "schema_baselines" / "2026-11-30.sql"
SCALE = {"recordingMethod": "PASSIVELY_MEASURED", "platform": "FITBIT", "device": {"formFactor": "SCALE"}}


def _bigquery(stack, name: str) -> BigQueryWarehouse:
    suffix = uuid.uuid4().hex[:8]
    stack.ensure_buckets([f"staging-{suffix}"])
    warehouse = BigQueryWarehouse(stack.project, f"{name}_{suffix}", f"staging-{suffix}",
                                  endpoint=stack.env["BIGQUERY_EMULATOR_HOST"])
    with stack.client_env():
        warehouse._clients()
    return warehouse


def test_an_old_schema_dataset_gets_the_missing_columns_and_keeps_its_rows(emulator_stack):
    warehouse = _bigquery(emulator_stack, "migrate")
    bq, _ = warehouse._clients()
    bq.create_dataset(warehouse.dataset, exists_ok=True)
    for statement in with_dataset(BASELINE.read_text(), warehouse.dataset).split(";\n"):
        if "CREATE TABLE" in statement:
            bq.query(statement).result()
    bq.query(f"INSERT INTO `{warehouse.dataset}.weight` (participant_id, civil_date, sample_time, source_key, "
             "weight_grams) VALUES ('p1', DATE '2026-11-02', TIMESTAMP '2026-11-02 06:30:00+00', 'abc', 70500.0)"
             ).result()
    warehouse.ensure_schema()
    rows = bq.query(f"SELECT table_name, column_name FROM `{warehouse.dataset}`.INFORMATION_SCHEMA.COLUMNS").result()
    columns: dict[str, set[str]] = {}
    for row in rows:
        columns.setdefault(row[0], set()).add(row[1])
    for table in all_tables():
        assert columns[table.name] == set(table.column_names), table.name
    assert warehouse.query("SELECT weight_grams, deleted_at FROM weight") == [(70500.0, None)]


def _page(day: int, fetched: str, points: list[tuple[int, int]], raw: str) -> dict[str, list[dict]]:
    body = {"dataPoints": [{"name": f"users/1/dataTypes/weight/dataPoints/{n}", "dataSource": SCALE, "weight": {
        "sampleTime": {"physicalTime": f"2026-11-{d:02d}T06:30:00Z", "utcOffset": "3600s"}, "weightGrams": 7e4}}
        for n, d in points]}
    ctx = PageContext("p1", "weight", "list", raw, fetched, "Europe/Berlin", civil_date=date(2026, 11, day),
                      window_end=date(2026, 11, day + 3))
    rows = parse_page(ctx, json.dumps(body)).rows
    for table_rows in rows.values():
        for row in table_rows:
            row["loaded_at"] = fetched
    return rows


def _stage(warehouse, rows: dict[str, list[dict]], batch: str) -> None:
    for table, table_rows in rows.items():
        warehouse.stage(table_named(table), table_rows, batch)


def test_a_deleted_weight_is_marked_on_bigquery_as_on_duckdb(emulator_stack, tmp_path):
    bigquery = _bigquery(emulator_stack, "tombstones")
    duck = DuckDbWarehouse(tmp_path / "w.duckdb", bigquery.dataset, tmp_path / "staging")
    first = _page(1, "2026-11-05T10:00:00Z", [(1, 2), (2, 3)], "raw/p1/weight/a.json")
    second = _page(1, "2026-11-06T10:00:00Z", [(1, 2)], "raw/p1/weight/b.json")
    answers = []
    for warehouse in (bigquery, duck):
        warehouse.ensure_schema()  # as helper.compose does before transform_load's first stage
        _stage(warehouse, first, "raw/p1/weight/a.json")
        warehouse.flush()
        _stage(warehouse, second, "raw/p1/weight/b.json")
        warehouse.flush()
        _stage(warehouse, first, "raw/p1/weight/a.json")  # a replayed old page
        warehouse.flush()
        answers.append(sorted(warehouse.query("SELECT data_point_name, CAST(deleted_at AS STRING) FROM weight"),
                              key=repr))
    assert answers[0] == answers[1]
    assert [d is not None for _, d in answers[0]] == [False, True]
    duck.close()
