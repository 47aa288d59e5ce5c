"""Warehouse adapters: DuckDB (embedded default) and BigQuery, both loading through staging + MERGE.

Why staging: BigQuery allows 1,500 modifications per table per day. Writing each raw object straight
into its table would cost one modification per participant per table per day (1,000 at 1,000
participants). Instead transform_load stages rows as NDJSON files (a local directory, or objects in the
staging bucket), and ``flush`` merges them: one load job into ``<table>__staging`` plus one MERGE into
the table per flush. Hourly flushes use 24 modifications per table per day, whatever the cohort size.
The MERGE is by natural key and keeps the newest fetch, so replays and re-fetches never duplicate rows.

One bad batch never blocks the rest (issue #11): when the warehouse refuses a table's batches, the flush
halves them until it finds the refused ones (a value the column cannot hold, a line that is not JSON),
sets those aside in a quarantine area with their reason, and merges the others; a table that fails for
another reason (disk, permissions) is reported as blocked and left staged, and the other tables still
merge. ``processing_log`` is merged last, so the outcome rows a quarantine records land in the same flush.
Crash safety (kill -9): a DuckDB MERGE commits or rolls back as one transaction, and staged files are
deleted only after their commit, so an interrupted flush is redone by the next one (MERGE is idempotent).
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from fitbit.catalogue import PROCESSING_LOG_TABLE, TableSpec, all_tables, table_named
from fitbit.ports import FlushResult, Quarantined
from helper import ddl, migrate, tombstones, views
from helper.staging import describe, joined_batches, ndjson, reason_document, refusal_reason
from helper.storage import write_atomic

log = logging.getLogger("fitbit.warehouse")
# The pipeline's DuckDB connection keeps what it reads in its buffer pool up to memory_limit (default 80 % of
# RAM), so a run's resident memory grew with the warehouse (issue #14, 200 participants x 1 day: 677 MiB peak).
# Capped, DuckDB evicts, and spills a large merge to <file>.tmp (measured 2026-12-01). Capped alone, the outcome
# tables' merges failed with OutOfMemoryException (200 participants at 256MB, 1,000 at 512MB): without
# preserve_insertion_order (the MERGE orders explicitly, nothing relies on it) 200 ran clean at 256MB, 375 MiB peak.
MEMORY_LIMIT = "512MB"
OnQuarantine = Callable[[Quarantined], None] | None


def _stamp() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _count_nulled(table: TableSpec, nulled: int, batch_id: str) -> None:
    if nulled:
        log.warning("non-finite floats written as null", extra={"table": table.name, "values": nulled,
                                                                 "batch": batch_id})


class DuckDbWarehouse:
    """DuckDB in one file; staged batches in ``staging_dir/<table>/``, refused ones in ``quarantine_dir``.

    ``read_only`` is for readers (report, summary) while no run holds the state dir: it creates nothing.
    """

    def __init__(self, path: Path, dataset: str, staging_dir: Path, *, quarantine_dir: Path | None = None,
                 read_only: bool = False) -> None:
        import duckdb

        self.path, self.dataset, self.staging_dir = Path(path), dataset, Path(staging_dir)
        self.quarantine_dir = Path(quarantine_dir) if quarantine_dir else self.staging_dir.parent / "quarantine"
        self.read_only = read_only
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = duckdb.connect(str(self.path), read_only=read_only)
        self._db.execute("SET TimeZone = 'UTC'")
        if not read_only:
            self._db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            self._db.execute("SET preserve_insertion_order = false")
        self._schema_ready = read_only
        self.nulled = 0  # non-finite floats written as null by stage()
        # The warehouse refusing the data (these batches are quarantined) versus failing itself (blocked).
        self._refusals = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.OutOfRangeException,
                          duckdb.ConstraintException, duckdb.TypeMismatchException)
        self._failures = (duckdb.Error, OSError, KeyError)

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
        body, nulled = ndjson(rows)
        self.nulled += nulled
        _count_nulled(table, nulled, batch_id)
        path = self.staging_dir / table.name / f"{_safe(batch_id)}.ndjson"
        try:
            write_atomic(path, body)
        except FileNotFoundError:  # the table's first batch: its folder is made once, not checked per batch
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, body)

    def flush(self, on_quarantine: OnQuarantine = None) -> FlushResult:
        self.ensure_schema()
        result = FlushResult()
        if not self.staging_dir.is_dir():
            return result
        log_folder = self.staging_dir / PROCESSING_LOG_TABLE.name
        folders = sorted(p for p in self.staging_dir.iterdir() if p.is_dir() and p != log_folder)
        for folder in [*folders, log_folder]:  # globbed in turn: a quarantine adds processing_log rows
            files = sorted(folder.glob("*.ndjson")) if folder.is_dir() else []
            if not files:
                continue
            try:
                table = table_named(folder.name)
                merged, refused = self._merge_isolated(table, files)
            except self._failures as exc:
                result.blocked[folder.name] = type(exc).__name__
                log.error("table not flushed; its batches stay staged", extra={"table": folder.name,
                                                                               "error_class": type(exc).__name__})
                continue
            result[table.name] = merged
            for path, reason in refused:
                result.quarantined.append(self._set_aside(table, path, reason, on_quarantine))
            for path in files:
                path.unlink(missing_ok=True)  # merged (the refused ones were moved away)
        self._mark_deletions(result)
        return result

    def _merge_isolated(self, table: TableSpec, files: list[Path]) -> tuple[int, list[tuple[Path, str]]]:
        """Merge the files; when refused, halve until the refused files are found, merging the rest."""
        try:
            return self._merge_files(table, files), []
        except self._refusals as exc:
            if len(files) == 1:
                return 0, [(files[0], refusal_reason(exc))]
        half = len(files) // 2
        merged_a, refused_a = self._merge_isolated(table, files[:half])
        merged_b, refused_b = self._merge_isolated(table, files[half:])
        return merged_a + merged_b, refused_a + refused_b

    def _set_aside(self, table: TableSpec, path: Path, reason: str, on_quarantine: OnQuarantine) -> Quarantined:
        target = self.quarantine_dir / table.name / path.name
        q = describe(table.name, path.read_bytes(), path.stem, reason, str(target))
        if on_quarantine is not None:
            on_quarantine(q)  # first: if we crash now, the next flush refuses and records it again
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target.with_name(path.stem + ".reason.json"), reason_document(q, _stamp()))
        os.replace(path, target)
        log.error("staged batch quarantined", extra={"table": table.name, "rows": q.rows, "reason": reason})
        return q

    # -- issue #12: schema migration and deletions (helper/migrate.py, helper/tombstones.py) --------------
    def _add_missing_columns(self) -> None:
        rows = self._db.execute("SELECT table_name, column_name FROM information_schema.columns "
                                "WHERE table_schema = ?", [self.dataset]).fetchall()
        migrate.add_missing_columns(self._db.execute, migrate.columns_by_table(rows), self.dataset, duckdb=True)

    def _mark_deletions(self, merged: Mapping[str, int]) -> None:
        if tombstones.touched(merged):
            tombstones.mark_deletions(lambda sql: self._db.execute(ddl.to_duckdb(sql)), self.dataset)

    def _merge_files(self, table: TableSpec, files: list[Path]) -> int:
        with joined_batches(files) as source:  # one file: read_json pays ~1 ms of CPU per file it opens
            return self._merge_file(table, source)

    def _merge_file(self, table: TableSpec, source: Path) -> int:
        staging = f'"{self.dataset}"."{table.name}{ddl.STAGING_SUFFIX}"'
        columns = "{" + ", ".join(f"'{c.name}': '{ddl.DUCKDB_TYPES[c.type]}'" for c in table.columns) + "}"
        paths = "['" + str(source).replace("'", "''") + "']"
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
        self.nulled = 0  # non-finite floats written as null by stage()

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
        body, nulled = ndjson(rows)
        self.nulled += nulled
        _count_nulled(table, nulled, batch_id)
        blob = gcs.bucket(self.staging_bucket).blob(f"{table.name}/{_safe(batch_id)}.ndjson")
        blob.upload_from_string(body, content_type="application/x-ndjson")

    def flush(self, on_quarantine: OnQuarantine = None) -> FlushResult:
        """Load each table's staged files into a staging table of this flush's own, MERGE, then clean up.

        The staging table is ``<table>__staging_<flush id>``, not one shared name: a flush event can be
        delivered twice at once (at-least-once, or a redelivery after the ack deadline), and two flushes
        truncating one shared staging table can MERGE each other's subset and then delete files that
        were never merged. Deleting a file another flush already deleted is not an error; a file staged
        again meanwhile (a new generation) is kept for the next flush.

        Per-batch isolation: a load job is all or nothing, so when one is refused the batches are halved
        into smaller load jobs (appending to the same staging table) until the refused ones are found;
        those move to ``quarantine/<table>/`` in the staging bucket, the rest are merged. A table that
        fails otherwise is reported in ``blocked`` and the flush goes on with the next table.
        """
        from google.api_core.exceptions import GoogleAPIError

        bq, gcs = self._clients()
        result = FlushResult()
        flush_id = uuid.uuid4().hex[:12]
        bucket = gcs.bucket(self.staging_bucket)
        for table in all_tables():  # processing_log is last: it receives the quarantine outcomes
            blobs = list(bucket.list_blobs(prefix=f"{table.name}/"))
            if not blobs:
                continue
            try:
                refused = self._flush_table(bq, table, blobs, flush_id, result)
            except GoogleAPIError as exc:
                result.blocked[table.name] = type(exc).__name__
                log.error("table not flushed; its batches stay staged", extra={"table": table.name,
                                                                               "error_class": type(exc).__name__})
                continue
            for blob, reason in refused:
                result.quarantined.append(self._set_aside(bucket, table, blob, reason, on_quarantine))
        self._mark_deletions(bq, result)
        return result

    def _flush_table(self, bq: Any, table: TableSpec, blobs: list[Any], flush_id: str,
                     result: FlushResult) -> list[tuple[Any, str]]:
        staging_name = f"{table.name}{ddl.STAGING_SUFFIX}_{flush_id}"
        staging = f"{self.project}.{self.dataset}.{staging_name}"
        try:
            loaded, refused, rows = self._load_isolated(bq, table, blobs, staging)
            if loaded:
                dates = [row[0] for row in bq.query(ddl.staged_dates(table, self.dataset, staging_name)).result()]
                bq.query(ddl.merge(table, self.dataset, staging_name, dates)).result()
        finally:
            bq.delete_table(staging, not_found_ok=True)
        result[table.name] = rows
        for blob in loaded:
            _delete(blob)
        return refused

    def _load_isolated(self, bq: Any, table: TableSpec, blobs: list[Any],
                       staging: str) -> tuple[list[Any], list[tuple[Any, str]], int]:
        """Load the blobs into ``staging`` (appending); when refused, halve until the refused ones are found."""
        from google.api_core.exceptions import BadRequest
        from google.cloud import bigquery

        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            schema=[bigquery.SchemaField(c.name, c.type) for c in table.columns],
        )
        try:
            job = bq.load_table_from_uri([f"gs://{self.staging_bucket}/{b.name}" for b in blobs], staging,
                                         job_config=config)
            job.result()
            return blobs, [], int(job.output_rows or 0)
        except BadRequest as exc:
            if not _is_refusal(exc):
                raise
            if len(blobs) == 1:
                return [], [(blobs[0], refusal_reason(exc))], 0
        half = len(blobs) // 2
        loaded_a, refused_a, rows_a = self._load_isolated(bq, table, blobs[:half], staging)
        loaded_b, refused_b, rows_b = self._load_isolated(bq, table, blobs[half:], staging)
        return loaded_a + loaded_b, refused_a + refused_b, rows_a + rows_b

    def _set_aside(self, bucket: Any, table: TableSpec, blob: Any, reason: str,
                   on_quarantine: OnQuarantine) -> Quarantined:
        name = f"quarantine/{blob.name}"
        body = blob.download_as_bytes()
        q = describe(table.name, body, blob.name.rsplit("/", 1)[-1].removesuffix(".ndjson"), reason,
                     f"gs://{self.staging_bucket}/{name}")
        if on_quarantine is not None:
            on_quarantine(q)  # first: if we crash now, the next flush refuses and records it again
        kept = bucket.blob(name)
        kept.metadata = {"table": table.name, "reason": reason, "quarantined_at": _stamp()}
        kept.upload_from_string(body, content_type="application/x-ndjson")
        bucket.blob(name.removesuffix(".ndjson") + ".reason.json").upload_from_string(
            reason_document(q, _stamp()), content_type="application/json")
        _delete(blob)
        log.error("staged batch quarantined", extra={"table": table.name, "rows": q.rows, "reason": reason})
        return q

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


def _is_refusal(exc: Any) -> bool:
    """A load job refused for its data (reason ``invalid``), not for access, quota or a missing table."""
    errors = getattr(exc, "errors", None) or []
    return any(isinstance(e, Mapping) and e.get("reason") == "invalid" for e in errors)


def _delete(blob: Any) -> None:
    """Delete the generation that was read: a batch staged again meanwhile is kept for the next flush."""
    from google.api_core.exceptions import NotFound, PreconditionFailed

    with contextlib.suppress(NotFound, PreconditionFailed):
        blob.delete(if_generation_match=blob.generation)
