"""transform_load: one stored object in; rows staged, follow-ups published, outcome logged.

Raw pages are parsed by pure functions (``fitbit.parse``) and staged under the object's own name as
batch id, so a replayed storage event re-stages the same batch instead of adding a second one; the
warehouse MERGE by natural key then keeps each row once. Follow-ups declared in the catalogue are
published here as the page's unit kind declares them (``fitbit.catalogue.followups``): the next page,
the TCX export of GPS sessions, and a delayed re-read of a sleep still being processed (bounded, so a
night Google never finishes cannot loop forever).

Every deterministic failure of reading an object (a missing object, metadata without or with a malformed
unit, a page the parser refuses, an ``errors/`` object that is not JSON, a name with ``..``; any exception
class that is not Transient) becomes a failed ``processing_log`` row with its error class and fix, and the
event is acknowledged: retrying cannot help, and a dead letter would leave no row (issue #11). Transient
errors are raised so the platform redelivers.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any, Mapping, Sequence

from fitbit import ledger
from fitbit.catalogue import DAY_OUTCOMES_TABLE, LoadedPage, RereadPolicy, table_named, unit_kind
from fitbit.errors import MalformedMessage, NotFound, PipelineError, TransientError
from fitbit.jobs import flush as flush_job
from fitbit.jobs.context import TransformContext, log_outcome
from fitbit.messages import StoredObject, Unit, decode_unit
from fitbit.parse import PageContext, ParsedPage, parse_page
from fitbit.parse.page import day_counts_rows, stamp
from fitbit.ports import Blob
from fitbit.timefmt import parse_instant, utc_text

log = logging.getLogger("fitbit.transform_load")

UNREADABLE_FIX = ("the raw object cannot be read as this pipeline wrote it: keep it, report the error class, and "
                  "replay it once fixed (its processing_log row says failed until then)")
MISSING_OBJECT_FIX = ("nothing to load: the object was deleted after its event; if it should exist, run the day's "
                      "extract again")
UNSAFE_NAME_FIX = "the event was not produced by this pipeline's bucket: check who writes to the raw bucket"
UNREADABLE_ERROR_OBJECT_FIX = ("an errors/ object that extract did not write: check who writes to the raw bucket; "
                               "the metadata's participant and type are recorded")


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
    blob = _read(obj, ctx)
    if isinstance(blob, str):
        return blob
    unit = unit_named(obj.name)
    try:  # everything below is decided by the object alone: a failure is recorded once, never retried
        unit = _unit_of(blob.metadata)
        page_ctx = PageContext(
            participant=unit.participant, data_type=unit.data_type, method=unit.method, raw_object=obj.name,
            fetched_at=_fetched_at(blob.metadata), time_zone=blob.metadata.get("time_zone") or None,
            civil_date=unit.start, data_point=unit.data_point, window_end=unit.end, page=unit.page,
            fetch_id=unit.fetch_id or None,
        )
        parsed = parse_page(page_ctx, blob.body)
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - any deterministic failure is recorded with its fix and acknowledged
        return _failed(ctx, obj.name, unit, exc)
    loaded_at = utc_text(ctx.clock())
    for table, rows in parsed.rows.items():
        stamp(rows, "loaded_at", loaded_at)
        ctx.warehouse.stage(table_named(table), rows, obj.name)
    followups = follow_ups(unit, parsed, ctx, obj.name)
    if followups:
        ctx.queue.publish(followups)
    counts = {table: len(rows) for table, rows in parsed.rows.items()}
    if set(parsed.counts) - {"offsets_derived"}:  # derived offsets are routine (Health Connect): the log row says so
        log.warning("page parsed with values nulled, names derived or points rejected",
                    extra={"object": obj.name, **parsed.counts})
    own_rows = parsed.rows.get(unit_kind(unit.data_type, unit.method).table.name, [])
    _log_outcome(ctx, obj.name, unit, "loaded" if any(counts.values()) else "empty", counts, None, None,
                 parsed.counts, day_counts_rows(own_rows))
    return "loaded"


def follow_ups(unit: Unit, parsed: ParsedPage, ctx: TransformContext, raw_object: str = "") -> list[Unit]:
    """The units a page implies, as its unit kind's follow-ups declare them (next page, details, re-reads)."""
    kind = unit_kind(unit.data_type, unit.method)
    page = LoadedPage(unit, parsed.rows.get(kind.table.name, []), parsed.next_page_token, raw_object)
    policy = RereadPolicy(ctx.clock(), ctx.sleep_refetch_delay_s, ctx.max_sleep_refetches)
    return [follow for follow_up in kind.follow_ups for follow in follow_up.units(page, policy)]


def _record_error_object(obj: StoredObject, ctx: TransformContext) -> str:
    blob = _read(obj, ctx)
    if isinstance(blob, str):
        return blob
    meta = blob.metadata
    fallback = Unit(_text(meta.get("participant")), _text(meta.get("data_type")), _text(meta.get("method")),
                    None, None, "daily")
    try:
        doc = json.loads(blob.body)
        unit_doc = doc.get("unit") or {}
        unit = Unit(_text(unit_doc.get("participant")), _text(unit_doc.get("data_type")),
                    _text(unit_doc.get("method")), _date(unit_doc.get("start")), _date(unit_doc.get("end")),
                    "daily",
                    attempt=int(unit_doc.get("attempt", 0)))
        error_class, fix = doc.get("error_class"), doc.get("fix")
        if not isinstance(error_class, str) or not isinstance(fix, (str, type(None))):
            raise TypeError("error object without a string error_class")
    except TransientError:
        raise
    except Exception:  # noqa: BLE001 - not what extract writes: record that, with the metadata's unit
        return _failed(ctx, obj.name, fallback, MalformedMessage(
            "error object is not the JSON document extract writes", fix=UNREADABLE_ERROR_OBJECT_FIX))
    _log_outcome(ctx, obj.name, unit, "failed", {}, error_class, fix)
    return "recorded-failure"


def _read(obj: StoredObject, ctx: TransformContext) -> Blob | str:
    """The object, or the outcome of recording why it cannot be read: a name with a '..' segment, or an event
    for an object that does not exist (deleted after its event). Any other read error raises: redelivered."""
    if ".." in obj.name.split("/"):
        return _failed(ctx, obj.name, unit_named(obj.name), MalformedMessage(
            "storage event names an object with a '..' segment", fix=UNSAFE_NAME_FIX))
    try:
        return ctx.store.read(obj.name)
    except FileNotFoundError:
        return _failed(ctx, obj.name, unit_named(obj.name), NotFound(
            "storage event for an object that does not exist", fix=MISSING_OBJECT_FIX))


def _failed(ctx: TransformContext, name: str, unit: Unit, exc: Exception) -> str:
    """Record a deterministic failure of reading an object as a failed ``processing_log`` row, and acknowledge."""
    error_class = exc.error_class if isinstance(exc, PipelineError) else type(exc).__name__
    fix = exc.fix if isinstance(exc, PipelineError) else UNREADABLE_FIX
    _log_outcome(ctx, name, unit, "failed", {}, error_class, fix)
    log.error("raw object could not be read", extra={"object": name, "error_class": error_class})
    return "failed"


def unit_named(name: str) -> Unit:
    """The unit an object's name says it holds (``raw/<participant>/<type>/<day>/<method>/...``), as far as it
    can be read: what a failure is recorded against when the object's own metadata cannot be."""
    parts = [*name.split("/")[1:5], "", "", "", ""]
    participant, data_type, day, method = (part or "unknown" for part in parts[:4])
    return Unit(participant, data_type, method, _date(day), None, "daily")


def _unit_of(metadata: Mapping[str, Any]) -> Unit:
    text = metadata.get("unit")
    if not isinstance(text, str):
        raise MalformedMessage("raw object metadata without its unit", fix=UNREADABLE_FIX)
    return decode_unit(text.encode())


def _fetched_at(metadata: Mapping[str, Any]) -> str:
    """The metadata's fetch instant, as every row's ``fetched_at`` (a TIMESTAMP the warehouse must accept)."""
    try:
        return utc_text(parse_instant(metadata["fetched_at"]))
    except Exception:  # noqa: BLE001 - missing, not text, not an instant, out of range: all the same to a person
        raise MalformedMessage("raw object metadata without a readable fetched_at", fix=UNREADABLE_FIX) from None


def _text(value: Any) -> str:
    return value if isinstance(value, str) and value else "unknown"


def _record_plan(obj: StoredObject, ctx: TransformContext) -> str:
    """A run's plan: every day its units cover becomes a ``planned`` (pending) day-ledger row."""
    try:
        units = [decode_unit(json.dumps(doc).encode()) for doc in json.loads(ctx.store.read(obj.name).body)]
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - a plan extract did not write: recorded, never retried
        return _failed(ctx, obj.name, Unit("unknown", "unknown", "unknown", None, None, "daily"), exc)
    ctx.warehouse.stage(DAY_OUTCOMES_TABLE, ledger.planned_rows(units, obj.name, ctx.clock()), obj.name)
    return "planned"


def _log_outcome(ctx: TransformContext, name: str, unit: Unit, status: str, counts: dict[str, int],
                 error_class: str | None, fix: str | None, parse_counts: dict[str, int] | None = None,
                 table_rows: Sequence[Mapping[str, Any]] | None = None) -> None:
    """The processing-log row, and the day ledger's outcome rows for the unit's days."""
    log_outcome(ctx, name, unit, status, counts, error_class, fix, parse_counts)
    ctx.warehouse.stage(DAY_OUTCOMES_TABLE, ledger.outcome_rows(unit, name, status, table_rows or [], error_class,
                                                                ctx.clock()), name)


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None

