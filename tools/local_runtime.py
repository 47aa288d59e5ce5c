"""The embedded runtime: the whole flow in one process, through the real function entry points.

Every delivery goes through functions-framework's own CloudEvent decoding (binary-mode HTTP, as
Eventarc posts it), so the handlers run exactly as they do on Cloud Functions. Delivery semantics
follow Pub/Sub's: an HTTP 2xx acknowledges; anything else is redelivered with exponential backoff
until ``max_deliveries``, after which the event is dead-lettered (and reported, never dropped
silently). When the queue drains, staged rows are flushed into the warehouse.

Extract deliveries run concurrently (``workers`` threads, default 16; ``tools/delivery_pool.py``) under the
API's quotas; transform_load deliveries and the flush stay serialised. ``workers=0`` delivers one event
at a time on the calling thread (the reference the concurrent runs are tested equal to).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from fitbit.errors import PipelineError
from fitbit.quota import QuotaLimits, SlidingLimiter
from helper.compose import Adapters, adapters
from fitbit.messages import Message, Unit, decode
from helper.cloudevents import PUBSUB_EVENT, message_from_pubsub_event
from helper.queue import Delivery, InProcessQueue, utc_now
from helper.settings import Settings
from tools.delivery_pool import DeliveryPool, Hooks, PerThread

log = logging.getLogger("fitbit.local_runtime")
ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = {PUBSUB_EVENT: ("extract", ROOT / "functions/extract/main.py")}
TRANSFORM = ("transform_load", ROOT / "functions/transform_load/main.py")


@dataclass
class RunStats:
    delivered: int = 0
    deferred: int = 0
    redelivered: int = 0
    dead_lettered: list[str] = field(default_factory=list)
    seconds: float = 0.0


class LocalRuntime:
    def __init__(self, settings: Settings, *, max_deliveries: int = 5, max_wait_s: float = 600.0,
                 workers: int = 16) -> None:
        import functions_framework

        if settings.runtime != "local":
            raise ValueError("the local runtime runs only with FITBIT_RUNTIME=local")
        self.settings = settings
        # The functions read Settings from the environment, as on Cloud Functions: export ours (again
        # before every delivery, whatever else changed the environment meanwhile) so that they rebuild
        # equal Settings and so share this runtime's (cached) queue, store and warehouse.
        self._env = settings.to_env()
        os.environ.update(self._env)
        self.adapters: Adapters = adapters(settings)
        self.queue: InProcessQueue = self.adapters.queue
        self.max_deliveries = max_deliveries
        self.max_wait_s = max_wait_s
        self.workers = workers
        # One limiter per runtime: quota windows outlive a run_until_empty (the API's do too).
        self.limiter = SlidingLimiter(QuotaLimits.for_app(settings.oauth_app_verified))
        self.stats = RunStats()
        # Every event delivered, in order: what a replay of "every message and storage event" re-sends.
        self.journal: list[Delivery] = []
        apps = {
            "extract": functions_framework.create_app("extract", str(FUNCTIONS[PUBSUB_EVENT][1]), "cloudevent"),
            "transform_load": functions_framework.create_app(TRANSFORM[0], str(TRANSFORM[1]), "cloudevent"),
        }
        self._clients = {name: PerThread(app.test_client) for name, app in apps.items()}

    def publish(self, messages: list[Message]) -> None:
        self.queue.publish(messages)

    def replay(self, deliveries: list[Delivery]) -> None:
        """Deliver these events again (as Pub/Sub and Eventarc may), each as a first attempt."""
        for d in deliveries:
            self.queue.redeliver(replace(d, attempt=0), utc_now())

    def run_until_empty(self) -> RunStats:
        """Deliver until nothing is left, flushing the warehouse whenever the queue drains."""
        started = time.monotonic()
        if self.workers > 0:
            self._pool().drain(self.max_wait_s)
            self.stats.seconds += time.monotonic() - started
            return self.stats
        while True:
            delivery = self.queue.pop_ready()
            if delivery is not None:
                self._deliver(delivery)
                continue
            if len(self.queue) == 0:
                self.adapters.warehouse().flush()
                if len(self.queue) == 0:
                    break
                continue
            wait = (self.queue.next_ready_at() - utc_now()).total_seconds()  # type: ignore[operator]
            if wait > self.max_wait_s:
                raise RuntimeError(f"next delivery is {wait:.0f} s away; raise max_wait_s to wait for it")
            time.sleep(max(0.0, min(wait, 1.0)))
        self.stats.seconds += time.monotonic() - started
        return self.stats

    def _pool(self) -> DeliveryPool[Delivery]:
        def seconds_to_next() -> float | None:
            at = self.queue.next_ready_at()
            return None if at is None else (at - utc_now()).total_seconds()

        os.environ.update(self._env)  # once for the pool's threads; nothing else changes it during a run
        hooks = Hooks(take=self.queue.pop_ready, seconds_to_next=seconds_to_next,
                      is_extract=lambda d: d.event_type == PUBSUB_EVENT, participant=self._participant,
                      post=self._post, settle=self._settle, flush=lambda: self.adapters.warehouse().flush())
        return DeliveryPool(hooks, self.limiter, workers=self.workers)

    def _deliver(self, delivery: Delivery) -> None:
        if delivery.event_type == PUBSUB_EVENT:
            self._participant(delivery)
        os.environ.update(self._env)
        self._settle(delivery, self._post(delivery))

    def _post(self, delivery: Delivery) -> int:
        """Deliver one event through its function's entry point (on any thread); the HTTP status."""
        target = "extract" if delivery.event_type == PUBSUB_EVENT else "transform_load"
        headers = {f"ce-{k}": v for k, v in delivery.attributes().items()}
        headers["Content-Type"] = "application/json"
        client = self._clients[target].get()
        return int(client.post("/", data=json.dumps(delivery.data), headers=headers).status_code)  # type: ignore[attr-defined]

    def _settle(self, delivery: Delivery, status: int) -> None:
        """After the handler answered: count it; 2xx acknowledges, else redelivery or the dead letters."""
        target = "extract" if delivery.event_type == PUBSUB_EVENT else "transform_load"
        if delivery.attempt == 1:
            self.journal.append(replace(delivery))
        self.stats.delivered += 1
        if 200 <= status < 300:
            return
        if delivery.attempt >= self.max_deliveries:
            label = delivery.subject or f"message {delivery.seq}"
            self.stats.dead_lettered.append(f"{target}: {label}")
            log.error("event dead-lettered", extra={"target": target, "attempts": delivery.attempt})
            return
        self.stats.redelivered += 1
        backoff = min(2.0 ** (delivery.attempt - 1), 60.0)
        self.queue.redeliver(delivery, utc_now() + timedelta(seconds=backoff))

    def _participant(self, delivery: Delivery) -> str | None:
        """A unit's participant (what the quota limiter counts); counts deferred units for the summary."""
        try:
            message = decode(message_from_pubsub_event(delivery.data))
        except PipelineError:  # the function itself records malformed messages
            return None
        if not isinstance(message, Unit):
            return None
        if message.reason == "retry":
            self.stats.deferred += 1
        return message.participant
