"""Bring an existing warehouse's tables up to the catalogue: add the columns they lack (both warehouses).

Why: the DDL is ``CREATE TABLE IF NOT EXISTS``, so a table created by an older release keeps its old
columns and every load of a newer parser would be refused (an unknown field). Schema changes are additive
by rule (new NULLABLE columns only; style principle 13), so bringing a table up to date is
``ALTER TABLE ... ADD COLUMN IF NOT EXISTS`` for each missing column, in BigQuery SQL on BigQuery and in
DuckDB's dialect on the embedded warehouse. A missing key column cannot be added (its rows would have no
key): that is refused with an error naming the table, not papered over.

The existing columns are read in one query per warehouse (``INFORMATION_SCHEMA.COLUMNS``), so a warm
start of an up-to-date warehouse costs one query and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fitbit.catalogue import Column, TableSpec, all_tables

__all__ = ["add_column_bigquery", "add_column_duckdb", "add_missing_columns", "missing_columns"]

# BigQuery SQL type -> DuckDB type (the same mapping helper.ddl uses; kept here so this module stands alone).
_DUCKDB_TYPES = {
    "STRING": "VARCHAR", "INT64": "BIGINT", "FLOAT64": "DOUBLE", "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ", "DATETIME": "TIMESTAMP", "DATE": "DATE", "JSON": "JSON",
}


def missing_columns(existing: Mapping[str, set[str]], tables: Iterable[TableSpec] | None = None,
                    ) -> dict[str, list[Column]]:
    """The catalogue columns each existing table lacks, in catalogue order (tables not yet created are skipped).

    Raises:
        ValueError: a table lacks a key column (not an additive change).
    """
    out: dict[str, list[Column]] = {}
    for table in tables or all_tables():
        have = existing.get(table.name)
        if not have:
            continue
        lacking = [c for c in table.columns if c.name not in have]
        keys = [c.name for c in lacking if c.name in table.key]
        if keys:
            raise ValueError(f"table {table.name} lacks key column(s) {keys}: not an additive change")
        if lacking:
            out[table.name] = lacking
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def add_column_bigquery(table: str, column: Column, dataset: str) -> str:
    return (f"ALTER TABLE `{dataset}.{table}` ADD COLUMN IF NOT EXISTS {column.name} {column.type} "
            f"OPTIONS(description={_quote(column.description)})")


def add_column_duckdb(table: str, column: Column, dataset: str) -> str:
    return f'ALTER TABLE "{dataset}"."{table}" ADD COLUMN IF NOT EXISTS {column.name} {_DUCKDB_TYPES[column.type]}'


def add_missing_columns(execute: Callable[[str], Any], existing: Mapping[str, set[str]], dataset: str, *,
                        duckdb: bool) -> dict[str, list[str]]:
    """Add every missing column; return the column names added per table."""
    build = add_column_duckdb if duckdb else add_column_bigquery
    added: dict[str, list[str]] = {}
    for table, columns in missing_columns(existing).items():
        for column in columns:
            execute(build(table, column, dataset))
        added[table] = [c.name for c in columns]
    return added


def columns_by_table(rows: Iterable[tuple[Any, ...]]) -> dict[str, set[str]]:
    """``{table: {column, ...}}`` from ``(table_name, column_name)`` rows of INFORMATION_SCHEMA.COLUMNS."""
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(str(table), set()).add(str(column))
    return out
