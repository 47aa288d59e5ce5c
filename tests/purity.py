"""The unit tier's rule, enforced: a unit test opens no socket and starts no process.

``tests/unit/conftest.py`` installs ``Guard`` around every test's setup, call and teardown, so fixtures of
any scope are covered. A forbidden call raises ``UnitTierViolation`` (a ``BaseException``, so an
``except Exception`` in the code under test cannot swallow it); a violation that is swallowed anyway is
recorded and fails the test when the phase ends. The fix is never to relax the guard: move the test to
the tier that does that (``tests/contract``, ``tests/local``, ``tests/emulator``, ``tests/packaging``).

What is refused (patched on the classes and modules, so ``from socket import socket`` is caught too):

- sockets: creating any ``socket.socket`` (TCP, UDP, Unix, ``socketpair``) and ``socket.getaddrinfo``
  (a DNS lookup is network I/O);
- processes: ``subprocess.Popen`` (so ``run``, ``check_output``, ``pip install`` ...), the
  ``fork_exec`` behind it and behind multiprocessing's spawn, and ``os.fork``,
  ``os.forkpty``, ``os.system``, ``os.posix_spawn(p)``, ``os.exec*``.
"""

from __future__ import annotations

import _posixsubprocess
import os
import socket
import subprocess
from collections.abc import Callable, Generator
from typing import Any

import pytest

__all__ = ["Guard", "UnitTierViolation", "guarded_phase"]

_OS_CALLS = ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "execv", "execve", "execvp", "execvpe")


class UnitTierViolation(BaseException):
    """A unit test (or one of its fixtures) opened a socket or started a process."""


class Guard:
    """Refuse sockets and processes while active; ``violations`` lists what was attempted."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.violations: list[str] = []
        self._patch = pytest.MonkeyPatch()

    def _refuse(self, what: str) -> Callable[..., Any]:
        def refused(*_args: Any, **_kwargs: Any) -> Any:
            message = (f"{self.where}: {what} is not allowed in tests/unit (no socket, no process); "
                       f"move the test to the tier that needs it (tests/contract, tests/local, tests/emulator, "
                       f"tests/packaging)")
            self.violations.append(message)
            raise UnitTierViolation(message)

        return refused

    def __enter__(self) -> Guard:
        self._patch.setattr(socket.socket, "__init__", self._refuse("opening a socket"))
        self._patch.setattr(socket, "getaddrinfo", self._refuse("a DNS lookup (socket.getaddrinfo)"))
        self._patch.setattr(subprocess.Popen, "__init__", self._refuse("starting a subprocess"))
        self._patch.setattr(_posixsubprocess, "fork_exec", self._refuse("starting a process (fork_exec)"))
        if hasattr(subprocess, "_fork_exec"):  # subprocess binds its own reference to fork_exec at import
            self._patch.setattr(subprocess, "_fork_exec", self._refuse("starting a process (fork_exec)"))
        for name in _OS_CALLS:
            if hasattr(os, name):
                self._patch.setattr(os, name, self._refuse(f"os.{name}"))
        return self

    def __exit__(self, *_exc: object) -> None:
        self._patch.undo()


def guarded_phase(item: pytest.Item, phase: str) -> Generator[None, Any, Any]:
    """The body of a ``wrapper=True`` runtest hook: run the phase under a Guard, fail it on a violation."""
    with Guard(f"{item.nodeid} ({phase})") as guard:
        result = yield
    if guard.violations:  # raised and swallowed by the code under test: still a failure
        raise UnitTierViolation(guard.violations[0])
    return result
