"""The embedded runtime delivering extract work concurrently loads exactly what a sequential run loads.

Issue #14: against a simulator with latency (its own process, real HTTP), the same daily run on two state
dirs (and two simulators of one seed), one delivering one event at a time and one with eight extract deliveries in flight: each unit is
delivered once (no redelivery, the same requests reach the simulator), more than one was really in flight,
and the two warehouses hold the same rows (every data table, every column but the lineage times). A
kill and resume under concurrency is ``make chaos`` (tools/chaos.py), which runs the default concurrency.
"""

from __future__ import annotations

import pytest
import requests

from fitbit.messages import RunTrigger
from tools import demo
from tools.chaos import compare
from tools.local_runtime import LocalRuntime

pytestmark = pytest.mark.slow

PARTICIPANTS = [f"user{i}" for i in range(1, 5)]
END = demo.DEFAULT_END_DATE


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    extra = ("--sleep-processing-seconds", "0", "--latency-ms", "40", "--latency-jitter", "0.5")
    out = {}
    for concurrency in (1, 8):  # a simulator each: a second run on one simulator sees revised data
        with demo.simulator_process(len(PARTICIPANTS), 2, end_date=END, extra_args=extra) as sim:
            state = demo.fresh_state_dir(tmp_path_factory.mktemp(f"concurrency-{concurrency}") / "state")
            demo.enrol_minted(state, sim.base_url, PARTICIPANTS)
            settings = demo.demo_settings(state, sim.base_url, SLEEP_REFETCH_DELAY_S="0", OAUTH_APP_VERIFIED="true")
            with LocalRuntime(settings, concurrency=concurrency, keep_journal=True) as runtime:
                runtime.publish([RunTrigger(END, 1, "daily", run_id="concurrency")])
                stats = runtime.run_until_empty()
                left, in_flight = len(runtime.queue), runtime.queue.in_flight
                runtime.adapters.warehouse().close()  # compare() opens the file read-only
            sim_stats = requests.get(sim.base_url + "_admin/stats", timeout=30).json()
            out[concurrency] = (state, stats, runtime.journal, sim_stats, left, in_flight)
    return out


def test_each_event_is_delivered_once_and_the_queue_ends_empty_with_nothing_in_flight(runs):
    for _state, stats, journal, sim_stats, left, in_flight in runs.values():
        assert stats.redelivered == 0 and stats.dead_lettered == [] and stats.deferred == 0
        assert stats.delivered == len(journal) == len({d.seq for d in journal})
        assert (left, in_flight) == (0, 0)
        assert sim_stats["quota"]["429s"]["user"] == sim_stats["quota"]["429s"]["project"] == 0


def test_eight_extract_deliveries_really_overlap_and_send_the_same_requests_as_one_at_a_time(runs):
    sequential, concurrent = runs[1], runs[8]
    assert sequential[1].peak_in_flight == 1
    assert 1 < concurrent[1].peak_in_flight <= 8
    assert concurrent[3]["requests"] == sequential[3]["requests"] > 4 * 20
    assert concurrent[1].delivered == sequential[1].delivered


def test_the_concurrent_run_loads_exactly_the_rows_of_the_sequential_run(runs):
    lost, duplicated = compare(runs[1][0], runs[8][0])
    assert (lost, duplicated) == (0, 0)
