"""The scheduled flush's after-flush step (the Google Sheets export on Google Cloud): called with the clock's time
after a successful flush, and isolated: its failure is logged with its fix and the flush still counts as done."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fitbit.errors import TerminalError
from fitbit.jobs.sweep import SweepPolicy
from fitbit.jobs.transform import TransformContext, handle_object
from fitbit.messages import StoredObject
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse

NOW = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


def _flush(tmp_path, after_flush):
    store = LocalRawStore(tmp_path / "raw", "fitbit-raw")
    store.create("control/flush-1.json", b"{}", {}, "application/json")
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    try:
        ctx = TransformContext(store=store, warehouse=warehouse, queue=None,  # type: ignore[arg-type]
                               clock=lambda: NOW, sweep=SweepPolicy(grace_s=0), after_flush=after_flush)
        return handle_object(StoredObject("fitbit-raw", "control/flush-1.json", "1"), ctx)
    finally:
        warehouse.close()


def test_the_step_runs_after_the_flush_with_the_clocks_time(tmp_path):
    seen = []
    outcome = _flush(tmp_path, lambda now: seen.append(now) or "sheet: 3 tabs")
    assert outcome.startswith("flushed:") and seen == [NOW]


def test_a_failing_step_is_logged_with_its_fix_and_the_flush_stays_done(tmp_path, caplog):
    def fail(now):
        raise TerminalError("the sheet is not shared", fix="share it with the service account")

    with caplog.at_level(logging.ERROR, logger="fitbit.flush"):
        outcome = _flush(tmp_path, fail)
    assert outcome.startswith("flushed:")
    (record,) = [r for r in caplog.records if r.message == "after-flush step failed"]
    assert (record.error_class, record.fix) == ("TerminalError", "share it with the service account")
