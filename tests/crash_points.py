"""Run ``scripts/run_local.py`` in this process and SIGKILL it at one named instant (for the crash tests).

``python -m tests.crash_points POINT N -- <run_local arguments>``: the N-th time the run reaches POINT, the
process kills itself with SIGKILL, exactly as ``kill -9`` from outside would, but at an instant a random
kill rarely hits. Nothing else changes: the run is the real one, with its real queue, store and warehouse.

Points (the crash windows of issue #11):

- ``stored-before-event``: a raw object is stored, its storage event not yet enqueued;
- ``staged-before-follow-ups``: transform_load staged its rows, but neither published the follow-ups
  (next page, TCX export) nor logged the outcome;
- ``handled-before-ack``: a handler answered 2xx, the queue has not yet removed the delivery;
- ``mid-merge``: a DuckDB MERGE ran, its transaction is not committed;
- ``merged-before-cleanup``: a table's MERGE committed, its staged files are not yet deleted.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, Callable

from fitbit.jobs import transform
from helper.queue import LocalQueue
from helper.warehouse import DuckDbWarehouse

_count = {"n": 0}


def _reached(nth: int) -> None:
    _count["n"] += 1
    if _count["n"] == nth:
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def _before(owner: Any, name: str, nth: int, when: Callable[..., bool] = lambda *a, **k: True) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if when(*args, **kwargs):
            _reached(nth)
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def _after(owner: Any, name: str, nth: int, when: Callable[[Any], bool] = lambda result: True) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if when(result):
            _reached(nth)
        return result

    setattr(owner, name, wrapper)


class _KillBeforeCommit:
    """A DuckDB connection that dies instead of the N-th COMMIT."""

    def __init__(self, conn: Any, nth: int) -> None:
        self._conn, self._nth = conn, nth

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            _reached(self._nth)
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _mid_merge(nth: int) -> None:
    original = DuckDbWarehouse.__init__

    def init(self: DuckDbWarehouse, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._db = _KillBeforeCommit(self._db, nth)  # type: ignore[assignment]

    DuckDbWarehouse.__init__ = init  # type: ignore[method-assign]


POINTS: dict[str, Callable[[int], None]] = {
    "stored-before-event": lambda n: _before(LocalQueue, "object_finalized", n),
    "staged-before-follow-ups": lambda n: _after(transform, "follow_ups", n, when=bool),
    "handled-before-ack": lambda n: _before(LocalQueue, "ack", n),
    "mid-merge": _mid_merge,
    "merged-before-cleanup": lambda n: _after(DuckDbWarehouse, "_merge_isolated", n,
                                              when=lambda result: result[0] > 0),
}


def main(argv: list[str]) -> int:
    point, nth, separator, *run_args = argv
    assert separator == "--", "usage: python -m tests.crash_points POINT N -- <run_local arguments>"
    POINTS[point](int(nth))
    from tools.run_local import main as run

    return run(run_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
