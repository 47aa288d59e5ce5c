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
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Sequence

from fitbit.errors import PipelineError
from fitbit.jobs import flush as flush_job
from fitbit.jobs import sweep
from fitbit.messages import Message, StoredObject, Unit, decode
from fitbit.ports import FlushResult
from helper.cloudevents import PUBSUB_EVENT, message_from_pubsub_event
from helper.compose import Adapters, adapters, transform_context
from helper.queue import Delivery, LocalQueue, utc_now
from helper.settings import Settings
from tools.state_lock import StateLock

log = logging.getLogger("fitbit.local_runtime")
ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = {PUBSUB_EVENT: ("extract", ROOT / "functions/extract/main.py")}
TRANSFORM = ("transform_load", ROOT / "functions/transform_load/main.py")
# Nothing is in flight when a run starts (the lock says so): every object without an outcome is an orphan.
START_OF_RUN_SWEEP = sweep.SweepPolicy(grace_s=0.0, horizon_s=None, limit=1_000_000)


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

    def __init__(self, settings: Settings, *, max_deliveries: int = 5, max_wait_s: float = 600.0) -> None:
        if settings.runtime != "local":
            raise ValueError("the local runtime runs only with FITBIT_RUNTIME=local")
        self.lock = StateLock.acquire(settings.state_dir)  # raises AnotherRunInProgress, touching nothing
        try:
            self._start(settings, max_deliveries, max_wait_s)
        except BaseException:
            self.lock.release()
            raise

    def _start(self, settings: Settings, max_deliveries: int, max_wait_s: float) -> None:
        import functions_framework

        self.settings = settings
        # The functions read Settings from the environment, as on Cloud Functions: export ours (again
        # before every delivery, whatever else changed the environment meanwhile) so that they rebuild
        # equal Settings and so share this runtime's (cached) queue, store and warehouse.
        self._env = settings.to_env()
        os.environ.update(self._env)
        self.adapters: Adapters = adapters(settings)
        self.queue: LocalQueue = self.adapters.queue
        self.max_deliveries = max_deliveries
        self.max_wait_s = max_wait_s
        self.stats = RunStats(resumed=len(self.queue))
        self._recovered = False
        # Every event delivered, in order: what a replay of "every message and storage event" re-sends.
        self.journal: list[Delivery] = []
        self._clients = {
            "extract": functions_framework.create_app("extract", str(FUNCTIONS[PUBSUB_EVENT][1]),
                                                      "cloudevent").test_client(),
            "transform_load": functions_framework.create_app(TRANSFORM[0], str(TRANSFORM[1]),
                                                             "cloudevent").test_client(),
        }

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
        """Deliver until nothing is left (or only deferrals beyond the wait budget), then flush."""
        started = time.monotonic()
        if not self._recovered:
            self.recover()
        self.stats.pending, self.stats.pending_until = 0, None
        while True:
            delivery = self.queue.pop_ready()
            if delivery is not None:
                self._deliver(delivery)
                continue
            next_at = self.queue.next_ready_at()
            if next_at is None:
                self.flush()
                break
            wait = (next_at - utc_now()).total_seconds()
            if wait > self.max_wait_s:
                self.flush()
                self.stats.pending, self.stats.pending_until = len(self.queue), next_at
                log.warning("deferred beyond the wait budget; run again later",
                            extra={"pending": self.stats.pending, "until": next_at.isoformat()})
                break
            time.sleep(max(0.0, min(wait, 1.0)))
        self.stats.nulled = getattr(self.adapters.warehouse(), "nulled", 0)
        self.stats.seconds += time.monotonic() - started
        return self.stats

    def flush(self) -> FlushResult:
        result = flush_job.flush(transform_context(self.settings))
        self.stats.flushes += 1
        self.stats.quarantined += [f"{q.table}: {q.batch_id} ({q.reason})" for q in result.quarantined]
        if result.blocked:
            self.stats.blocked_flushes += 1
        return result

    def _deliver(self, delivery: Delivery) -> None:
        target = "extract" if delivery.event_type == PUBSUB_EVENT else "transform_load"
        if delivery.attempt == 1:
            self.journal.append(replace(delivery))
        if target == "extract":
            self._note_message(delivery.data)
        os.environ.update(self._env)
        headers = {f"ce-{k}": v for k, v in delivery.attributes().items()}
        headers["Content-Type"] = "application/json"
        response = self._clients[target].post("/", data=json.dumps(delivery.data), headers=headers)
        self.stats.delivered += 1
        if 200 <= response.status_code < 300:
            self.queue.ack(delivery)
            return
        if delivery.attempt >= self.max_deliveries:
            self.queue.dead_letter(delivery, response.status_code)
            self.stats.dead_lettered.append(f"{target}: {delivery.label}")
            log.error("event dead-lettered", extra={"target": target, "attempts": delivery.attempt})
            return
        self.stats.redelivered += 1
        backoff = min(2.0 ** (delivery.attempt - 1), 60.0)
        self.queue.retry(delivery, utc_now() + timedelta(seconds=backoff))

    def _note_message(self, data: dict[str, Any]) -> None:
        """Count deliveries of deferred units (republished after a 429) for the summary."""
        try:
            message = decode(message_from_pubsub_event(data))
        except PipelineError:  # the function itself records malformed messages
            return
        if isinstance(message, Unit) and message.reason == "retry":
            self.stats.deferred += 1
