"""Lose nothing (issue #11): a run killed at any instant resumes to the warehouse of an uninterrupted run.

Every run here is ``scripts/run_local.py`` in a child process against one simulator over real HTTP. The
crash tests kill the run with SIGKILL at each crash window (``tests/crash_points.py``), run the same
command again, and compare every data table row by row (lineage timestamps aside) with an uninterrupted
run of the same cohort. Also here: one run per state dir, deferrals beyond the wait budget, and the
dead-letter replay command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tools import demo
from tools.chaos import compare

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
USERS, DAYS = 1, 2
END = demo.DEFAULT_END_DATE
RUN_ARGS = ["--date", END.isoformat(), "--days", str(DAYS), "--reason", "backfill", "--run-id", "history"]


@pytest.fixture(scope="module")
def sim():
    # One simulator serves the reference and every crashed run, so its deletions (a point is deleted once a
    # client has read it: stateful) would make the runs see different data; each run must see the same.
    with demo.simulator_process(USERS, DAYS, end_date=END,
                                extra_args=("--sleep-processing-seconds", "0", "--no-deletions")) as running:
        yield running


def _state(tmp_path: Path, sim, name: str = "state") -> Path:
    state = demo.fresh_state_dir(tmp_path / name)
    demo.enrol(state, sim.base_url, ["user1"])
    return state


def _env(state: Path, sim, **overrides: str) -> dict[str, str]:
    return {**os.environ, **demo.demo_settings(state, sim.base_url, **overrides).to_env(), "PYTHONUNBUFFERED": "1"}


def _run(state: Path, sim, *extra: str, module: list[str] | None = None, env: dict[str, str] | None = None,
         **overrides: str) -> subprocess.CompletedProcess:
    command = module or [str(ROOT / "scripts/run_local.py")]
    args = [sys.executable, *command, *RUN_ARGS, "--stats-json", str(state / "stats.json"), *extra]
    return subprocess.run(args, env=env or _env(state, sim, **overrides), cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _stats(state: Path) -> dict:
    return json.loads((state / "stats.json").read_text())


@pytest.fixture(scope="module")
def reference(sim, tmp_path_factory):
    state = _state(tmp_path_factory.mktemp("reference"), sim)
    done = _run(state, sim)
    assert done.returncode == 0, done.stderr
    return state


@pytest.mark.parametrize("point, nth", [
    ("stored-before-event", 12),
    ("staged-before-follow-ups", 1),
    ("handled-before-ack", 20),
    ("mid-merge", 5),
    ("merged-before-cleanup", 5),
])
def test_a_run_killed_in_each_crash_window_resumes_to_the_uninterrupted_warehouse(sim, reference, tmp_path,
                                                                                  point, nth):
    state = _state(tmp_path, sim)
    killed = _run(state, sim, module=["-m", "tests.crash_points", point, str(nth), "--", ])
    assert killed.returncode == -signal.SIGKILL, f"the run never reached {point} #{nth}: {killed.stderr[-800:]}"
    staged = len(list((state / "staging").rglob("*.ndjson")))
    resumed = _run(state, sim)
    assert resumed.returncode == 0, resumed.stderr
    assert compare(reference, state) == (0, 0)
    stats = _stats(state)
    assert stats["dead_lettered"] == [] and stats["blocked_flushes"] == 0
    if point == "stored-before-event":
        assert stats["orphans"] >= 1, "the object stored without its event was found by the sweep"
    elif point in ("mid-merge", "merged-before-cleanup"):
        assert staged > 0 and stats["resumed"] == 0, "the kill came in the last flush, with batches still staged"
    else:
        assert stats["resumed"] >= 1, "the interrupted run's queue was picked up"
    assert not list((state / "staging").rglob("*.ndjson")), "nothing left staged"


def test_a_run_killed_mid_way_is_resumed_by_the_same_command_and_loses_nothing(sim, reference, tmp_path):
    """The issue's reproduction: killed after 40 stored objects, the in-memory queue lost their work for good."""
    state = _state(tmp_path, sim)
    killed = _run(state, sim, module=["-m", "tests.crash_points", "handled-before-ack", "40", "--"])
    assert killed.returncode == -signal.SIGKILL
    stored = len(list((state / "raw" / "objects").rglob("*.json")))
    assert stored >= 15
    resumed = _run(state, sim)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: " in resumed.stdout and "was started before on this state dir: resuming it" in resumed.stdout
    assert compare(reference, state) == (0, 0)


def test_a_second_run_on_the_same_state_dir_exits_at_once_touching_nothing(sim, tmp_path):
    state = _state(tmp_path, sim)
    first = subprocess.Popen([sys.executable, str(ROOT / "scripts/run_local.py"), *RUN_ARGS],
                             env=_env(state, sim), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (state / "queue.sqlite").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        second = subprocess.run([sys.executable, str(ROOT / "scripts/run_local.py"), *RUN_ARGS],
                                env=_env(state, sim), cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert first.poll() is None, "the first run was still going"
        assert second.returncode == 3
        assert f"another run is in progress (pid {first.pid})" in second.stderr
        assert "Traceback" not in second.stderr and "lock" not in second.stdout
        assert time.monotonic() - started < 10
    finally:
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert "0 blocked flushes" in out


def test_the_lock_of_a_killed_run_is_taken_over(sim, tmp_path):
    state = _state(tmp_path, sim)
    killed = _run(state, sim, module=["-m", "tests.crash_points", "handled-before-ack", "3", "--"])
    assert killed.returncode == -signal.SIGKILL
    assert (state / "run.lock").read_text().strip().isdigit(), "the dead run's pid is still in the lock file"
    resumed = _run(state, sim)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming:" in resumed.stdout


def test_a_deferral_beyond_the_wait_budget_flushes_keeps_the_unit_and_the_next_run_picks_it_up(sim, tmp_path):
    state = _state(tmp_path, sim)
    # The module's earlier runs (user1 each) may have filled the simulator's 300/min window for user1: its
    # 429s would defer more units than the one injected here.
    requests.post(sim.base_url + "_admin/reset", json={}, timeout=10).raise_for_status()
    requests.post(sim.base_url + "_admin/faults", json={"rate_limit_burst": 1, "retry_after_s": 4},
                  timeout=10).raise_for_status()
    paused = _run(state, sim, "--max-wait", "1")
    assert paused.returncode == 0, paused.stderr
    assert "1 units pending until " in paused.stdout and "; run again after it" in paused.stdout
    stats = _stats(state)
    assert stats["pending"] == 1 and stats["blocked_flushes"] == 0
    assert not list((state / "staging").rglob("*.ndjson")), "what was staged before the pause was flushed"
    import duckdb

    db = duckdb.connect(str(state / "warehouse.duckdb"), read_only=True)
    loaded = db.execute("SELECT COUNT(*) FROM fitbit.processing_log WHERE status = 'loaded'").fetchone()[0]
    db.close()
    assert loaded > 20
    time.sleep(5)
    resumed = _run(state, sim, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert _stats(state)["pending"] == 0 and _stats(state)["resumed"] == 1
    clean = _state(tmp_path, sim, "clean")
    assert _run(clean, sim).returncode == 0
    assert compare(clean, state) == (0, 0)


def test_dead_letters_are_counted_shown_and_replayed_by_one_command(sim, tmp_path):
    state = _state(tmp_path, sim)
    down = "http://127.0.0.1:9/"  # nothing listens: every unit fails transiently until it is dead-lettered
    offline = {**_env(state, sim), "HEALTH_API_BASE_URL": down, "OAUTH_BASE_URL": down}
    done = _run(state, sim, env=offline)
    assert done.returncode == 0, done.stderr
    units = _stats(state)["dead_lettered"]
    assert len(units) > 20 and all(u.startswith("extract: ") for u in units)
    assert f"dead-lettered events: {len(units)}" in done.stdout
    assert "replay dead letters with: python scripts/dead_letters.py --replay" in done.stdout
    shown = subprocess.run([sys.executable, str(ROOT / "scripts/dead_letters.py")], env=_env(state, sim), cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    assert f"dead letters: {len(units)} (extract: {len(units)})" in shown.stdout
    assert "  extract: user1/steps/" in shown.stdout and "(5 attempts)" in shown.stdout
    replayed = subprocess.run([sys.executable, str(ROOT / "scripts/dead_letters.py"), "--replay"],
                              env=_env(state, sim), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert replayed.returncode == 0, replayed.stderr
    assert f"dead letters: {len(units)} put back in the queue" in replayed.stdout
    assert "dead-lettered events: 0" in replayed.stdout
    clean = _state(tmp_path, sim, "clean")
    assert _run(clean, sim).returncode == 0
    assert compare(clean, state) == (0, 0)
