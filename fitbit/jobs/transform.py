"""transform_load: one stored object in; rows staged, follow-ups published, outcome logged.

Raw pages are parsed by pure functions (``fitbit.parse``) and staged under the object's own name as
batch id, so a replayed storage event re-stages the same batch instead of adding a second one; the
warehouse MERGE by natural key then keeps each row once. Follow-ups declared in the catalogue are
published here: the next page, the TCX export of GPS sessions, and a delayed re-read of a sleep still
being processed (bounded, so a night Google never finishes cannot loop forever).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Mapping

from fitbit.catalogue import PROCESSING_LOG_TABLE, by_path_id, table_named
from fitbit.errors import MalformedMessage, PipelineError, TerminalError
from fitbit.jobs import flush as flush_job
from fitbit.jobs.sweep import SweepPolicy
from fitbit.parse import PARSER_VERSION, PageContext, ParsedPage, parse_page
from fitbit.messages import StoredObject, Unit, decode
from fitbit.ports import Queue, RawStore, Warehouse

log = logging.getLogger("fitbit.transform_load")


@dataclass
class TransformContext:
    store: RawStore
    warehouse: Warehouse
    queue: Queue
    clock: Callable[[], datetime]
    sleep_refetch_delay_s: float = 3600.0
    max_sleep_refetches: int = 6
    sweep: SweepPolicy = field(default_factory=SweepPolicy)  # the orphan sweep of the scheduled flush


def record_malformed_event(exc: MalformedMessage) -> str:
    """A storage event we cannot read names no object to record against: log it and acknowledge it."""
    log.error("storage event without bucket/name acknowledged", extra={"error_class": exc.error_class})
    return "failed:MalformedMessage"


def handle_object(obj: StoredObject, ctx: TransformContext) -> str:
    if obj.bucket != ctx.store.bucket:
        return "ignored:other-bucket"
    if obj.name.startswith("control/flush"):
        return flush_job.scheduled_flush(ctx, handle_object)
    if obj.name.startswith("errors/"):
        return _record_error_object(obj, ctx)
    if not obj.name.startswith("raw/"):
        return "ignored:not-raw"
    blob = ctx.store.read(obj.name)
    meta = blob.metadata
    unit = decode(meta["unit"].encode())
    assert isinstance(unit, Unit)
    page_ctx = PageContext(
        participant=unit.participant, data_type=unit.data_type, method=unit.method, raw_object=obj.name,
        fetched_at=meta["fetched_at"], time_zone=meta.get("time_zone") or None,
        civil_date=unit.start, data_point=unit.data_point,
    )
    try:
        parsed = parse_page(page_ctx, blob.body)
    except (TerminalError, KeyError, ValueError, TypeError) as exc:
        error_class = exc.error_class if isinstance(exc, PipelineError) else "UnexpectedResponse"
        _log_outcome(ctx, obj.name, unit, "failed", {}, error_class,
                     getattr(exc, "fix", "the raw page has a shape the parser cannot read; keep it and report it"))
        log.error("raw object could not be parsed", extra={"object": obj.name, "error_class": error_class})
        return "failed"
    loaded_at = _stamp(ctx.clock())
    for table, rows in parsed.rows.items():
        for row in rows:
            row["loaded_at"] = loaded_at
        ctx.warehouse.stage(table_named(table), rows, obj.name)
    followups = follow_ups(unit, parsed, ctx)
    if followups:
        ctx.queue.publish(followups)
    counts = {table: len(rows) for table, rows in parsed.rows.items()}
    _log_outcome(ctx, obj.name, unit, "loaded" if any(counts.values()) else "empty", counts, None, None)
    return "loaded"


def follow_ups(unit: Unit, parsed: ParsedPage, ctx: TransformContext) -> list[Unit]:
    """The units a page implies: next page, TCX exports, sleep re-reads."""
    units: list[Unit] = []
    if parsed.next_page_token:
        units.append(unit.next_page(parsed.next_page_token))
    if unit.data_type not in ("settings", "paired-devices", "exercise-tcx"):
        kinds = {f.kind for f in by_path_id(unit.data_type).follow_ups}
        rows = next(iter(parsed.rows.values()), [])
        if "exercise_tcx" in kinds:
            units += [_tcx_unit(unit, row) for row in rows if row.get("has_gps")]
        if "sleep_refetch" in kinds and not _is_refetch_exhausted(unit, ctx):
            units += _sleep_refetches(unit, rows, ctx)
    return units


def _tcx_unit(unit: Unit, row: Mapping[str, Any]) -> Unit:
    day = date.fromisoformat(row["civil_date"])
    point_id = str(row["data_point_name"]).rsplit("/", 1)[-1]
    return Unit(unit.participant, "exercise-tcx", "exportExerciseTcx", day, day + timedelta(days=1),
                "follow-up", data_point=point_id, run_id=unit.run_id)


def _is_refetch_exhausted(unit: Unit, ctx: TransformContext) -> bool:
    return unit.reason == "follow-up" and unit.attempt >= ctx.max_sleep_refetches


def _sleep_refetches(unit: Unit, rows: list[dict[str, Any]], ctx: TransformContext) -> list[Unit]:
    days = sorted({date.fromisoformat(r["civil_date"]) for r in rows if not r.get("processed")})
    due = ctx.clock() + timedelta(seconds=ctx.sleep_refetch_delay_s)
    attempt = unit.attempt + 1 if unit.reason == "follow-up" else 1
    return [Unit(unit.participant, unit.data_type, unit.method, d, d + timedelta(days=1), "follow-up",
                 attempt=attempt, not_before=due, run_id=unit.run_id) for d in days]


def _record_error_object(obj: StoredObject, ctx: TransformContext) -> str:
    doc = json.loads(ctx.store.read(obj.name).body)
    unit_doc = doc.get("unit") or {}
    unit = Unit(unit_doc.get("participant", "unknown"), unit_doc.get("data_type", "unknown"),
                unit_doc.get("method", "unknown"), _date(unit_doc.get("start")), None, "daily",
                attempt=int(unit_doc.get("attempt", 0)))
    _log_outcome(ctx, obj.name, unit, "failed", {}, doc.get("error_class"), doc.get("fix"))
    return "recorded-failure"


def _log_outcome(ctx: TransformContext, name: str, unit: Unit, status: str, counts: dict[str, int],
                 error_class: str | None, fix: str | None) -> None:
    now = ctx.clock()
    row = {
        "participant_id": unit.participant,
        "civil_date": (unit.start or now.date()).isoformat(),
        "raw_object": name, "data_type": unit.data_type, "method": unit.method, "status": status,
        "error_class": error_class, "fix": fix, "row_counts": counts, "attempt": unit.attempt,
        "parser_version": PARSER_VERSION, "processed_at": _stamp(now),
    }
    ctx.warehouse.stage(PROCESSING_LOG_TABLE, [row], name)


log_outcome = _log_outcome  # the flush job records quarantined batches with the same row


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
