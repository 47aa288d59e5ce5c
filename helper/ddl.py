"""SQL generated from the catalogue: BigQuery DDL and MERGE, transpiled to DuckDB for the embedded default.

One dialect is written (BigQuery's) and the embedded warehouse runs it through sqlglot, so the two
runtimes cannot drift apart table by table. The dataset is a parameter; no project id is baked in.

Why the MERGE carries constant dates: BigQuery bills a MERGE for every partition of the target it may
touch, and it prunes partitions only on a filter it can evaluate before the query runs; a join condition
or a subquery on the staging table does not prune (checked 2026-11-30 against the "Querying partitioned
tables" and DML pricing pages). So the warehouse first reads the staged partition dates
(``staged_dates``), and ``merge`` renders them as literal ranges on the target (``partition_filter``):
the scan grows with the days staged, not with the history. docs/cost.md has the cost model.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import date, timedelta

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
    part_col = _partition_column(table)
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


def merge(table: TableSpec, dataset: str, staging: str | None = None,
          dates: Iterable[date | None] | None = None) -> str:
    """MERGE the staging table into the table by natural key, touching only the staged days' partitions.

    A newer fetch whose values differ updates the row in place; an older fetch, a replay, or a re-fetch
    with the same values changes nothing (not even the lineage columns).

    Args:
        table: the catalogue table.
        dataset: the dataset (DuckDB schema) holding the table and the staging table.
        staging: the staging table's name; ``<table>__staging`` by default.
        dates: the partition dates of the staged rows (``staged_dates``; None for a row without one). The
            target is pruned to these days widened by ``partition_slack_days``. None renders no filter
            (the whole target may be scanned): only for callers that cannot know the staged rows.
    """
    staging = staging or table.name + STAGING_SUFFIX
    version = version_column(table)
    keys = ", ".join(table.key)
    on = " AND ".join(f"T.{k} = S.{k}" for k in table.key)
    updates = ", ".join(f"{c} = S.{c}" for c in table.column_names if c not in (*table.key, *WAREHOUSE_MAINTAINED))
    changed = " OR ".join(_distinct(c) for c in table.columns
                          if c.name not in (*table.key, *LINEAGE_ONLY, *WAREHOUSE_MAINTAINED))
    cols = ", ".join(table.column_names)
    values = ", ".join(f"S.{c}" for c in table.column_names)
    return (
        f"MERGE `{dataset}.{table.name}` T\n"
        f"USING (SELECT * FROM `{dataset}.{staging}` "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY {version} DESC, raw_object DESC) = 1) S\n"
        f"ON {on}{'' if dates is None else ' AND ' + partition_filter(table, dates)}\n"
        f"WHEN MATCHED AND S.{version} >= T.{version} AND ({changed}) THEN UPDATE SET {updates}\n"
        f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({values})"
    )


# How far a row's partition date may move between two fetches of the same natural key. When the key holds
# the partition column the row cannot move. Otherwise the date is the civil date of an instant in the key
# (or of the session / unit the row belongs to), read with the UTC offset of the time: a re-fetch after the
# participant changed time zone (rollUp rows take the account's zone) sees another offset. Offsets span
# UTC-12 to UTC+14, 26 hours, so one instant's civil date can move by at most two days. A session edited in
# the app by more than two days is the one case this does not cover (docs/cost.md, "What the range misses").
PARTITION_SLACK_DAYS = 2


def partition_slack_days(table: TableSpec) -> int:
    """Days to widen the staged partition dates by so that a row whose date moved is still matched."""
    return 0 if table.partition_field in table.key else PARTITION_SLACK_DAYS


def staged_dates(table: TableSpec, dataset: str, staging: str) -> str:
    """The query for the distinct partition dates of the staged rows (the input of ``merge``'s ``dates``)."""
    column = _partition_column(table)
    day = column.name if column.type == "DATE" else f"DATE({column.name})"
    return f"SELECT DISTINCT {day} AS day FROM `{dataset}.{staging}`"


def partition_filter(table: TableSpec, dates: Iterable[date | None]) -> str:
    """A filter on the target's partition column made of literal date ranges, which BigQuery can prune by.

    The staged days, widened by ``partition_slack_days``, are coalesced into ranges (a backfill of 90 days is
    one range, a daily re-read of three days plus a late row from last month is two). A staged row with no
    partition date adds the NULL partition. Nothing staged renders FALSE (no partition is touched).
    """
    column = _partition_column(table)
    days = set(dates)
    slack = timedelta(days=partition_slack_days(table))
    ranges: list[list[date]] = []
    for day in sorted(d for d in days if d is not None):
        lo, hi = day - slack, day + slack
        if ranges and lo <= ranges[-1][1] + timedelta(days=1):
            ranges[-1][1] = max(ranges[-1][1], hi)
        else:
            ranges.append([lo, hi])
    name = f"T.{column.name}"
    terms = [_date_range(name, column.type, lo, hi) for lo, hi in ranges]
    if None in days:
        terms.append(f"{name} IS NULL")
    return "(" + " OR ".join(terms or ["FALSE"]) + ")"


def _date_range(name: str, kind: str, lo: date, hi: date) -> str:
    if kind == "DATE":
        return f"{name} BETWEEN DATE '{lo.isoformat()}' AND DATE '{hi.isoformat()}'"
    # A TIMESTAMP column partitioned by DATE(column) (create_table) prunes on half-open UTC instants.
    return (f"({name} >= TIMESTAMP '{lo.isoformat()} 00:00:00+00' AND "
            f"{name} < TIMESTAMP '{(hi + timedelta(days=1)).isoformat()} 00:00:00+00')")


def _partition_column(table: TableSpec) -> Column:
    return next(c for c in table.columns if c.name == table.partition_field)


# Columns that say where a value came from, not what it is: a newer fetch with the same values leaves the row
# (and so its lineage, pointing at the object that first produced the values) untouched.
LINEAGE_ONLY = ("raw_object", "fetched_at", "loaded_at", "processed_at")
# Columns the warehouse sets after a flush, never a load (helper/tombstones.py): a MERGE leaves them alone.
WAREHOUSE_MAINTAINED = ("deleted_at",)


def _distinct(column: Column) -> str:
    if column.type == "JSON":  # JSON has no equality in BigQuery: compare its canonical text
        return f"TO_JSON_STRING(T.{column.name}) IS DISTINCT FROM TO_JSON_STRING(S.{column.name})"
    return f"T.{column.name} IS DISTINCT FROM S.{column.name}"


@functools.lru_cache(maxsize=1024)  # pure; each warehouse re-issues the same DDL, views and MERGEs
def to_duckdb(sql: str) -> str:
    return ";\n".join(sqlglot.transpile(sql, read="bigquery", write="duckdb"))
