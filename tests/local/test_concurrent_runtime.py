"""The concurrent embedded runtime loads exactly what a sequential run loads, over real HTTP with latency.

Two state dirs, each run against a fresh simulator of the same seed (a participant deletes a point once a
client has read it, so a second run on the same simulator would see less), sleep processed at once so the
runs see the same answers, 150 ms latency so deliveries really overlap: a sequential run (``workers=0``) and a concurrent one. The
warehouses must be equal row for row, every table's key unique, and the concurrent run must have
overlapped its requests (more than one in flight at the simulator).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from fitbit.catalogue import all_tables
from fitbit.messages import RunTrigger
from simulator import running_simulator
from tools import demo
from tools.local_runtime import LocalRuntime
from tools.summary import summarise

pytestmark = pytest.mark.slow

USERS, DAYS = 4, 3
END = demo.DEFAULT_END_DATE


def _snapshot(warehouse: object) -> dict[str, list[tuple]]:
    """Every table's rows, without the columns that record when this run fetched and loaded them."""
    snap = {}
    for table in all_tables():
        cols = [c for c in table.column_names if c not in ("fetched_at", "loaded_at", "processed_at")]
        snap[table.name] = sorted(warehouse.query(f"SELECT {', '.join(cols)} FROM {table.name}"), key=repr)  # type: ignore[attr-defined]
    return snap


def _run(state: Path, workers: int) -> tuple[LocalRuntime, dict]:
    participants = [f"user{i}" for i in range(1, USERS + 1)]
    with running_simulator(users=USERS, days=DAYS + 1, seed=5, end_date=END, sleep_processing_seconds=0,
                           latency_ms=150, latency_jitter=0.5) as live:
        base_url = live.base_url + "/"
        demo.enrol(demo.fresh_state_dir(state), base_url, participants)
        runtime = LocalRuntime(demo.demo_settings(state, base_url, SLEEP_REFETCH_DELAY_S="0"), workers=workers)
        runtime.publish([RunTrigger(END, DAYS, "backfill", run_id="history")])
        runtime.run_until_empty()
        return runtime, live.sim.control.stats()


def test_a_concurrent_run_loads_the_same_rows_as_a_sequential_one_without_duplicates(tmp_path: Path) -> None:
    sequential, _ = _run(tmp_path / "sequential", workers=0)
    concurrent, stats = _run(tmp_path / "concurrent", workers=8)
    seq_wh, con_wh = sequential.adapters.warehouse(), concurrent.adapters.warehouse()
    assert summarise(con_wh).failures == [] and concurrent.stats.dead_lettered == []
    assert summarise(con_wh).total_rows > 1_000
    assert _snapshot(con_wh) == _snapshot(seq_wh)
    for table in all_tables():
        key = ", ".join(table.key)
        dupes = con_wh.query(f"SELECT COUNT(*) FROM (SELECT {key} FROM {table.name} GROUP BY {key} "
                             "HAVING COUNT(*) > 1)")
        assert dupes == [(0,)], f"{table.name} has duplicate keys"
    assert stats["quota"]["429s"] == {"user": 0, "project": 0, "injected": 0}
    assert concurrent.stats.seconds < sequential.stats.seconds, "the requests' latency overlapped"
    assert timedelta(seconds=concurrent.stats.seconds) < timedelta(minutes=5)
