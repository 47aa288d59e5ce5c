"""The unit tier's guard trips: planted tests that open a socket or start a process fail, pure ones pass.

An inner pytest session (in process) runs with this tier's own conftest, so the wiring is what is tested.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.purity import Guard, UnitTierViolation

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()

PLANTED = '''
import multiprocessing
import os
import socket
import subprocess
import sys

import pytest


@pytest.fixture(scope="session")
def server():
    listener = socket.socket()
    yield listener
    listener.close()


def test_pure():
    assert sum(range(4)) == 6


def test_opens_a_socket():
    socket.create_connection(("127.0.0.1", 9))


def test_starts_a_subprocess():
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_forks():
    os.fork()


def test_spawns_a_process():
    multiprocessing.get_context("spawn").Process(target=print).start()


def test_installs_a_package():
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--dry-run", "pip"])


def test_swallows_the_violation():
    try:
        socket.socket()
    except BaseException:
        pass


def test_uses_a_session_fixture_that_opens_a_socket(server):
    pass
'''


def test_planted_socket_and_process_tests_fail_and_the_pure_one_passes(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_planted=PLANTED)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=6, errors=1)
    out = result.stdout.str()
    for name, phase in [("test_opens_a_socket", "call"), ("test_starts_a_subprocess", "call"), ("test_forks", "call"),
                        ("test_spawns_a_process", "call"), ("test_installs_a_package", "call"),
                        ("test_swallows_the_violation", "call"),
                        ("test_uses_a_session_fixture_that_opens_a_socket", "setup")]:
        assert f"UnitTierViolation: test_planted.py::{name} ({phase}): " in out, name
    assert "is not allowed in tests/unit" in out


def test_the_guard_restores_everything_it_patched() -> None:
    before = (socket.socket.__init__, socket.getaddrinfo, subprocess.Popen.__init__)
    with Guard("here") as guard, pytest.raises(UnitTierViolation):
        socket.getaddrinfo("localhost", 80)
    assert guard.violations and "DNS lookup" in guard.violations[0]
    assert (socket.socket.__init__, socket.getaddrinfo, subprocess.Popen.__init__) == before
