"""One run per state dir: the second one is refused with the holder's pid; a dead holder's lock is taken over."""

import os
import subprocess
import sys

import pytest

from tools.state_lock import AnotherRunInProgress, StateLock, holder

HOLD = ("import sys, time; sys.path.insert(0, sys.argv[2]); from tools.state_lock import StateLock; "
        "StateLock.acquire(sys.argv[1]); print('held', flush=True); time.sleep(60)")


@pytest.fixture
def other_process(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), root], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_state_dir_held_by_another_process_is_refused_with_its_pid(tmp_path, other_process):
    with pytest.raises(AnotherRunInProgress, match=f"another run is in progress \\(pid {other_process.pid}\\)"):
        StateLock.acquire(tmp_path)
    assert holder(tmp_path) == other_process.pid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.lock"], "the refused run created nothing"


def test_the_lock_of_a_killed_holder_is_taken_over(tmp_path, other_process):
    other_process.kill()
    other_process.wait()
    assert (tmp_path / "run.lock").read_text().strip() == str(other_process.pid)
    assert holder(tmp_path) is None
    lock = StateLock.acquire(tmp_path)
    assert (tmp_path / "run.lock").read_text().strip() == str(os.getpid())
    lock.release()


def test_the_lock_is_reentrant_within_a_process_and_released_by_its_last_holder(tmp_path):
    first = StateLock.acquire(tmp_path)
    second = StateLock.acquire(tmp_path)
    second.release()
    code = "import sys; sys.path.insert(0, sys.argv[2]); from tools.state_lock import holder; print(holder(sys.argv[1]))"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    seen = subprocess.run([sys.executable, "-c", code, str(tmp_path), root], capture_output=True, text=True)
    assert seen.stdout.strip() == str(os.getpid())
    first.release()
    seen = subprocess.run([sys.executable, "-c", code, str(tmp_path), root], capture_output=True, text=True)
    assert seen.stdout.strip() == "None"
