"""Warehouse adapters: DuckDB (embedded default) and BigQuery, both loading through staging + MERGE.

Why staging: BigQuery allows 1,500 modifications per table per day. Writing each raw object straight
into its table would cost one modification per participant per table per day (1,000 at 1,000
participants). Instead transform_load stages rows as NDJSON files (a local directory, or objects in the
staging bucket), and ``flush`` merges them: one load job into ``<table>__staging`` plus one MERGE into
the table per flush. Hourly flushes use 24 modifications per table per day, whatever the cohort size.
The MERGE is by natural key and keeps the newest fetch, so replays and re-fetches never duplicate rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Mapping, Sequence

from fitbit.catalogue import TableSpec, all_tables, table_named
from helper import ddl, migrate, tombstones, views


def _ndjson(rows: Sequence[Mapping[str, Any]]) -> bytes:
    return "".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in rows).encode()


class DuckDbWarehouse:
    def __init__(self, path: Path, dataset: str, staging_dir: Path) -> None:
        import duckdb

        self.path, self.dataset, self.staging_dir = Path(path), dataset, Path(staging_dir)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(str(self.path))
        self._db.execute("SET TimeZone = 'UTC'")
        self._schema_ready = False

    def close(self) -> None:
        self._db.close()

    def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        self._db.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.dataset}"')
        for table in all_tables():
            self._db.execute(ddl.to_duckdb(ddl.create_table(table, self.dataset)))
        self._add_missing_columns()
        views.create_views(self._db.execute, self.dataset, duckdb=True)
        self._schema_ready = True

    def stage(self, table: TableSpec, rows: Sequence[Mapping[str, Any]], batch_id: str) -> None:
        if not rows:
            return
        folder = self.staging_dir / table.name
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(_ndjson(rows))
        os.replace(tmp, folder / f"{_safe(batch_id)}.ndjson")

    def flush(self) -> dict[str, int]:
        self.ensure_schema()
        merged: dict[str, int] = {}
        if not self.staging_dir.is_dir():
            return merged
        for folder in sorted(p for p in self.staging_dir.iterdir() if p.is_dir()):
            files = sorted(folder.glob("*.ndjson"))
            if not files:
                continue
            table = table_named(folder.name)
            merged[table.name] = self._merge_files(table, files)
            for f in files:
                f.unlink()
        self._mark_deletions(merged)
        return merged

    # -- issue #12: schema migration and deletions (helper/migrate.py, helper/tombstones.py) --------------
    def _add_missing_columns(self) -> None:
        rows = self._db.execute("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = ?", [self.dataset]).fetchall()
        migrate.add_missing_columns(self._db.execute, migrate.columns_by_table(rows), self.dataset, duckdb=True)

    def _mark_deletions(self, merged: Mapping[str, int]) -> None:
        if tombstones.touched(merged):
            tombstones.mark_deletions(lambda sql: self._db.execute(ddl.to_duckdb(sql)), self.dataset)

    def _merge_files(self, table: TableSpec, files: list[Path]) -> int:
        staging = f'"{self.dataset}"."{table.name}{ddl.STAGING_SUFFIX}"'
        columns = "{" + ", ".join(f"'{c.name}': '{ddl.DUCKDB_TYPES[c.type]}'" for c in table.columns) + "}"
        paths = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
        self._db.execute("BEGIN")
        try:
            self._db.execute(
                f"CREATE OR REPLACE TABLE {staging} AS SELECT * FROM read_json({paths}, "
                f"format='newline_delimited', columns={columns})"
            )
            count = self._db.execute(f"SELECT count(*) FROM {staging}").fetchone()[0]
            staged = ddl.staged_dates(table, self.dataset, table.name + ddl.STAGING_SUFFIX)
            dates = [row[0] for row in self._db.execute(ddl.to_duckdb(staged)).fetchall()]
            self._db.execute(ddl.to_duckdb(ddl.merge(table, self.dataset, dates=dates)))
            self._db.execute(f"DROP TABLE {staging}")
            self._db.execute("COMMIT")
        except Exception:
            self._db.execute("ROLLBACK")
            raise
        return int(count)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        self.ensure_schema()
        self._db.execute(f'SET schema = "{self.dataset}"')
        return self._db.execute(ddl.to_duckdb(sql)).fetchall()


def _safe(batch_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in batch_id)[-180:]


class BigQueryWarehouse:
    """BigQuery through google-cloud-bigquery; staged NDJSON lives in a Cloud Storage bucket."""

    def __init__(self, project: str, dataset: str, staging_bucket: str, *, endpoint: str | None = None,
                 bigquery_client: Any = None, storage_client: Any = None) -> None:
        self.project, self.dataset, self.staging_bucket = project, dataset, staging_bucket
        self._endpoint = endpoint
        self._bq, self._gcs = bigquery_client, storage_client

    def _clients(self) -> tuple[Any, Any]:
        if self._bq is None:
            from google.cloud import bigquery

            kwargs: dict[str, Any] = {"project": self.project}
            if self._endpoint:
                from google.api_core.client_options import ClientOptions
                from google.auth.credentials import AnonymousCredentials

                kwargs.update(credentials=AnonymousCredentials(),
                              client_options=ClientOptions(api_endpoint=self._endpoint))
            self._bq = bigquery.Client(**kwargs)
        if self._gcs is None:
            from google.cloud import storage

            from helper.storage import _storage_client

            self._gcs = _storage_client(storage, self.project)
        return self._bq, self._gcs

    def ensure_schema(self) -> None:
        """Create the dataset and the tables that are missing (one DDL job each; existing ones cost nothing)."""
        from google.api_core.exceptions import NotFound

        bq, _ = self._clients()
        # get first: create_dataset needs bigquery.datasets.create on the project, which transform_load's
        # service account does not hold (provisioning creates the dataset), even with exists_ok=True.
        try:
            bq.get_dataset(self.dataset)
        except NotFound:
            bq.create_dataset(self.dataset, exists_ok=True)
        existing = {t.table_id for t in bq.list_tables(self.dataset)}
        for table in all_tables():
            if table.name not in existing:
                bq.query(ddl.create_table(table, self.dataset)).result()
        if existing & {t.name for t in all_tables()}:
            self._add_missing_columns(bq)
        views.create_views(lambda sql: bq.query(sql).result(), self.dataset,
                           current=views.bigquery_versions(bq, self.dataset))

    def stage(self, table: TableSpec, rows: Sequence[Mapping[str, Any]], batch_id: str) -> None:
        if not rows:
            return
        _, gcs = self._clients()
        blob = gcs.bucket(self.staging_bucket).blob(f"{table.name}/{_safe(batch_id)}.ndjson")
        blob.upload_from_string(_ndjson(rows), content_type="application/x-ndjson")

    def flush(self) -> dict[str, int]:
        """Load each table's staged files into a staging table of this flush's own, MERGE, then clean up.

        The staging table is ``<table>__staging_<flush id>``, not one shared name: a flush event can be
        delivered twice at once (at-least-once, or a redelivery after the ack deadline), and two flushes
        truncating one shared staging table can MERGE each other's subset and then delete files that
        were never merged. Deleting a file another flush already deleted is not an error.
        """
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        bq, gcs = self._clients()
        merged: dict[str, int] = {}
        flush_id = uuid.uuid4().hex[:12]
        for table in all_tables():
            blobs = list(gcs.bucket(self.staging_bucket).list_blobs(prefix=f"{table.name}/"))
            if not blobs:
                continue
            staging_name = f"{table.name}{ddl.STAGING_SUFFIX}_{flush_id}"
            staging = f"{self.project}.{self.dataset}.{staging_name}"
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                schema=[bigquery.SchemaField(c.name, c.type) for c in table.columns],
            )
            uris = [f"gs://{self.staging_bucket}/{b.name}" for b in blobs]
            try:
                job = bq.load_table_from_uri(uris, staging, job_config=config)
                job.result()
                dates = [row[0] for row in bq.query(ddl.staged_dates(table, self.dataset, staging_name)).result()]
                bq.query(ddl.merge(table, self.dataset, staging_name, dates)).result()
            finally:
                bq.delete_table(staging, not_found_ok=True)
            merged[table.name] = int(job.output_rows or 0)
            for blob in blobs:
                with contextlib.suppress(NotFound):
                    blob.delete()
        self._mark_deletions(bq, merged)
        return merged

    # -- issue #12: schema migration and deletions (helper/migrate.py, helper/tombstones.py) --------------
    def _add_missing_columns(self, bq: Any) -> None:
        rows = bq.query(f"SELECT table_name, column_name FROM `{self.dataset}`.INFORMATION_SCHEMA.COLUMNS").result()
        existing = migrate.columns_by_table((r[0], r[1]) for r in rows)
        migrate.add_missing_columns(lambda sql: bq.query(sql).result(), existing, self.dataset, duckdb=False)

    def _mark_deletions(self, bq: Any, merged: Mapping[str, int]) -> None:
        if tombstones.touched(merged):
            tombstones.mark_deletions(lambda sql: bq.query(sql).result(), self.dataset)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        bq, _ = self._clients()
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(default_dataset=f"{self.project}.{self.dataset}")
        return [tuple(row.values()) for row in bq.query(sql, job_config=config).result()]
