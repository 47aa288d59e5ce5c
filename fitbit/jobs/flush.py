"""The flush job: merge what is staged, record what the warehouse refused, sweep orphans (Google Cloud).

Both runtimes flush through ``flush`` (the embedded runtime when its queue drains; Google Cloud when
transform_load receives a ``control/flush`` object from the hourly scheduler job), so a refused batch
is recorded the same way on both: the warehouse sets it aside (quarantine) and goes on with every other
batch and table, and this job records the batch's raw object in ``processing_log`` as ``quarantined``
with the reason and a fix, in the same flush: ``processing_log`` never says ``loaded`` for rows that
were set aside.

``scheduled_flush`` is the Google Cloud flush: it also runs the orphan sweep (``fitbit/jobs/sweep.py``),
handling each orphan inline with transform_load's own handler, then flushes what that staged.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Callable

from fitbit.catalogue import PROCESSING_LOG_TABLE
from fitbit.errors import MalformedMessage, PipelineError, TransientError
from fitbit.jobs import sweep
from fitbit.jobs.context import TransformContext, log_outcome
from fitbit.messages import StoredObject, Unit, decode_unit
from fitbit.ports import FlushResult, Quarantined

log = logging.getLogger("fitbit.flush")
WAREHOUSE_REJECTED = "WarehouseRejected"
Handler = Callable[[StoredObject, TransformContext], str]


def flush(ctx: TransformContext) -> FlushResult:
    """Merge every staged batch; record each quarantined one against its raw object."""
    counts: dict[str, dict[str, int]] = {}  # one outcome row per raw object, whatever tables it lost

    def record(q: Quarantined) -> None:
        if q.table == PROCESSING_LOG_TABLE.name:  # an outcome row itself refused: nothing left to record it in
            log.error("processing_log batch quarantined", extra={"reason": q.reason, "rows": q.rows})
            return
        counts.setdefault(q.batch_id, {})[q.table] = q.rows
        fix = (f"the warehouse refused these {q.table} rows ({q.reason}); they are kept at {q.location} and the "
               "raw object is intact: report it so the parser rejects the value, then reprocess the object "
               "(locally: python scripts/run_local.py --reprocess <raw object>)")
        log_outcome(ctx, q.batch_id, _unit_of(ctx, q), "quarantined", counts[q.batch_id], WAREHOUSE_REJECTED, fix)

    result = ctx.warehouse.flush(on_quarantine=record)
    log.info("warehouse flushed", extra={"tables": len(result), "rows": sum(result.values()),
                                         "quarantined": len(result.quarantined), "blocked": len(result.blocked)})
    return result


def _after(ctx: TransformContext) -> None:
    """The step after a successful flush (the Sheets export), isolated: its failure never undoes or redelivers the
    flush, which is done; the next day's step rewrites the same days."""
    if ctx.after_flush is None:
        return
    try:
        outcome = ctx.after_flush(ctx.clock())
    except Exception as exc:  # noqa: BLE001 - whatever the step raises, the flush it follows is done and stays done
        log.error("after-flush step failed", extra={"error_class": type(exc).__name__,
                                                    "fix": getattr(exc, "fix", "see the error class")})
        return
    if outcome:
        log.info("after-flush step", extra={"outcome": outcome})


def _unit_of(ctx: TransformContext, q: Quarantined) -> Unit:
    """The unit that fetched the batch's raw object (its metadata), or what the rows say when it is gone."""
    try:
        return decode_unit(ctx.store.read(q.batch_id).metadata["unit"].encode())
    except (OSError, KeyError, ValueError, MalformedMessage):
        pass
    day = None
    try:
        day = date.fromisoformat(q.civil_date) if q.civil_date else None
    except ValueError:
        pass
    return Unit(q.participant or "unknown", "unknown", "unknown", day, None, "daily")


def scheduled_flush(ctx: TransformContext, handle: Handler) -> str:
    """Flush, hand every orphan to ``handle`` (isolated), flush what that staged; blocked tables retry.

    Raises:
        TransientError: a table could not be merged for a reason other than its data (its batches stay
            staged); the platform redelivers the flush, which merges them then.
    """
    result = flush(ctx)
    found = sweep.orphans(ctx.store, ctx.warehouse, now=ctx.clock(), policy=ctx.sweep)
    handled = 0
    for orphan in found:
        try:
            handle(StoredObject(ctx.store.bucket, orphan.name, ""), ctx)
            handled += 1
        except (PipelineError, OSError, KeyError, ValueError, TypeError) as exc:
            log.error("orphan could not be handled", extra={"object": orphan.name, "error_class": type(exc).__name__})
    if found:
        log.warning("orphans swept", extra={"found": len(found), "handled": handled})
    if handled:
        again = flush(ctx)
        result.blocked.update(again.blocked)
    if result.blocked:
        raise TransientError(f"tables not flushed: {sorted(result.blocked)}",
                             fix="nothing if it passes on the next attempt; else see the warehouse's error")
    _after(ctx)
    return f"flushed:{sum(result.values())} rows, {len(result.quarantined)} quarantined, {handled} orphans"
