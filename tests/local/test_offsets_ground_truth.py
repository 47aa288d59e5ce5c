"""Ground truth for points without offsets (issue #12, observation 2): the same participant's data, synced
through a Fitbit tracker (offsets and civil times on every point) or through a Health Connect phone
(neither), gives the same daily figures in every view.

The participant is the simulator's New York user over the US daylight-saving change (2026-11-01), so the
offsets derived from the account's time zone must change at the right instant. Everything else (seed,
window, the data itself) is the same in both runs; only what the API sends differs.
"""

from __future__ import annotations

from datetime import date

import pytest

from fitbit.messages import RunTrigger
from tools import demo
from tools.local_runtime import LocalRuntime

pytestmark = pytest.mark.slow

END, DAYS = date(2026, 11, 2), 3  # 10-31 .. 11-02: the US fall-back day in the middle
PARTICIPANT = "user2"  # America/New_York
VIEWS = {
    "daily_summary": "*",
    "sleep_quality": "* EXCEPT (source_device)",  # the one column that names the device, which differs
    "active_zones": "*",
    "hr_1min": "*",
    "data_completeness": "* EXCEPT (last_sync_time)",
}


def _run(tmp_path, name: str, health_connect: str) -> LocalRuntime:
    state = demo.fresh_state_dir(tmp_path / name)
    args = ("--health-connect", health_connect, "--no-deletions", "--sleep-processing-seconds", "2")
    with demo.simulator_process(2, DAYS, end_date=END, extra_args=args) as sim:
        demo.enrol(state, sim.base_url, [PARTICIPANT])
        runtime = LocalRuntime(demo.demo_settings(state, sim.base_url, SLEEP_REFETCH_DELAY_S="2"))
        runtime.publish([RunTrigger(END, DAYS, "backfill")])
        stats = runtime.run_until_empty()
    assert stats.dead_lettered == []
    return runtime


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offsets")
    return _run(tmp, "tracker", "none"), _run(tmp, "phone", PARTICIPANT)


def _view(runtime: LocalRuntime, view: str, columns: str) -> list[tuple]:
    rows = runtime.adapters.warehouse().query(f"SELECT {columns} FROM {view} WHERE participant_id = '{PARTICIPANT}'")
    return sorted(rows, key=repr)


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_the_views_give_the_same_daily_figures_with_offsets_or_without(runs, view):
    tracker, phone = runs
    with_offsets, without = _view(tracker, view, VIEWS[view]), _view(phone, view, VIEWS[view])
    assert with_offsets and with_offsets == without


def test_the_phone_run_really_had_no_offsets_and_derived_the_same_ones(runs):
    tracker, phone = runs
    query = ("SELECT offset_source, civil_date, start_time, start_utc_offset_s, civil_start_time, end_utc_offset_s, "
             "civil_end_time FROM {} WHERE participant_id = 'user2' ORDER BY start_time")
    for table in ("steps_intraday", "sedentary_periods", "sleep_sessions", "exercise_sessions"):
        a = tracker.adapters.warehouse().query(query.format(table))
        b = phone.adapters.warehouse().query(query.format(table))
        assert a and {r[0] for r in a} == {"point"} and {r[0] for r in b} == {"account_time_zone"}, table
        assert [r[1:] for r in a] == [r[1:] for r in b], table
    offsets = {r[0] for r in phone.adapters.warehouse().query(
        "SELECT DISTINCT start_utc_offset_s FROM steps_intraday")}
    assert offsets == {-14400, -18000}  # EDT, then EST after 2026-11-01 06:00Z
