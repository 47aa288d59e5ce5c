"""status / export / report read the embedded warehouse read-only, and respect a run holding the state dir;
withdraw takes the state dir as a run does; status shows what the durable queue still holds per participant.

"A run" here is a second process that takes the state lock (``tools.state_lock``) and, in one case, opens the
DuckDB file for writing, as ``LocalRuntime`` does once its first page is loaded: the commands under test run
in this process against it, so what they meet is the real lock and DuckDB's real one-writer rule.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from fitbit.messages import StoredObject, Unit
from helper.queue import LocalQueue
from simulator import running_simulator
from tools import demo
from tools.cli.main import main

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
END = demo.DEFAULT_END_DATE
BUSY = "a run is in progress (pid {pid}); try again when it ends"


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    """One participant, two days, run by the `fitbit-pipeline run` console script against the simulator."""
    state = demo.fresh_state_dir(tmp_path_factory.mktemp("ro") / "state")
    with running_simulator(users=1, days=2, seed=5, sleep_processing_seconds=0) as sim:
        demo.enrol(state, sim.base_url, ["user1"])
        done = subprocess.run([str(Path(sys.executable).with_name("fitbit-pipeline")), "--state-dir", str(state),
                               "--api-base-url", sim.base_url, "--oauth-base-url", sim.base_url, "run", "--from",
                               str(END - timedelta(days=1)), "--to", str(END)], capture_output=True, text=True,
                              timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return state


@contextmanager
def a_run_holding(state: Path, *, warehouse: bool) -> Iterator[subprocess.Popen]:
    """Another process holding the state lock (and with ``warehouse``, the DuckDB file open for writing)."""
    script = ("import sys, duckdb; from pathlib import Path; from tools.state_lock import StateLock; "
              f"lock = StateLock.acquire(Path({str(state)!r})); "
              + (f"db = duckdb.connect({str(state / 'warehouse.duckdb')!r}); " if warehouse else "")
              + "print('ready', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        yield holder
    finally:
        holder.communicate("", timeout=30)


def _files(state: Path) -> list[tuple[Path, int]]:
    return sorted((p, p.stat().st_size) for p in state.rglob("*") if p.is_file() and p.name != "run.lock")


@pytest.mark.parametrize("command", [["status"], ["export", "--out", "{tmp}/x"], ["report", "--out", "{tmp}/r.html"]])
def test_a_reader_meeting_a_run_with_the_warehouse_open_names_it_and_exits_3(state, tmp_path, command):
    argv = [a.format(tmp=tmp_path) for a in command]
    with a_run_holding(state, warehouse=True) as run:
        code, _, err = run_main("--state-dir", str(state), *argv)
    assert code == 3 and BUSY.format(pid=run.pid) in err and "Traceback" not in err


def test_readers_work_read_only_while_a_run_holds_the_lock_but_not_the_warehouse(state, tmp_path):
    before = _files(state)
    with a_run_holding(state, warehouse=False):
        status = run_main("--state-dir", str(state), "status", "--json", "--as-of", str(END), "--days", "2")
        export = run_main("--state-dir", str(state), "export", "--out", str(tmp_path / "x"), "--tables", "steps_daily")
        report = run_main("--state-dir", str(state), "report", "--out", str(tmp_path / "r.html"))
    assert status[0] == 0 and [p["participant"] for p in json.loads(status[1])["participants"]] == ["user1"]
    assert export[0] == 0 and (tmp_path / "x" / "steps_daily.csv").stat().st_size > 0
    assert report[0] == 0 and (tmp_path / "r.html").stat().st_size > 1000
    assert _files(state) == before, "a reader changed the state dir"


@pytest.mark.parametrize("warehouse", [False, True])
def test_withdraw_refuses_while_a_run_holds_the_state_dir_and_changes_nothing(state, warehouse):
    before = _files(state)
    with a_run_holding(state, warehouse=warehouse) as run:
        code, _, err = run_main("--state-dir", str(state), "withdraw", "user1", "--yes")
    assert code == 3 and BUSY.format(pid=run.pid) in err
    assert _files(state) == before


def test_status_counts_the_units_and_pages_the_durable_queue_still_holds_per_participant(state, tmp_path):
    copy = tmp_path / "state"
    shutil.copytree(state, copy)
    queue = LocalQueue(copy / "queue.sqlite")
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    queue.publish([Unit("user1", "steps", "reconcile", date(2026, 11, 4), date(2026, 11, 5), "daily", not_before=later),
                   Unit("user1", "sleep", "list", date(2026, 11, 4), date(2026, 11, 5), "backfill")])
    queue.object_finalized(StoredObject("fitbit-raw", "raw/user1/steps/2026-11-05/x.json", "1"), 10,
                           datetime.now(timezone.utc))
    queue.close()
    code, out, _ = run_main("--state-dir", str(copy), "status", "--json", "--as-of", str(END), "--days", "2")
    assert code == 0 and json.loads(out)["participants"][0]["queue"] == {"units": 2, "pages": 1}
    code, out, _ = run_main("--state-dir", str(copy), "status", "--as-of", str(END), "--days", "2")
    assert "queued 2 units, 1 pages" in out
    code, out, _ = run_main("--state-dir", str(state), "status", "--json", "--as-of", str(END), "--days", "2")
    assert json.loads(out)["participants"][0]["queue"] == {"units": 0, "pages": 0}


def test_withdraw_drops_the_participants_queued_and_dead_lettered_work_so_no_run_records_them_again(state, tmp_path):
    copy = tmp_path / "state"
    shutil.copytree(state, copy)
    queue = LocalQueue(copy / "queue.sqlite")
    queue.publish([Unit("user1", "sleep", "list", date(2026, 11, 3), date(2026, 11, 4), "backfill")])
    queue.dead_letter(queue.pop_ready(), 503)
    queue.publish([Unit("user1", "steps", "reconcile", date(2026, 11, 4), date(2026, 11, 5), "daily")])
    queue.object_finalized(StoredObject("fitbit-raw", "raw/user1/steps/2026-11-05/x.json", "1"), 10,
                           datetime.now(timezone.utc))
    queue.close()
    code, out, err = run_main("--state-dir", str(copy), "withdraw", "user1", "--yes")
    assert code == 0, err
    assert json.loads(out.split("; ", 2)[2])["queued"] == 3
    queue = LocalQueue(copy / "queue.sqlite")
    assert (queue.queued_units(), queue.pending_objects(), queue.dead_letters(), len(queue)) == ([], set(), [], 0)
    queue.close()
