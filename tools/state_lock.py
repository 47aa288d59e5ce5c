"""One run per state dir: an exclusive ``flock`` on ``<state dir>/run.lock`` holding the runner's pid.

Why: two runs on one state dir fought over DuckDB's file lock (17-51 lock errors, sometimes a raw
traceback; issue #11). The second run must stop at once, before it opens anything (the queue, DuckDB),
and say who holds the dir. A ``flock`` is released by the kernel when its holder dies, even by SIGKILL,
so a lock left by a crashed run is taken over by the next run without anyone deleting a file; the pid
written inside is only for the message (and for readers such as the report, which check ``holder``).

Within one process the lock is re-entrant (tests build several runtimes on one state dir in turn).
"""

from __future__ import annotations

import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("fitbit.state_lock")
LOCK_FILE = "run.lock"
_held: dict[Path, tuple[int, int]] = {}  # lock path -> (fd, holders in this process)


class AnotherRunInProgress(RuntimeError):
    """The state dir is held by another live process."""

    def __init__(self, state_dir: Path, pid: int | None) -> None:
        who = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"another run is in progress ({who}) on {state_dir}; wait for it to finish")
        self.pid = pid


def _pid_in(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode(errors="replace").strip()
    return int(text) if text.isdigit() else None


@dataclass
class StateLock:
    path: Path
    _released: bool = False

    @classmethod
    def acquire(cls, state_dir: Path) -> StateLock:
        """Hold the state dir for this process, or raise at once.

        Raises:
            AnotherRunInProgress: another live process holds it (nothing was created or opened).
        """
        path = (Path(state_dir) / LOCK_FILE).resolve()
        if path in _held:
            fd, count = _held[path]
            _held[path] = (fd, count + 1)
            return cls(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(fd)
            os.close(fd)
            raise AnotherRunInProgress(Path(state_dir), pid) from None
        previous = _pid_in(fd)
        if previous and previous != os.getpid():
            log.warning("took over the lock of a run that is no longer running", extra={"pid": previous})
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held[path] = (fd, 1)
        return cls(path)

    def release(self) -> None:
        if self._released or self.path not in _held:
            return
        self._released = True
        fd, count = _held[self.path]
        if count > 1:
            _held[self.path] = (fd, count - 1)
            return
        del _held[self.path]
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def holder(state_dir: Path) -> int | None:
    """The pid of the process holding ``state_dir`` (0 if it has not written it yet), or None; creates nothing.

    This process's own hold does not count.
    """
    path = Path(state_dir) / LOCK_FILE
    if not path.is_file() or path.resolve() in _held:
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_in(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
