"""The extract pool: at most ``size`` deliveries in flight, one per participant, each handed back once.

The post function here stands in for the HTTP handler (the pool itself is under test); the queue is the
real durable one in tmp_path. tests/local/test_concurrent_runtime.py runs the real functions over HTTP.
"""

import threading
import time
from datetime import date, datetime, timezone

from fitbit.messages import Unit, decode
from helper.cloudevents import message_from_pubsub_event
from helper.queue import LocalQueue
from fitbit.quota import QuotaLimits
from tools.extract_pool import ExtractPool


def _participant(delivery):
    return decode(message_from_pubsub_event(delivery.data)).participant


class Recorder:
    """A post that takes a little while and records how many ran at once, overall and per participant."""

    def __init__(self, status=204):
        self.lock = threading.Lock()
        self.running: dict[str, int] = {}
        self.peak = 0
        self.peak_per_participant = 0
        self.posted: list[int] = []
        self.status = status

    def __call__(self, delivery):
        who = _participant(delivery)
        with self.lock:
            self.running[who] = self.running.get(who, 0) + 1
            self.peak = max(self.peak, sum(self.running.values()))
            self.peak_per_participant = max(self.peak_per_participant, self.running[who])
        time.sleep(0.01)
        with self.lock:
            self.running[who] -= 1
            self.posted.append(delivery.seq)
        return self.status


def _queue(tmp_path, participants, per_participant):
    queue = LocalQueue(tmp_path / "queue.sqlite", clock=lambda: datetime(2026, 11, 6, tzinfo=timezone.utc))
    queue.publish([Unit(f"user{p}", t, "reconcile", date(2026, 11, 3), date(2026, 11, 6), "daily")
                   for t in ("steps", "distance", "floors")[:per_participant] for p in range(participants)])
    return queue


def _drain(pool, queue):
    settled = []
    while True:
        for delivery, status in pool.finished():
            queue.ack(delivery)
            settled.append((delivery.seq, status))
        pool.fill(queue.pop_ready)
        if pool.idle:
            return settled
        pool.wait(0.1)


def test_the_pool_keeps_size_in_flight_one_per_participant_and_hands_each_delivery_back_once(tmp_path):
    queue = _queue(tmp_path, participants=6, per_participant=3)
    post = Recorder()
    pool = ExtractPool(post, _participant, 4, queue.release)
    settled = _drain(pool, queue)
    pool.close()
    assert sorted(seq for seq, _ in settled) == sorted(post.posted) and len(set(post.posted)) == 18
    assert {status for _, status in settled} == {204}
    assert post.peak == pool.peak_in_flight == 4 and post.peak_per_participant == 1
    assert len(queue) == 0 and queue.in_flight == 0


def test_deliveries_parked_behind_a_busy_participant_go_back_to_the_queue_on_close(tmp_path):
    queue = _queue(tmp_path, participants=1, per_participant=3)
    gate = threading.Event()

    def post(delivery):
        gate.wait(5)
        return 204

    pool = ExtractPool(post, _participant, 4, queue.release)
    assert pool.fill(queue.pop_ready) == 1  # one participant: one in flight, the other two parked
    assert pool.in_flight == 1 and queue.in_flight == 3 and queue.pop_ready() is None
    gate.set()
    pool.close()  # stops early: nothing settled, everything handed back
    assert queue.in_flight == 0 and len(queue) == 3


def test_a_delivery_naming_no_participant_is_not_held_back(tmp_path):
    queue = _queue(tmp_path, participants=1, per_participant=3)
    together = threading.Barrier(3, timeout=5)  # broken unless all three are in flight at once

    def post(delivery):
        together.wait()
        return 204

    pool = ExtractPool(post, lambda d: None, 3, queue.release)
    assert pool.fill(queue.pop_ready) == 3
    settled = _drain(pool, queue)
    pool.close()
    assert len(settled) == 3 and not together.broken


def test_the_limiter_holds_a_participant_to_its_budget_in_any_sliding_minute(tmp_path):
    queue = _queue(tmp_path, participants=1, per_participant=3)
    queue.publish([Unit("user0", "steps", "reconcile", date(2026, 11, d), date(2026, 11, d + 1), "daily")
                   for d in (1, 2)])  # five units of one participant
    now = [1000.0]
    post = Recorder()
    limits = QuotaLimits(per_user_per_minute=2, project_per_minute=100, headroom=0.0)
    pool = ExtractPool(post, _participant, 4, queue.release, limits=limits, clock=lambda: now[0])

    def settle_all():
        while pool.in_flight:
            pool.wait(1.0)
            for delivery, _ in pool.finished():
                queue.ack(delivery)

    # Every 20 s the participant's next unit asks (the one before has finished): two per sliding minute, so
    # the third waits from t=40 to t=60, the fifth from t=100 to t=120.
    for expected in (1, 2, 2, 3, 4, 4, 5):
        pool.fill(queue.pop_ready)
        settle_all()
        assert len(post.posted) == expected
        now[0] += 20.0
    pool.close()
    assert pool.held_by_limiter == 3 and len(queue) == 0  # the third to fifth all asked at t=40
