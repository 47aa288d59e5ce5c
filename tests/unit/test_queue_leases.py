"""The embedded queue hands a delivery out once: leased until settled, and a crash leaves nothing leased.

Issue #14: the runtime delivers extract work on a pool of threads, so ``pop_ready`` must never hand the
same delivery to two of them. A "crash" is dropping the queue object and opening the file again.
"""

import threading
from datetime import date, datetime, timedelta, timezone

from fitbit.messages import StoredObject, Unit
from helper.cloudevents import PUBSUB_EVENT, STORAGE_FINALIZED
from helper.queue import LocalQueue


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def _units(n):
    return [Unit(f"user{i}", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 6), "daily") for i in range(n)]


def test_a_delivery_in_flight_is_not_handed_out_again_nor_counted_as_due(tmp_path):
    clock = Clock()
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=clock)
    queue.publish(_units(2))
    first, second = queue.pop_ready(), queue.pop_ready()
    assert first.seq != second.seq and queue.pop_ready() is None
    assert queue.in_flight == 2 and len(queue) == 2  # still owed until settled
    assert queue.next_ready_at() is None  # nothing waits but what is in flight
    queue.ack(first)
    assert queue.in_flight == 1 and len(queue) == 1 and queue.pop_ready() is None


def test_a_retried_delivery_comes_back_when_due_and_a_released_one_at_once(tmp_path):
    clock = Clock()
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=clock)
    queue.publish(_units(2))
    retried, released = queue.pop_ready(), queue.pop_ready()
    queue.retry(retried, clock.now + timedelta(seconds=30))
    queue.release(released)
    assert queue.in_flight == 0
    assert queue.next_ready_at() == clock.now and queue.pop_ready().seq == released.seq
    assert queue.next_ready_at() == clock.now + timedelta(seconds=30) and queue.pop_ready() is None
    clock.now += timedelta(seconds=30)
    again = queue.pop_ready()
    assert (again.seq, again.attempt) == (retried.seq, 2)


def test_a_dead_lettered_delivery_leaves_nothing_in_flight(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    queue.object_finalized(StoredObject("raw", "raw/a.json", "1"), 2, queue.clock())
    queue.dead_letter(queue.pop_ready(), 500)
    assert queue.in_flight == 0 and len(queue) == 0 and queue.next_ready_at() is None


def test_a_crash_leaves_nothing_leased(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    queue.publish(_units(1))
    leased = queue.pop_ready()
    reopened = LocalQueue(queue.path, clock=queue.clock)  # the next run, after a kill -9
    assert reopened.in_flight == 0 and reopened.pop_ready().seq == leased.seq
    queue.close()
    assert queue.in_flight == 0 and queue.pop_ready().seq == leased.seq


def test_pop_ready_by_event_type_takes_the_oldest_due_of_that_type(tmp_path):
    clock = Clock()
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=clock)
    queue.publish(_units(2))
    clock.now += timedelta(seconds=1)
    queue.object_finalized(StoredObject("raw", "raw/a.json", "1"), 2, clock.now)
    storage = queue.pop_ready(STORAGE_FINALIZED)
    assert storage.event_type == STORAGE_FINALIZED and queue.pop_ready(STORAGE_FINALIZED) is None
    units = [queue.pop_ready(PUBSUB_EVENT), queue.pop_ready(PUBSUB_EVENT)]
    assert [u.event_type for u in units] == [PUBSUB_EVENT] * 2 and units[0].seq < units[1].seq
    assert queue.pop_ready() is None


def test_threads_popping_at_once_each_get_distinct_deliveries_and_together_all_of_them(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    queue.publish(_units(200))
    taken: list[int] = []
    lock = threading.Lock()

    def worker():
        while (delivery := queue.pop_ready()) is not None:
            with lock:
                taken.append(delivery.seq)
            queue.ack(delivery)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(taken) == 200 and len(set(taken)) == 200 and len(queue) == 0 and queue.in_flight == 0
