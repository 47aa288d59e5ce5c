"""``export --runtime gcp``: one BigQuery table or view into a scratch DuckDB table, which export then writes.

Why a scratch DuckDB: the embedded export writes CSV and Parquet with DuckDB's ``COPY ... TO`` (no pyarrow,
no pandas in the CLI), and pseudonymises with the same SQL; filling an in-memory DuckDB table from BigQuery
lets both runtimes share that code. The date and participant filters run in BigQuery, so only the rows
exported leave it; the rows arrive page by page and are staged through one NDJSON file on disk (memory holds
one page, not the table). The table's types come from BigQuery's own schema (``tables.get``, free).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.cli.common import rows_filter

# BigQuery standard SQL types -> DuckDB; nested and repeated fields, JSON and GEOGRAPHY travel as JSON text.
DUCKDB_TYPES = {
    "STRING": "VARCHAR", "BYTES": "BLOB", "INTEGER": "BIGINT", "INT64": "BIGINT", "FLOAT": "DOUBLE",
    "FLOAT64": "DOUBLE", "NUMERIC": "DECIMAL(38, 9)", "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE", "TIME": "TIME", "DATETIME": "TIMESTAMP",
}


def duckdb_type(field: Any) -> str:
    if field.mode == "REPEATED":
        return "VARCHAR"
    return DUCKDB_TYPES.get(field.field_type, "VARCHAR")


def _value(value: Any) -> Any:
    return json.dumps(value, default=str, sort_keys=True) if isinstance(value, (dict, list)) else value


@contextmanager
def scratch(warehouse: Any, name: str, args: argparse.Namespace) -> Iterator[Any]:
    """An in-memory DuckDB holding ``name``'s exported rows as table ``name`` (same columns, same order)."""
    import duckdb
    from google.cloud import bigquery

    bq, _ = warehouse._clients()  # the adapter's client: same project, endpoint and credentials
    schema = bq.get_table(f"{warehouse.project}.{warehouse.dataset}.{name}").schema
    columns = [f.name for f in schema]
    config = bigquery.QueryJobConfig(default_dataset=f"{warehouse.project}.{warehouse.dataset}")
    rows = bq.query(f"SELECT * FROM `{name}`{rows_filter(columns, args)}", job_config=config).result(page_size=10_000)
    db = duckdb.connect()
    try:
        db.execute("SET TimeZone = 'UTC'")
        with tempfile.TemporaryDirectory(prefix="fitbit-export-") as tmp:
            path = Path(tmp) / f"{name}.ndjson"
            with path.open("w", encoding="utf-8") as out:
                for row in rows:
                    out.write(json.dumps({c: _value(v) for c, v in zip(columns, row.values())}, default=str) + "\n")
            types = ", ".join(f"'{f.name}': '{duckdb_type(f)}'" for f in schema)
            db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_json(?, format = \'newline_delimited\', '
                       f"columns = {{{types}}})", [str(path)])
        yield db
    finally:
        db.close()
