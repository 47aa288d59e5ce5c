"""The embedded runtime's bounded pool of extract deliveries: the API's latency overlaps, nothing else does.

Why (issue #14): an extract delivery is one HTTP round trip to the API (100-300 ms against Google) and a
few milliseconds of CPU; delivered one at a time, a 1,000-participant daily run spent most of an hour
waiting. The pool posts up to ``size`` extract deliveries at once on worker threads. What it runs there
touches only thread-safe things: the raw store (create-if-absent by atomic link), the durable queue (its
own lock), the secrets file (read; writes are ``flock``-ed and atomic) and the participant's HTTP client.

One delivery per participant at a time: each participant's ``requests`` session and OAuth token source
(``helper/compose.py``'s ``client_factory``) are then never shared between threads (google-auth's
``Credentials.refresh`` and a ``requests.Session`` are not documented as thread-safe), and a participant's
requests go out no faster than one per round trip (at 150 ms that is close to the 300/min per-user quota,
which ``fitbit/quota.py``'s not-before spread keeps anyway). A delivery whose participant is busy is
parked (still leased, so the queue does not hand it out again) and goes first when the participant frees.

Settling (ack, retry, dead letter) is the caller's, on its own thread: ``finished`` hands back each
delivery with the HTTP status its handler answered. Run triggers and other messages that name no
participant run in the pool too, without that limit.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from helper.queue import Delivery

Post = Callable[[Delivery], int]  # deliver one event; the handler's HTTP status
Key = Callable[[Delivery], "str | None"]  # the participant a delivery works for (None: no limit)
Pop = Callable[[], "Delivery | None"]  # the next ready extract delivery, leased


class ExtractPool:
    """Up to ``size`` deliveries in flight, one per participant; ``close`` waits for the ones in flight.

    Args:
        post: delivers one event on a worker thread; returns the handler's HTTP status.
        key: the participant of a delivery (None when it names none).
        size: the most deliveries in flight at once (1 is sequential delivery on one worker thread).
        release: hands a parked delivery back to the queue unattempted (on ``close``).
        park_limit: the most deliveries parked behind a busy participant.
    """

    def __init__(self, post: Post, key: Key, size: int, release: Callable[[Delivery], None],
                 park_limit: int | None = None) -> None:
        if size < 1:
            raise ValueError("an extract pool needs at least one worker")
        self.size = size
        self._post, self._key, self._release = post, key, release
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="extract")
        self._running: dict[Future[int], tuple[Delivery, str | None]] = {}
        self._busy: set[str] = set()
        self._parked: deque[tuple[Delivery, str | None]] = deque()
        self._park_limit = park_limit if park_limit is not None else 4 * size
        self._done = threading.Event()  # set by a worker when it finishes: wakes ``wait``
        self.peak_in_flight = 0

    @property
    def in_flight(self) -> int:
        """Deliveries posted and not yet handed back by ``finished``."""
        return len(self._running)

    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing parked."""
        return not self._running and not self._parked

    def fill(self, pop: Pop) -> int:
        """Post deliveries until the pool is full or ``pop`` has none; parked ones go first. Returns how many."""
        posted = 0
        while len(self._running) < self.size:
            item = self._unparked() or self._popped(pop)
            if item is None:
                break
            self._submit(*item)
            posted += 1
        return posted

    def _unparked(self) -> tuple[Delivery, str | None] | None:
        for i, (delivery, key) in enumerate(self._parked):
            if key not in self._busy:
                del self._parked[i]
                return delivery, key
        return None

    def _popped(self, pop: Pop) -> tuple[Delivery, str | None] | None:
        while len(self._parked) < self._park_limit:
            delivery = pop()
            if delivery is None:
                return None
            key = self._key(delivery)
            if key is None or key not in self._busy:
                return delivery, key
            self._parked.append((delivery, key))
        return None

    def _submit(self, delivery: Delivery, key: str | None) -> None:
        if key is not None:
            self._busy.add(key)
        future = self._executor.submit(self._post, delivery)
        self._running[future] = (delivery, key)
        future.add_done_callback(lambda _: self._done.set())
        self.peak_in_flight = max(self.peak_in_flight, len(self._running))

    def finished(self) -> list[tuple[Delivery, int]]:
        """The deliveries whose handler answered since the last call, with its status, for the caller to settle.

        Raises:
            Exception: whatever ``post`` raised (a bug in the runtime, not a handler's failure: the
                functions framework answers 500 for those); the delivery stays leased and is delivered
                again by the next run.
        """
        done = [f for f in self._running if f.done()]
        out = []
        for future in done:
            delivery, key = self._running.pop(future)
            if key is not None:
                self._busy.discard(key)
            out.append((delivery, future.result()))
        return out

    def wait(self, timeout_s: float) -> None:
        """Block until a delivery in flight finishes, or ``timeout_s`` passes."""
        if any(f.done() for f in self._running):
            return
        self._done.clear()
        if self._running and not any(f.done() for f in self._running):
            self._done.wait(timeout_s)

    def close(self) -> None:
        """Wait for the deliveries in flight, then hand them and the parked ones back to the queue unsettled.

        Only a run that stops early (an exception, Ctrl-C) leaves any: they stay in the queue, and the
        same queue object may hand them out again (a new run delivers them again in any case).
        """
        self._executor.shutdown(wait=True)
        for delivery, _ in [*self._running.values(), *self._parked]:
            self._release(delivery)
        self._running.clear()
        self._parked.clear()
        self._busy.clear()
