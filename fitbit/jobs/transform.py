"""transform_load: one stored object in; rows staged, follow-ups published, outcome logged.

Raw pages are parsed by pure functions (``fitbit.parse``) and staged under the object's own name as
batch id, so a replayed storage event re-stages the same batch instead of adding a second one; the
warehouse MERGE by natural key then keeps each row once. Follow-ups declared in the catalogue are
published here as the page's unit kind declares them (``fitbit.catalogue.followups``): the next page,
the TCX export of GPS sessions, and a delayed re-read of a sleep still being processed (bounded, so a
night Google never finishes cannot loop forever).
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from fitbit import ledger
from fitbit.catalogue import DAY_OUTCOMES_TABLE, LoadedPage, RereadPolicy, table_named, unit_kind
from fitbit.errors import MalformedMessage, PipelineError, TerminalError
from fitbit.jobs import flush as flush_job
from fitbit.jobs.context import TransformContext, log_outcome
from fitbit.messages import StoredObject, Unit, decode_unit
from fitbit.parse import PageContext, ParsedPage, parse_page
from fitbit.timefmt import utc_text

log = logging.getLogger("fitbit.transform_load")


def record_malformed_event(exc: MalformedMessage) -> str:
    """A storage event we cannot read names no object to record against: log it and acknowledge it."""
    log.error("storage event without bucket/name acknowledged", extra={"error_class": exc.error_class})
    return "failed:MalformedMessage"


def handle_object(obj: StoredObject, ctx: TransformContext) -> str:
    if obj.bucket != ctx.store.bucket:
        return "ignored:other-bucket"
    if obj.name.startswith("control/flush"):
        return flush_job.scheduled_flush(ctx, handle_object)
    if obj.name.startswith("control/plan-"):
        return _record_plan(obj, ctx)
    if obj.name.startswith("errors/"):
        return _record_error_object(obj, ctx)
    if not obj.name.startswith("raw/"):
        return "ignored:not-raw"
    blob = ctx.store.read(obj.name)
    meta = blob.metadata
    unit = decode_unit(meta["unit"].encode())
    page_ctx = PageContext(
        participant=unit.participant, data_type=unit.data_type, method=unit.method, raw_object=obj.name,
        fetched_at=meta["fetched_at"], time_zone=meta.get("time_zone") or None,
        civil_date=unit.start, data_point=unit.data_point, window_end=unit.end, page=unit.page,
        fetch_id=unit.fetch_id or None,
    )
    try:
        parsed = parse_page(page_ctx, blob.body)
    except (TerminalError, KeyError, ValueError, TypeError) as exc:
        error_class = exc.error_class if isinstance(exc, PipelineError) else "UnexpectedResponse"
        _log_outcome(ctx, obj.name, unit, "failed", {}, error_class,
                    getattr(exc, "fix", "the raw page has a shape the parser cannot read; keep it and report it"))
        log.error("raw object could not be parsed", extra={"object": obj.name, "error_class": error_class})
        return "failed"
    loaded_at = utc_text(ctx.clock())
    for table, rows in parsed.rows.items():
        for row in rows:
            row["loaded_at"] = loaded_at
        ctx.warehouse.stage(table_named(table), rows, obj.name)
    followups = follow_ups(unit, parsed, ctx, obj.name)
    if followups:
        ctx.queue.publish(followups)
    counts = {table: len(rows) for table, rows in parsed.rows.items()}
    if set(parsed.counts) - {"offsets_derived"}:  # derived offsets are routine (Health Connect): the log row says so
        log.warning("page parsed with values nulled or names derived", extra={"object": obj.name, **parsed.counts})
    _log_outcome(ctx, obj.name, unit, "loaded" if any(counts.values()) else "empty", counts, None, None,
                 parsed.counts, parsed.rows.get(unit_kind(unit.data_type, unit.method).table.name, []))
    return "loaded"


def follow_ups(unit: Unit, parsed: ParsedPage, ctx: TransformContext, raw_object: str = "") -> list[Unit]:
    """The units a page implies, as its unit kind's follow-ups declare them (next page, details, re-reads)."""
    kind = unit_kind(unit.data_type, unit.method)
    page = LoadedPage(unit, parsed.rows.get(kind.table.name, []), parsed.next_page_token, raw_object)
    policy = RereadPolicy(ctx.clock(), ctx.sleep_refetch_delay_s, ctx.max_sleep_refetches)
    return [follow for follow_up in kind.follow_ups for follow in follow_up.units(page, policy)]


def _record_error_object(obj: StoredObject, ctx: TransformContext) -> str:
    doc = json.loads(ctx.store.read(obj.name).body)
    unit_doc = doc.get("unit") or {}
    unit = Unit(unit_doc.get("participant", "unknown"), unit_doc.get("data_type", "unknown"),
                unit_doc.get("method", "unknown"), _date(unit_doc.get("start")), _date(unit_doc.get("end")), "daily",
                attempt=int(unit_doc.get("attempt", 0)))
    _log_outcome(ctx, obj.name, unit, "failed", {}, doc.get("error_class"), doc.get("fix"))
    return "recorded-failure"


def _record_plan(obj: StoredObject, ctx: TransformContext) -> str:
    """A run's plan: every day its units cover becomes a ``planned`` (pending) day-ledger row."""
    units = [decode_unit(json.dumps(doc).encode()) for doc in json.loads(ctx.store.read(obj.name).body)]
    ctx.warehouse.stage(DAY_OUTCOMES_TABLE, ledger.planned_rows(units, obj.name, ctx.clock()), obj.name)
    return "planned"


def _log_outcome(ctx: TransformContext, name: str, unit: Unit, status: str, counts: dict[str, int],
                 error_class: str | None, fix: str | None, parse_counts: dict[str, int] | None = None,
                 table_rows: list[dict[str, Any]] | None = None) -> None:
    """The processing-log row, and the day ledger's outcome rows for the unit's days."""
    log_outcome(ctx, name, unit, status, counts, error_class, fix, parse_counts)
    ctx.warehouse.stage(DAY_OUTCOMES_TABLE, ledger.outcome_rows(unit, name, status, table_rows or [], error_class,
                                                                ctx.clock()), name)


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None

