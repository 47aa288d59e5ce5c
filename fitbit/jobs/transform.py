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
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from fitbit.catalogue import PROCESSING_LOG_TABLE, LoadedPage, RereadPolicy, table_named, unit_kind
from fitbit.errors import MalformedMessage, PipelineError, TerminalError
from fitbit.messages import StoredObject, Unit, decode_unit
from fitbit.parse import PARSER_VERSION, PageContext, ParsedPage, parse_page
from fitbit.ports import Queue, RawStore, Warehouse
from fitbit.timefmt import utc_text

log = logging.getLogger("fitbit.transform_load")


@dataclass
class TransformContext:
    store: RawStore
    warehouse: Warehouse
    queue: Queue
    clock: Callable[[], datetime]
    sleep_refetch_delay_s: float = 3600.0
    max_sleep_refetches: int = 6


def record_malformed_event(exc: MalformedMessage) -> str:
    """A storage event we cannot read names no object to record against: log it and acknowledge it."""
    log.error("storage event without bucket/name acknowledged", extra={"error_class": exc.error_class})
    return "failed:MalformedMessage"


def handle_object(obj: StoredObject, ctx: TransformContext) -> str:
    if obj.bucket != ctx.store.bucket:
        return "ignored:other-bucket"
    if obj.name.startswith("control/flush"):
        merged = ctx.warehouse.flush()
        log.info("warehouse flushed", extra={"tables": len(merged), "rows": sum(merged.values())})
        return "flushed"
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
                 parsed.counts)
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
                unit_doc.get("method", "unknown"), _date(unit_doc.get("start")), None, "daily",
                attempt=int(unit_doc.get("attempt", 0)))
    _log_outcome(ctx, obj.name, unit, "failed", {}, doc.get("error_class"), doc.get("fix"))
    return "recorded-failure"


def _log_outcome(ctx: TransformContext, name: str, unit: Unit, status: str, counts: dict[str, int],
                 error_class: str | None, fix: str | None, parse_counts: dict[str, int] | None = None) -> None:
    now = ctx.clock()
    row = {
        "participant_id": unit.participant,
        "civil_date": (unit.start or now.date()).isoformat(),
        "raw_object": name, "data_type": unit.data_type, "method": unit.method, "status": status,
        "error_class": error_class, "fix": fix, "row_counts": counts, "parse_counts": parse_counts or None,
        "attempt": unit.attempt,
        "parser_version": PARSER_VERSION, "processed_at": utc_text(now),
    }
    ctx.warehouse.stage(PROCESSING_LOG_TABLE, [row], name)


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None

