"""Queue adapters: an in-process queue (embedded default) and Pub/Sub.

The in-process queue carries exactly what GCP carries: Pub/Sub messagePublished event data for work
messages and storage object-finalized event data for new raw objects, as CloudEvents. It honours a
unit's ``not_before`` by holding it back, the way a deferred unit waits in Pub/Sub's retry backoff.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

from fitbit.messages import Message, StoredObject, Unit, encode
from helper.cloudevents import PUBSUB_EVENT, STORAGE_FINALIZED, pubsub_event_data, storage_event_data

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(order=True)
class Delivery:
    """One CloudEvent waiting in the in-process queue."""

    ready_at: datetime
    seq: int
    event_type: str = field(compare=False)
    source: str = field(compare=False)
    subject: str | None = field(compare=False)
    data: dict[str, Any] = field(compare=False)
    attempt: int = field(default=1, compare=False)

    def attributes(self) -> dict[str, str]:
        attrs = {"id": f"local-{self.seq}", "type": self.event_type, "source": self.source,
                 "specversion": "1.0", "time": self.ready_at.isoformat()}
        if self.subject:
            attrs["subject"] = self.subject
        return attrs


class InProcessQueue:
    def __init__(self, project: str = "local-project", topic: str = "fitbit-units", clock: Clock = utc_now) -> None:
        self._heap: list[Delivery] = []
        self._seq = itertools.count(1)
        self._clock = clock
        self.topic_path = f"projects/{project}/topics/{topic}"
        self.subscription = f"projects/{project}/subscriptions/{topic}-extract"
        self.published = 0
        # The embedded runtime's handlers publish from worker threads while it takes deliveries.
        self._lock = threading.RLock()

    def publish(self, messages: Sequence[Message]) -> None:
        with self._lock:
            self._publish(messages)

    def _publish(self, messages: Sequence[Message]) -> None:
        now = self._clock()
        for message in messages:
            seq = next(self._seq)
            ready = message.not_before if isinstance(message, Unit) and message.not_before else now
            data = pubsub_event_data(encode(message), str(seq), now, self.subscription)
            heapq.heappush(self._heap, Delivery(max(ready, now), seq, PUBSUB_EVENT,
                                                f"//pubsub.googleapis.com/{self.topic_path}", None, data))
            self.published += 1

    def object_finalized(self, obj: StoredObject, size: int, created: datetime) -> None:
        data = storage_event_data(obj.bucket, obj.name, obj.generation, size, created)
        with self._lock:
            heapq.heappush(self._heap, Delivery(self._clock(), next(self._seq), STORAGE_FINALIZED,
                                                f"//storage.googleapis.com/projects/_/buckets/{obj.bucket}",
                                                f"objects/{obj.name}", data))

    def redeliver(self, delivery: Delivery, at: datetime) -> None:
        delivery.attempt += 1
        delivery.ready_at = at
        with self._lock:
            heapq.heappush(self._heap, delivery)

    def pop_ready(self) -> Delivery | None:
        with self._lock:
            if self._heap and self._heap[0].ready_at <= self._clock():
                return heapq.heappop(self._heap)
            return None

    def next_ready_at(self) -> datetime | None:
        with self._lock:
            return self._heap[0].ready_at if self._heap else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)


class PubSubQueue:
    """Pub/Sub through google-cloud-pubsub; honours PUBSUB_EMULATOR_HOST via the client."""

    def __init__(self, project: str, topic: str, publisher: Any = None) -> None:
        self._project, self._topic = project, topic
        self._publisher = publisher

    def publish(self, messages: Sequence[Message]) -> None:
        if self._publisher is None:
            from google.cloud import pubsub_v1

            self._publisher = pubsub_v1.PublisherClient()
        topic = self._publisher.topic_path(self._project, self._topic)
        futures = [self._publisher.publish(topic, encode(m)) for m in messages]
        for future in futures:
            future.result(timeout=60)
