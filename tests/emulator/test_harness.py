"""The emulator harness itself, without emulators: process groups are stopped whole, failures say why.

Why: a harness that leaks a JVM or a gunicorn worker when a test fails poisons every later run on a
2-core machine, and a skip that hides a missing emulator in CI hides a broken tier.
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from tools.emulators import EmulatorFailed, Stack, down
from tests.emulator.conftest import unavailable


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:  # a zombie awaiting its reaper counts as gone
        return stat.read().split(")")[-1].split()[0] == "Z"


def _child_pid(stack: Stack, name: str) -> int:
    marker = stack.state / f"{name}.child"
    for _ in range(100):
        if marker.exists() and marker.read_text().strip():
            return int(marker.read_text())
        time.sleep(0.05)
    raise AssertionError("the child never wrote its pid")


def test_stopping_a_service_kills_its_whole_process_group_children_included(tmp_path):
    with Stack(tmp_path) as stack:
        service = stack.spawn("parent", ["sh", "-c", f"sleep 300 & echo $! > {tmp_path}/parent.child; wait"])
        child = _child_pid(stack, "parent")
        assert os.getpgid(child) == service.process.pid  # setsid: the service leads its own group
        stack.stop("parent")
        assert service.process.poll() is not None
        for _ in range(50):
            if _gone(child):
                break
            time.sleep(0.05)
        assert _gone(child)


def test_leaving_the_context_stops_everything_even_when_the_body_raises(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with Stack(tmp_path) as stack:
            service = stack.spawn("sleeper", ["sleep", "300"])
            raise RuntimeError("boom")
    assert service.process.poll() is not None


def test_down_stops_what_up_recorded_in_the_pid_file(tmp_path):
    stack = Stack(tmp_path)
    service = stack.spawn("sleeper", ["sleep", "300"])
    reaper = threading.Thread(target=service.process.wait)  # as init reaps what `up` left behind
    reaper.start()
    started = time.monotonic()
    down(tmp_path)
    reaper.join(timeout=10)
    assert service.process.returncode is not None and time.monotonic() - started < 5
    assert not (tmp_path / "pids").exists()


def test_a_service_that_dies_before_it_is_ready_fails_with_its_log(tmp_path):
    with Stack(tmp_path) as stack:
        stack.spawn("broken", [sys.executable, "-c", "import sys; print('no java here'); sys.exit(3)"])
        with pytest.raises(EmulatorFailed, match="(?s)exited with 3.*no java here"):
            stack.wait_ready("broken", "http://127.0.0.1:9/", timeout_s=30)


def test_a_missing_emulator_skips_locally_and_fails_when_required(monkeypatch):
    monkeypatch.delenv("REQUIRE_EMULATORS", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no java"):
        unavailable("no java")
    monkeypatch.setenv("REQUIRE_EMULATORS", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_EMULATORS=1.*no java"):
        unavailable("no java")
