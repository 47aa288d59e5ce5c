"""The embedded runtime: the whole flow in one process, through the real function entry points.

Every delivery goes through functions-framework's own CloudEvent decoding (binary-mode HTTP, as
Eventarc posts it), so the handlers run exactly as they do on Cloud Functions. Delivery semantics
follow Pub/Sub's: an HTTP 2xx acknowledges; anything else is redelivered with exponential backoff
until ``max_deliveries``, after which the event is dead-lettered (and reported, never dropped
silently). When the queue drains, staged rows are flushed into the warehouse.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from fitbit.errors import PipelineError
from helper.compose import Adapters, adapters
from fitbit.messages import Message, Unit, decode
from helper.cloudevents import PUBSUB_EVENT, message_from_pubsub_event
from helper.queue import Delivery, InProcessQueue, utc_now
from helper.settings import Settings

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
    def __init__(self, settings: Settings, *, max_deliveries: int = 5, max_wait_s: float = 600.0) -> None:
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
        self.stats = RunStats()
        # Every event delivered, in order: what a replay of "every message and storage event" re-sends.
        self.journal: list[Delivery] = []
        self._clients = {
            "extract": functions_framework.create_app("extract", str(FUNCTIONS[PUBSUB_EVENT][1]),
                                                      "cloudevent").test_client(),
            "transform_load": functions_framework.create_app(TRANSFORM[0], str(TRANSFORM[1]),
                                                             "cloudevent").test_client(),
        }

    def publish(self, messages: list[Message]) -> None:
        self.queue.publish(messages)

    def replay(self, deliveries: list[Delivery]) -> None:
        """Deliver these events again (as Pub/Sub and Eventarc may), each as a first attempt."""
        for d in deliveries:
            self.queue.redeliver(replace(d, attempt=0), utc_now())

    def run_until_empty(self) -> RunStats:
        """Deliver until nothing is left, flushing the warehouse whenever the queue drains."""
        started = time.monotonic()
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
            return
        if delivery.attempt >= self.max_deliveries:
            label = delivery.subject or f"message {delivery.seq}"
            self.stats.dead_lettered.append(f"{target}: {label}")
            log.error("event dead-lettered", extra={"target": target, "attempts": delivery.attempt})
            return
        self.stats.redelivered += 1
        backoff = min(2.0 ** (delivery.attempt - 1), 60.0)
        self.queue.redeliver(delivery, utc_now() + timedelta(seconds=backoff))

    def _note_message(self, data: dict[str, Any]) -> None:
        """Count deliveries of deferred units (republished after a 429) for the summary."""
        try:
            message = decode(message_from_pubsub_event(data))
        except PipelineError:  # the function itself records malformed messages
            return
        if isinstance(message, Unit) and message.reason == "retry":
            self.stats.deferred += 1
