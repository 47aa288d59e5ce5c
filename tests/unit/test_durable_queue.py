"""The embedded queue is durable: what was published survives the process, and leaves only when acknowledged.

A "crash" here is dropping the queue object without acknowledging and opening the file again, which is
what the next run does; tests/local/test_durable_runs.py kills real runs with SIGKILL.
"""

from datetime import date, datetime, timedelta, timezone

from fitbit.messages import RunTrigger, StoredObject, Unit, decode
from helper.cloudevents import STORAGE_FINALIZED, message_from_pubsub_event
from helper.queue import LocalQueue


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


UNIT = Unit("user1", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 6), "daily")


def _reopen(queue: LocalQueue) -> LocalQueue:
    queue.close()
    return LocalQueue(queue.path, clock=queue.clock)


def test_a_published_message_survives_the_process_and_is_delivered_until_acknowledged(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    queue.publish([UNIT])
    first = queue.pop_ready()
    queue = _reopen(queue)  # the run died while the handler ran
    again = queue.pop_ready()
    assert again.seq == first.seq and again.attributes()["id"] == first.attributes()["id"]
    assert decode(message_from_pubsub_event(again.data)) == UNIT
    queue.ack(again)
    assert _reopen(queue).pop_ready() is None


def test_a_storage_event_is_kept_with_its_object_name_until_acknowledged(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    queue.object_finalized(StoredObject("raw", "raw/a.json", "1"), 2, queue.clock())
    queue = _reopen(queue)
    assert queue.pending_objects() == {"raw/a.json"}
    delivery = queue.pop_ready()
    assert delivery.event_type == STORAGE_FINALIZED and delivery.data["name"] == "raw/a.json"
    queue.ack(delivery)
    assert queue.pending_objects() == set() and len(queue) == 0


def test_a_retry_is_held_back_and_counts_its_attempt_across_a_restart(tmp_path):
    clock = Clock()
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=clock)
    queue.publish([UNIT])
    queue.retry(queue.pop_ready(), clock.now + timedelta(seconds=30))
    queue = _reopen(queue)
    assert queue.pop_ready() is None and queue.next_ready_at() == clock.now + timedelta(seconds=30)
    clock.now += timedelta(seconds=30)
    assert queue.pop_ready().attempt == 2


def test_a_deferred_unit_waits_for_its_not_before_time(tmp_path):
    clock = Clock()
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=clock)
    queue.publish([UNIT.retry(clock.now + timedelta(seconds=700))])
    assert queue.pop_ready() is None and len(queue) == 1
    assert queue.next_ready_at() == clock.now + timedelta(seconds=700)


def test_a_dead_letter_is_kept_apart_and_replayed_as_a_first_attempt(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    queue.object_finalized(StoredObject("raw", "raw/a.json", "1"), 2, queue.clock())
    delivery = queue.pop_ready()
    for _ in range(4):
        queue.retry(delivery, queue.clock())
    queue.dead_letter(delivery, 500)
    queue = _reopen(queue)
    assert len(queue) == 0 and queue.dead_lettered_objects() == {"raw/a.json"}
    (letter,) = queue.dead_letters()
    assert (letter.attempts, letter.status, letter.subject) == (5, 500, "objects/raw/a.json")
    assert queue.replay_dead_letters() == 1
    assert queue.dead_letters() == [] and queue.pop_ready().attempt == 1


def test_a_run_trigger_is_published_once_per_state_dir(tmp_path):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=Clock())
    trigger = RunTrigger(date(2026, 11, 5), 5, "backfill", run_id="history")
    assert queue.publish_once("history", [trigger]) is True
    queue = _reopen(queue)
    assert queue.publish_once("history", [trigger]) is False
    assert len(queue) == 1


def test_a_queue_nobody_uses_creates_no_file(tmp_path):
    queue = LocalQueue(tmp_path / "state" / "queue.sqlite")
    queue.close()
    assert not (tmp_path / "state").exists()
