"""Concurrent delivery for the embedded runtime: extract on a bounded thread pool, transform_load on one thread.

Why (issue #14): an extract spends almost all its time waiting on the API (100-300 ms a request on the
real one); delivered one at a time, a 1,000-participant daily run waited for over an hour. Extract
deliveries therefore go to a pool of ``workers`` threads (each with its own functions-framework test
client; the HTTP session stays per participant). transform_load deliveries go to a single thread of their
own: DuckDB's staging and the flush stay serialised exactly as in a sequential run, and the flush runs only
when nothing is in flight. The dispatcher (the calling thread) alone touches the queue's delivery
bookkeeping (take, settle) and the quota limiter; the handlers publish and store from their threads, so
the queue's publish/enqueue side must be thread-safe.

Quotas: a unit is delivered no earlier than its not-before time (the queue holds it back) and only when the
``SlidingLimiter`` admits its participant; otherwise it is parked here until it has room, still
unacknowledged, so a crash delivers it again. Acknowledgement (``settle``) happens after the handler
answered, in the dispatcher, so a unit counts as done only once its work is stored.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fitbit.quota import SlidingLimiter

D = TypeVar("D")


@dataclass
class Hooks(Generic[D]):
    """What the pool needs from the runtime; every hook but ``post`` runs on the dispatching thread."""

    take: Callable[[], D | None]  # the next due delivery, no longer offered to anyone else; None: none due
    seconds_to_next: Callable[[], float | None]  # until the queue's next delivery is due; None: queue empty
    is_extract: Callable[[D], bool]
    participant: Callable[[D], str | None]  # the unit's participant (None: not a unit, not rate-limited)
    post: Callable[[D], int]  # deliver through the function's entry point; the HTTP status (any thread)
    settle: Callable[[D, int], None]  # ack, retry or dead-letter by status
    flush: Callable[[], None]


@dataclass
class DeliveryPool(Generic[D]):
    hooks: Hooks[D]
    limiter: SlidingLimiter
    workers: int = 16
    transform_backlog: int = 64  # storage events handed to the transform thread ahead of it
    clock: Callable[[], float] = time.monotonic
    _parked: list[tuple[float, int, D]] = field(default_factory=list)
    _order: itertools.count = field(default_factory=itertools.count)
    _running: dict[Future[int], tuple[D, bool]] = field(default_factory=dict)

    def drain(self, max_wait_s: float) -> None:
        """Deliver until the queue, the pool and the parked units are all empty; flush whenever it drains.

        Raises:
            RuntimeError: the next delivery is more than ``max_wait_s`` away.
        """
        extract = ThreadPoolExecutor(self.workers, thread_name_prefix="extract")
        transform = ThreadPoolExecutor(1, thread_name_prefix="transform_load")
        try:
            while True:
                self._settle_done()
                self._dispatch(extract, transform)
                if self._running:
                    self._wait(max_wait_s)
                    continue
                next_in = self._seconds_to_next()
                if next_in is None:
                    self.hooks.flush()
                    if self.hooks.seconds_to_next() is None:
                        return
                    continue
                if next_in > max_wait_s:
                    raise RuntimeError(f"next delivery is {next_in:.0f} s away; raise max_wait_s to wait for it")
                time.sleep(max(0.0, min(next_in, 1.0)))
        finally:
            for future in list(self._running):
                future.cancel()
            extract.shutdown(wait=True)
            transform.shutdown(wait=True)

    def _dispatch(self, extract: ThreadPoolExecutor, transform: ThreadPoolExecutor) -> None:
        while True:
            extracts = sum(1 for _, is_extract in self._running.values() if is_extract)
            if extracts >= self.workers or len(self._running) - extracts >= self.transform_backlog:
                return
            delivery = self._unpark() or self.hooks.take()
            if delivery is None:
                return
            if not self.hooks.is_extract(delivery):
                self._running[transform.submit(self.hooks.post, delivery)] = (delivery, False)
                continue
            participant = self.hooks.participant(delivery)
            now = self.clock()
            wait_s = self.limiter.admit(participant, now) if participant else 0.0
            if wait_s > 0.0:
                heapq.heappush(self._parked, (now + wait_s, next(self._order), delivery))
                continue
            self._running[extract.submit(self.hooks.post, delivery)] = (delivery, True)

    def _unpark(self) -> D | None:
        if self._parked and self._parked[0][0] <= self.clock():
            return heapq.heappop(self._parked)[2]
        return None

    def _seconds_to_next(self) -> float | None:
        waits = [w for w in (self.hooks.seconds_to_next(),
                             self._parked[0][0] - self.clock() if self._parked else None) if w is not None]
        return min(waits) if waits else None

    def _wait(self, max_wait_s: float) -> None:
        next_in = self._seconds_to_next()
        timeout = 1.0 if next_in is None else max(0.0, min(next_in, 1.0, max_wait_s))
        wait(list(self._running), timeout=timeout, return_when=FIRST_COMPLETED)

    def _settle_done(self) -> None:
        for future in [f for f in self._running if f.done()]:
            delivery, _ = self._running.pop(future)
            self.hooks.settle(delivery, future.result())


class PerThread:
    """One value per thread, built on first use (a functions-framework test client is not shared)."""

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build
        self._local = threading.local()

    def get(self) -> object:
        value = getattr(self._local, "value", None)
        if value is None:
            value = self._local.value = self._build()
        return value
