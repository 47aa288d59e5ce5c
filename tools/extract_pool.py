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

Quotas: the fan-out spreads units in whole-minute slots under both budgets (``fitbit/quota.py``); the
pool still limits itself (``SlidingLimiter``: per participant and per project, sliding 60 s windows), so a
slot delivered late into the next one, next pages and re-reads no plan knew of wait here instead of
meeting a 429. A unit without room is parked until it has some.

Settling (ack, retry, dead letter) is the caller's, on its own thread: ``finished`` hands back each
delivery with the HTTP status its handler answered. Run triggers and other messages that name no
participant run in the pool too, without that limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from fitbit.quota import QuotaLimits
from helper.queue import Delivery

Post = Callable[[Delivery], int]  # deliver one event; the handler's HTTP status
Key = Callable[[Delivery], "str | None"]  # the participant a delivery works for (None: no limit)
Pop = Callable[[], "Delivery | None"]  # the next ready extract delivery, leased
DEFAULT_LIMITS = QuotaLimits()
Parked = tuple[Delivery, "str | None", float]  # a delivery, its participant, when the limiter has room (clock)


class SlidingLimiter:
    """Admits requests under the per-user and project budgets, each a sliding 60 s window (explicit time).

    Not thread-safe: the pool's caller (one thread) owns it.
    """

    def __init__(self, limits: QuotaLimits) -> None:
        self._user_budget, self._project_budget = limits.user_budget, limits.project_budget
        self._users: dict[str, deque[float]] = {}
        self._project: deque[float] = deque()

    def admit(self, participant: str, now: float) -> float:
        """0.0 when admitted (and counted); else the seconds until the participant and project have room."""
        window = self._users.setdefault(participant, deque())
        for w in (window, self._project):
            while w and w[0] <= now - 60.0:
                w.popleft()
        wait = 0.0
        if len(window) >= self._user_budget:
            wait = window[0] + 60.0 - now
        if len(self._project) >= self._project_budget:
            wait = max(wait, self._project[0] + 60.0 - now)
        if wait > 0.0:
            return wait
        window.append(now)
        self._project.append(now)
        return 0.0


class ExtractPool:
    """Up to ``size`` deliveries in flight, one per participant; ``close`` waits for the ones in flight.

    Args:
        post: delivers one event on a worker thread; returns the handler's HTTP status.
        key: the participant of a delivery (None when it names none).
        size: the most deliveries in flight at once (1 is sequential delivery on one worker thread).
        release: hands a parked delivery back to the queue unattempted (on ``close``).
        limits: the quotas the pool keeps under (``SlidingLimiter``).
        park_limit: the most deliveries parked (behind a busy participant or the limiter).
        clock: monotonic seconds.
    """

    def __init__(self, post: Post, key: Key, size: int, release: Callable[[Delivery], None],
                 limits: QuotaLimits = DEFAULT_LIMITS, park_limit: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError("an extract pool needs at least one worker")
        self.size = size
        self._post, self._key, self._release = post, key, release
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="extract")
        self._running: dict[Future[int], tuple[Delivery, str | None]] = {}
        self._busy: set[str] = set()
        self._parked: deque[Parked] = deque()
        self._park_limit = park_limit if park_limit is not None else 4 * size
        self._limiter = SlidingLimiter(limits)
        self._clock = clock
        self.held_by_limiter = 0  # deliveries the limiter made wait
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
        now = self._clock()
        for i, (delivery, key, room_at) in enumerate(list(self._parked)):
            if key not in self._busy and room_at <= now and self._admitted(delivery, key, now, i):
                del self._parked[i]
                return delivery, key
        return None

    def _popped(self, pop: Pop) -> tuple[Delivery, str | None] | None:
        while len(self._parked) < self._park_limit:
            delivery = pop()
            if delivery is None:
                return None
            key = self._key(delivery)
            if key is None:
                return delivery, key
            if key in self._busy:
                self._parked.append((delivery, key, 0.0))
            elif self._admitted(delivery, key, self._clock(), None):
                return delivery, key
        return None

    def _admitted(self, delivery: Delivery, key: str | None, now: float, parked_at: int | None) -> bool:
        """Ask the limiter; a delivery without room is parked (or stays parked) until it has some."""
        wait_s = 0.0 if key is None else self._limiter.admit(key, now)
        if wait_s <= 0.0:
            return True
        if parked_at is None:
            self._parked.append((delivery, key, now + wait_s))
        else:
            held_before = self._parked[parked_at][2] > 0.0  # counted then
            self._parked[parked_at] = (delivery, key, now + wait_s)
            if held_before:
                return False
        self.held_by_limiter += 1
        return False

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
        """Block until a delivery in flight finishes or a parked one may have room, at most ``timeout_s``."""
        if self._parked and len(self._running) < self.size:  # full: only a finished delivery helps
            room = [at for _, key, at in self._parked if key not in self._busy]
            if room:
                timeout_s = min(timeout_s, max(0.0, min(room) - self._clock()))
        if not self._running:
            time.sleep(timeout_s)
            return
        self._done.clear()
        if not any(f.done() for f in self._running):
            self._done.wait(timeout_s)

    def close(self) -> None:
        """Wait for the deliveries in flight, then hand them and the parked ones back to the queue unsettled.

        Only a run that stops early (an exception, Ctrl-C) leaves any: they stay in the queue, and the
        same queue object may hand them out again (a new run delivers them again in any case).
        """
        self._executor.shutdown(wait=True)
        for delivery, *_ in [*self._running.values(), *self._parked]:
            self._release(delivery)
        self._running.clear()
        self._parked.clear()
        self._busy.clear()
