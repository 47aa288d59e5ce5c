"""What transform_load and the flush job share: their context and the ``processing_log`` outcome row.

Both jobs record outcomes the same way (transform_load per raw object, the flush job per quarantined
batch), and transform_load hands ``control/flush`` objects to the flush job, so the shared piece lives
here, below both, and neither imports the other back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from fitbit.catalogue import PROCESSING_LOG_TABLE
from fitbit.jobs.sweep import SweepPolicy
from fitbit.messages import Unit
from fitbit.parse import PARSER_VERSION
from fitbit.ports import Queue, RawStore, Warehouse
from fitbit.timefmt import utc_text


@dataclass
class TransformContext:
    store: RawStore
    warehouse: Warehouse
    queue: Queue
    clock: Callable[[], datetime]
    sleep_refetch_delay_s: float = 3600.0
    max_sleep_refetches: int = 6
    sweep: SweepPolicy = field(default_factory=SweepPolicy)  # the orphan sweep of the scheduled flush
    # Called with the clock's time after each successful scheduled flush (the Google Sheets export; None: nothing).
    after_flush: Callable[[datetime], str | None] | None = None


def log_outcome(ctx: TransformContext, name: str, unit: Unit, status: str, counts: dict[str, int],
                error_class: str | None, fix: str | None, parse_counts: dict[str, int] | None = None) -> None:
    """Stage one ``processing_log`` row for a raw object (batch id = its name, so a replay replaces it)."""
    now = ctx.clock()
    row = {
        "participant_id": unit.participant,
        "civil_date": (unit.start or now.date()).isoformat(),
        "raw_object": name, "data_type": unit.data_type, "method": unit.method, "status": status,
        "error_class": error_class, "fix": fix, "row_counts": counts,
        "parse_counts": parse_counts or None, "attempt": unit.attempt,
        "parser_version": PARSER_VERSION, "processed_at": utc_text(now),
    }
    ctx.warehouse.stage(PROCESSING_LOG_TABLE, [row], name)
