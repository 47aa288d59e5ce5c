"""A warehouse created by an older release is brought up to the catalogue: missing columns are added
(ALTER TABLE ... ADD COLUMN IF NOT EXISTS), old rows keep their values, and the new parser's rows load.

Baselines are frozen DDL snapshots under tests/schema_baselines/ (one per release; never edited)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fitbit.catalogue import all_tables, table_spec
from helper import ddl, migrate
from helper.sql import with_dataset
from helper.warehouse import DuckDbWarehouse

BASELINES = sorted((Path(__file__).resolve().parents[1] / "schema_baselines").glob("*.sql"))


def _columns(wh: DuckDbWarehouse) -> dict[str, set[str]]:
    rows = wh._db.execute("SELECT table_name, column_name FROM information_schema.columns "
                          "WHERE table_schema = 'fitbit'").fetchall()
    return migrate.columns_by_table(rows)


@pytest.mark.parametrize("baseline", BASELINES, ids=lambda p: p.stem)
def test_an_old_schema_warehouse_is_migrated_and_keeps_its_rows(tmp_path, baseline):
    import duckdb

    path = tmp_path / "old.duckdb"
    db = duckdb.connect(str(path))
    db.execute('CREATE SCHEMA "fitbit"')
    for statement in ddl.to_duckdb(with_dataset(baseline.read_text(), "fitbit")).split(";\n"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO fitbit.weight (participant_id, civil_date, sample_time, source_key, weight_grams) "
               "VALUES ('p1', DATE '2026-11-02', TIMESTAMPTZ '2026-11-02 06:30:00+00', 'abc', 70500.0)")
    db.close()
    wh = DuckDbWarehouse(path, "fitbit", tmp_path / "staging")
    old = _columns(wh)
    assert "deleted_at" not in old["weight"] and "offset_source" not in old["steps_intraday"]
    wh.ensure_schema()
    migrated = _columns(wh)
    assert migrated == {t.name: set(t.column_names) for t in all_tables()} | {
        name: cols for name, cols in migrated.items() if name not in {t.name for t in all_tables()}}
    assert wh.query("SELECT weight_grams, deleted_at, data_point_name FROM weight") == [(70500.0, None, None)]
    wh.stage(table_spec("weight", "list"), [{"participant_id": "p1", "civil_date": "2026-11-03",
                                              "sample_time": "2026-11-03T06:30:00Z", "source_key": "abc",
                                              "offset_source": "point", "data_point_name": "w/2",
                                              "weight_grams": 70400.0, "fetched_at": "2026-11-03T07:00:00Z",
                                              "raw_object": "raw/x"}], "raw/x")
    wh.flush()
    assert wh.query("SELECT COUNT(*) FROM weight") == [(2,)]
    wh.close()
    again = DuckDbWarehouse(path, "fitbit", tmp_path / "staging")
    again.ensure_schema()  # up to date: nothing to add, nothing changes
    assert _columns(again) == migrated
    again.close()


def test_a_missing_key_column_is_refused_as_not_additive():
    table = table_spec("weight", "list")
    existing = {"weight": set(table.column_names) - {"source_key"}}
    with pytest.raises(ValueError, match="not an additive change"):
        migrate.missing_columns(existing, [table])


def test_bigquery_gets_alter_table_add_column_with_the_description():
    column = next(c for c in table_spec("weight", "list").columns if c.name == "deleted_at")
    sql = migrate.add_column_bigquery("weight", column, "fitbit")
    assert sql.startswith("ALTER TABLE `fitbit.weight` ADD COLUMN IF NOT EXISTS deleted_at TIMESTAMP OPTIONS(")
