"""SQL generated from the catalogue: BigQuery DDL and MERGE, transpiled to DuckDB for the embedded default.

One dialect is written (BigQuery's) and the embedded warehouse runs it through sqlglot, so the two
runtimes cannot drift apart table by table. The dataset is a parameter; no project id is baked in.
"""

from __future__ import annotations

import functools
import logging

import sqlglot

from fitbit.catalogue import Column, TableSpec

# sqlglot warns that DuckDB has no PARTITION BY / CLUSTER BY / OPTIONS; dropping them is intended.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

DUCKDB_TYPES = {
    "STRING": "VARCHAR", "INT64": "BIGINT", "FLOAT64": "DOUBLE", "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ", "DATETIME": "TIMESTAMP", "DATE": "DATE", "JSON": "JSON",
}
STAGING_SUFFIX = "__staging"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_table(table: TableSpec, dataset: str) -> str:
    """CREATE TABLE IF NOT EXISTS in BigQuery SQL (never CREATE OR REPLACE on data tables)."""
    key = set(table.key)
    cols = ",\n".join(
        f"  {c.name} {c.type}{' NOT NULL' if c.name in key else ''} OPTIONS(description={_quote(c.description)})"
        for c in table.columns
    )
    part_col = next(c for c in table.columns if c.name == table.partition_field)
    partition = table.partition_field if part_col.type == "DATE" else f"DATE({table.partition_field})"
    return (
        f"CREATE TABLE IF NOT EXISTS `{dataset}.{table.name}` (\n{cols}\n)\n"
        f"PARTITION BY {partition}\n"
        f"CLUSTER BY {', '.join(table.cluster_fields)}\n"
        f"OPTIONS(description={_quote(table.description)});\n"
    )


def version_column(table: TableSpec) -> str:
    """The column that says which of two versions of a row is newer."""
    return "fetched_at" if "fetched_at" in table.column_names else "processed_at"


def merge(table: TableSpec, dataset: str, staging: str | None = None) -> str:
    """MERGE the staging table into the table by natural key.

    A newer fetch whose values differ updates the row in place; an older fetch, a replay, or a re-fetch
    with the same values changes nothing (not even the lineage columns).
    """
    staging = staging or table.name + STAGING_SUFFIX
    version = version_column(table)
    keys = ", ".join(table.key)
    on = " AND ".join(f"T.{k} = S.{k}" for k in table.key)
    updates = ", ".join(f"{c} = S.{c}" for c in table.column_names if c not in table.key)
    changed = " OR ".join(_distinct(c) for c in table.columns if c.name not in (*table.key, *LINEAGE_ONLY))
    cols = ", ".join(table.column_names)
    values = ", ".join(f"S.{c}" for c in table.column_names)
    return (
        f"MERGE `{dataset}.{table.name}` T\n"
        f"USING (SELECT * FROM `{dataset}.{staging}` "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {version} DESC, raw_object DESC) = 1) S\n"
        f"ON {on}\n"
        f"WHEN MATCHED AND S.{version} >= T.{version} AND ({changed}) THEN UPDATE SET {updates}\n"
        f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})"
    )


# Columns that say where a value came from, not what it is: a newer fetch with the same values leaves the row
# (and so its lineage, pointing at the object that first produced the values) untouched.
LINEAGE_ONLY = ("raw_object", "fetched_at", "loaded_at", "processed_at")


def _distinct(column: Column) -> str:
    if column.type == "JSON":  # JSON has no equality in BigQuery: compare its canonical text
        return f"TO_JSON_STRING(T.{column.name}) IS DISTINCT FROM TO_JSON_STRING(S.{column.name})"
    return f"T.{column.name} IS DISTINCT FROM S.{column.name}"


@functools.lru_cache(maxsize=1024)  # pure; each warehouse re-issues the same DDL, views and MERGEs
def to_duckdb(sql: str) -> str:
    return ";\n".join(sqlglot.transpile(sql, read="bigquery", write="duckdb"))
