"""The embedded runtime: the whole flow in one process, through the real function entry points.

Every delivery goes through functions-framework's own CloudEvent decoding (binary-mode HTTP, as
Eventarc posts it), so the handlers run exactly as they do on Cloud Functions. Delivery semantics
follow Pub/Sub's: an HTTP 2xx acknowledges; anything else is redelivered with exponential backoff
until ``max_deliveries``, after which the event is dead-lettered (kept, counted, shown, replayable with
``scripts/dead_letters.py --replay``; never dropped silently). When the queue drains, staged rows are
flushed into the warehouse.

Lose nothing (issue #11). The queue is durable (SQLite in the state dir, ``helper/queue.py``): a message
or storage event is committed before it counts as published, and removed only once its handler answered
2xx. So a run killed at any instant is resumed by running again on the same state dir:

1. the state-dir lock (``tools/state_lock.py``) is taken first; a second run stops before opening anything;
2. what the interrupted run staged is flushed (a MERGE it was in the middle of had rolled back);
3. the orphan sweep (``fitbit/jobs/sweep.py``) re-enqueues every raw object that has no outcome and no
   queued event (killed between storing an object and enqueuing its event);
4. the queue is delivered from where it stopped: a delivery whose handler had partly run is delivered
   again, which is safe because the handlers are idempotent (objects are create-if-absent under
   content-addressed names, batches are staged under the object's name and replaced, MERGE is by key).

A deferral beyond the wait budget (a long Retry-After, a sleep re-read an hour away) ends the run after a
flush, keeping the pending units in the queue: "N units pending until <time>; run again after it".
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

from fitbit import quota
from fitbit.errors import PipelineError
from fitbit.jobs import flush as flush_job
from fitbit.jobs import sweep
from fitbit.messages import Message, StoredObject, Unit, decode
from fitbit.ports import FlushResult
from helper.cloudevents import PUBSUB_EVENT, STORAGE_FINALIZED, message_from_pubsub_event
from helper.compose import Adapters, adapters, transform_context
from helper.queue import Delivery, LocalQueue, utc_now
from helper.settings import Settings
from tools.extract_pool import ExtractPool
from tools.state_lock import StateLock

log = logging.getLogger("fitbit.local_runtime")
ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = {PUBSUB_EVENT: ("extract", ROOT / "functions/extract/main.py")}
TRANSFORM = ("transform_load", ROOT / "functions/transform_load/main.py")
# Nothing is in flight when a run starts (the lock says so): every object without an outcome is an orphan.
START_OF_RUN_SWEEP = sweep.SweepPolicy(grace_s=0.0, horizon_s=None, limit=1_000_000)
# Mid-run flushes: staged NDJSON beyond this is merged before more is staged (peak RSS of a flush grows with
# the rows it merges: 7.9 M rows at once held 3.5 GiB). Checked every FLUSH_CHECK_EVERY transform deliveries.
FLUSH_STAGED_BYTES = 256 * 2**20
FLUSH_CHECK_EVERY = 100


@dataclass
class RunStats:
    delivered: int = 0
    deferred: int = 0
    redelivered: int = 0
    dead_lettered: list[str] = field(default_factory=list)
    seconds: float = 0.0
    resumed: int = 0  # deliveries an interrupted run left in the queue
    orphans: int = 0  # raw objects the start-of-run sweep delivered again
    flushes: int = 0
    quarantined: list[str] = field(default_factory=list)  # "table: raw object (reason)"
    blocked_flushes: int = 0  # flushes that left a table staged (retried by the next flush)
    nulled: int = 0  # non-finite floats written as null
    pending: int = 0  # deliveries left for a later run (deferred beyond the wait budget)
    concurrency: int = 1  # extract deliveries in flight at most
    peak_in_flight: int = 0  # extract deliveries in flight at once, at most, as it happened
    held_by_limiter: int = 0  # units the runtime's quota limiter made wait (tools/extract_pool.py)
    pending_until: datetime | None = None

    def pending_line(self) -> str | None:
        if not self.pending or self.pending_until is None:
            return None
        return (f"{self.pending} units pending until {self.pending_until.strftime('%Y-%m-%d %H:%M:%S')} UTC; "
                "run again after it")

    def to_json(self) -> dict[str, Any]:
        body = {k: v for k, v in vars(self).items() if k != "pending_until"}
        body["pending_until"] = self.pending_until.isoformat() if self.pending_until else None
        return body


class LocalRuntime:
    """One run on one state dir. Takes the state-dir lock first; ``close`` releases it."""

    def __init__(self, settings: Settings, *, max_deliveries: int = 5, max_wait_s: float = 600.0,
                 concurrency: int | None = None, flush_staged_bytes: int = FLUSH_STAGED_BYTES,
                 keep_journal: bool = False) -> None:
        if settings.runtime != "local":
            raise ValueError("the local runtime runs only with FITBIT_RUNTIME=local")
        self.lock = StateLock.acquire(settings.state_dir)  # raises AnotherRunInProgress, touching nothing
        try:
            self._start(settings, max_deliveries, max_wait_s)
            self.concurrency = settings.extract_concurrency if concurrency is None else concurrency
            if self.concurrency < 1:
                raise ValueError("concurrency is at least 1 (one extract delivery at a time)")
            self.stats.concurrency = self.concurrency
            self.flush_staged_bytes = flush_staged_bytes
            self.keep_journal = keep_journal
        except BaseException:
            self.lock.release()
            raise

    def _start(self, settings: Settings, max_deliveries: int, max_wait_s: float) -> None:
        import functions_framework

        self.settings = settings
        # The functions read Settings from the environment, as on Cloud Functions: export ours (again at the
        # start of every run, whatever else changed the environment meanwhile, but never while worker threads
        # deliver: os.environ is process-wide) so that they rebuild equal Settings and so share this
        # runtime's (cached) queue, store and warehouse.
        self._env = settings.to_env()
        os.environ.update(self._env)
        self.adapters: Adapters = adapters(settings)
        self.queue: LocalQueue = self.adapters.queue
        self.max_deliveries = max_deliveries
        self.max_wait_s = max_wait_s
        self.stats = RunStats(resumed=len(self.queue))
        self._recovered = False
        self._since_check = 0
        # With keep_journal, every event delivered, in order settled: what a replay of "every message and storage
        # event" re-sends (tests). Off by default: ~2.4 KB a delivery, 140 MB for a 1,000-participant day.
        self.journal: list[Delivery] = []
        self._apps = {
            "extract": functions_framework.create_app("extract", str(FUNCTIONS[PUBSUB_EVENT][1]), "cloudevent"),
            "transform_load": functions_framework.create_app(TRANSFORM[0], str(TRANSFORM[1]), "cloudevent"),
        }
        self._local = threading.local()

    def close(self) -> None:
        self.lock.release()

    def __enter__(self) -> LocalRuntime:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- what goes into the queue ------------------------------------------------------------------------

    def publish(self, messages: list[Message]) -> None:
        self.queue.publish(messages)

    def publish_once(self, run_key: str, messages: Sequence[Message]) -> bool:
        """Publish a run's trigger once per state dir; False: it was published before (this run resumes it)."""
        return self.queue.publish_once(run_key, messages)

    def replay(self, deliveries: list[Delivery]) -> None:
        """Deliver these events again (as Pub/Sub and Eventarc may), each as a first attempt."""
        for d in deliveries:
            self.queue.enqueue(d.event_type, d.source, d.subject, d.data)

    def reprocess(self, names: Sequence[str]) -> None:
        """Deliver storage events for these raw objects again (after a parser fix, for a quarantined batch)."""
        store = self.adapters.store
        for name in names:
            store.read(name)  # raises FileNotFoundError for a name that is not stored
            self.queue.object_finalized(StoredObject(store.bucket, name, "reprocess"), 0, utc_now())

    # --- running -------------------------------------------------------------------------------------------

    def recover(self) -> None:
        """Start of a run: flush what an interrupted run staged, then enqueue the orphans again."""
        self._recovered = True
        self.flush()
        ctx = transform_context(self.settings)
        exclude = self.queue.pending_objects() | self.queue.dead_lettered_objects()
        found = sweep.orphans(ctx.store, ctx.warehouse, now=utc_now(), policy=START_OF_RUN_SWEEP, exclude=exclude)
        for orphan in found:
            generation = str(int(orphan.created.timestamp() * 1e6))
            self.queue.object_finalized(StoredObject(ctx.store.bucket, orphan.name, generation), orphan.size,
                                        orphan.created)
        self.stats.orphans += len(found)
        if found:
            log.warning("orphans delivered again", extra={"objects": len(found)})

    def run_until_empty(self) -> RunStats:
        """Deliver until nothing is left (or only deferrals beyond the wait budget), then flush.

        Extract deliveries go to the pool (``tools/extract_pool.py``); everything else (transform_load,
        and every warehouse write and flush with it) runs on this thread, between the pool's turns.
        """
        started = time.monotonic()
        os.environ.update(self._env)  # once, before any worker thread: see _start
        if not self._recovered:
            self.recover()
        self.stats.pending, self.stats.pending_until = 0, None
        pool = ExtractPool(self._post, self._participant_of, self.concurrency, self.queue.release,
                           limits=quota.QuotaLimits.for_app(self.settings.oauth_app_verified))
        try:
            self._deliver_all(pool)
        finally:
            pool.close()
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, pool.peak_in_flight)
            self.stats.held_by_limiter += pool.held_by_limiter
        self.stats.nulled = getattr(self.adapters.warehouse(), "nulled", 0)
        self.stats.seconds += time.monotonic() - started
        return self.stats

    def _deliver_all(self, pool: ExtractPool) -> None:
        while True:
            for delivery, status in pool.finished():
                self._settle(delivery, status)
            pool.fill(lambda: self.queue.pop_ready(PUBSUB_EVENT))
            delivery = self.queue.pop_ready(STORAGE_FINALIZED)
            if delivery is None and pool.idle:
                delivery = self.queue.pop_ready()  # any other event type, here
            if delivery is not None:
                self._settle(delivery, self._post(delivery))
                self._flush_if_staged_beyond_budget()
                continue
            if not pool.idle:
                pool.wait(0.1)  # a finished extract wakes it; 0.1 s: a deferred unit may come due meanwhile
                continue
            next_at = self.queue.next_ready_at()
            if next_at is None:
                self.flush()
                return
            wait = (next_at - utc_now()).total_seconds()
            if wait > self.max_wait_s:
                self.flush()
                self.stats.pending, self.stats.pending_until = len(self.queue), next_at
                log.warning("deferred beyond the wait budget; run again later",
                            extra={"pending": self.stats.pending, "until": next_at.isoformat()})
                return
            time.sleep(max(0.0, min(wait, 1.0)))

    def _flush_if_staged_beyond_budget(self) -> None:
        """Flush mid-run once the staged batches pass the budget: a flush's memory grows with what it merges.

        Safe with extracts in flight: a flush touches the staging folder and the warehouse, which only
        this thread writes (transform_load runs here, paused while it flushes); the workers write raw
        objects and queue rows.
        """
        self._since_check += 1
        if self._since_check < FLUSH_CHECK_EVERY:
            return
        self._since_check = 0
        if staged_bytes(self.adapters.warehouse()) > self.flush_staged_bytes:
            self.flush()

    def flush(self) -> FlushResult:
        result = flush_job.flush(transform_context(self.settings))
        self.stats.flushes += 1
        self.stats.quarantined += [f"{q.table}: {q.batch_id} ({q.reason})" for q in result.quarantined]
        if result.blocked:
            self.stats.blocked_flushes += 1
        return result

    def _post(self, delivery: Delivery) -> int:
        """Deliver one event through its function (on any thread); the HTTP status it answered."""
        target = "extract" if delivery.event_type == PUBSUB_EVENT else "transform_load"
        clients = getattr(self._local, "clients", None)
        if clients is None:  # a werkzeug test client keeps per-request state: one per thread
            clients = self._local.clients = {name: app.test_client() for name, app in self._apps.items()}
        headers = {f"ce-{k}": v for k, v in delivery.attributes().items()}
        headers["Content-Type"] = "application/json"
        return int(clients[target].post("/", data=json.dumps(delivery.data), headers=headers).status_code)

    def _settle(self, delivery: Delivery, status: int) -> None:
        """Acknowledge a 2xx; otherwise retry with backoff, or dead-letter after ``max_deliveries`` (this thread)."""
        target = "extract" if delivery.event_type == PUBSUB_EVENT else "transform_load"
        if self.keep_journal and delivery.attempt == 1:
            self.journal.append(replace(delivery))
        self.stats.delivered += 1
        if 200 <= status < 300:
            self.queue.ack(delivery)
            return
        if delivery.attempt >= self.max_deliveries:
            self.queue.dead_letter(delivery, status)
            self.stats.dead_lettered.append(f"{target}: {delivery.label}")
            log.error("event dead-lettered", extra={"target": target, "attempts": delivery.attempt})
            return
        self.stats.redelivered += 1
        backoff = min(2.0 ** (delivery.attempt - 1), 60.0)
        self.queue.retry(delivery, utc_now() + timedelta(seconds=backoff))

    def _participant_of(self, delivery: Delivery) -> str | None:
        """The participant an extract delivery works for (None: a trigger, or unreadable); counts deferrals."""
        try:
            message = decode(message_from_pubsub_event(delivery.data))
        except PipelineError:  # the function itself records malformed messages
            return None
        if not isinstance(message, Unit):
            return None
        if message.reason == "retry":
            self.stats.deferred += 1  # a unit republished after a 429, delivered (for the summary)
        return message.participant


def staged_bytes(warehouse: object) -> int:
    """Bytes of NDJSON staged and not yet merged (the embedded warehouse's staging folder; 0 for others)."""
    folder = getattr(warehouse, "staging_dir", None)
    if folder is None or not Path(folder).is_dir():
        return 0
    total = 0
    for table in os.scandir(folder):
        if table.is_dir():
            total += sum(entry.stat().st_size for entry in os.scandir(table.path) if entry.is_file())
    return total
