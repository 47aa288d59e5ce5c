"""The plan turns a run into units within the request budget and each unit into one API call."""

from dataclasses import fields
from datetime import date, datetime, timedelta

import pytest

from fitbit import plan
from fitbit.catalogue import ACCOUNT_READS, DATA_TYPES
from fitbit.catalogue.model import OPT_INS
from fitbit.messages import RunTrigger, Unit

TODAY = date(2026, 11, 6)


def test_a_daily_run_ends_with_yesterday_and_rereads_a_sliding_window():
    assert plan.run_window(RunTrigger(days=3), TODAY) == (date(2026, 11, 3), date(2026, 11, 6))


def test_the_steady_daily_run_stays_within_30_first_page_requests_per_participant():
    units = plan.units_for_run(RunTrigger(days=3), ["user1"], TODAY)
    assert len(units) <= 30
    assert {u.data_type for u in units} >= {dt.path_id for dt in DATA_TYPES} | {a.name for a in ACCOUNT_READS}


def test_backfills_are_chunked_by_each_reads_cap():
    units = plan.units_for_run(RunTrigger(date(2026, 11, 5), days=90, reason="backfill"), ["u"], TODAY)
    steps = [u for u in units if u.data_type == "steps" and u.method == "reconcile"]
    assert [(u.end - u.start).days for u in steps] == [14] * 6 + [6]
    hr = [u for u in units if u.data_type == "heart-rate"]
    assert all((u.end - u.start).days <= 13 for u in hr) and sum((u.end - u.start).days for u in hr) == 90
    assert all(u.reason == "backfill" for u in units)


def test_one_second_heart_rate_is_opt_in():
    default = plan.units_for_run(RunTrigger(days=1), ["u"], TODAY)
    opted = plan.units_for_run(RunTrigger(days=1), ["u"], TODAY, plan.PlanOptions(heart_rate_seconds=True))
    assert [u.method for u in opted if u.data_type == "heart-rate"] == ["rollUp", "list"]
    assert [u.method for u in default if u.data_type == "heart-rate"] == ["rollUp"]


def test_every_opt_in_a_read_declares_is_a_plan_option():
    assert {f.name for f in fields(plan.PlanOptions)} == OPT_INS
    declared = {read.opt_in for dt in DATA_TYPES for read in dt.reads if read.opt_in}
    assert declared <= OPT_INS
    everything = plan.PlanOptions(**{name: True for name in OPT_INS})
    assert len(plan.planned_reads(everything)) == sum(len(dt.reads) for dt in DATA_TYPES)


def test_calls_use_civil_filters_and_local_midnights():
    steps = plan.call_for(Unit("u", "steps", "reconcile", date(2026, 11, 1), date(2026, 11, 2), "daily"), None)
    assert dict(steps.query)["filter"] == ('steps.interval.civil_start_time >= "2026-11-01" AND '
                                           'steps.interval.civil_start_time < "2026-11-02"')
    sleep = plan.call_for(Unit("u", "sleep", "list", date(2026, 11, 1), date(2026, 11, 2), "daily"), None)
    assert "sleep.interval.civil_end_time" in dict(sleep.query)["filter"]
    hr = plan.call_for(Unit("u", "heart-rate", "rollUp", date(2026, 11, 1), date(2026, 11, 2), "daily"),
                       "America/New_York")
    assert hr.body["range"] == {"startTime": "2026-11-01T04:00:00Z", "endTime": "2026-11-02T05:00:00Z"}
    assert hr.body["windowSize"] == "60s"


@pytest.mark.parametrize("body", [b"{}", b'{"dataPoints": []}'])
def test_object_names_are_deterministic_and_change_with_content(body):
    unit = Unit("user1", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 6), "daily", page=1)
    name = plan.object_name(unit, body)
    assert name == plan.object_name(unit, body)
    assert name.startswith("raw/user1/steps/2026-11-03/reconcile/2026-11-03_2026-11-06/page-0001-")
    assert name != plan.object_name(unit, body + b" ")


def test_rollup_ranges_stay_within_14_days_of_physical_time_across_a_dst_change():
    """A 14-civil-day window containing 2026-11-01 lasts 14 d + 1 h in New York: the API would refuse it."""
    units = plan.units_for_run(RunTrigger(date(2026, 11, 5), days=14, reason="backfill"), ["u"], TODAY)
    for unit in (u for u in units if u.method == "rollUp"):
        body = plan.call_for(unit, "America/New_York").body["range"]
        start, end = (datetime.fromisoformat(body[k].replace("Z", "+00:00")) for k in ("startTime", "endTime"))
        assert end - start <= timedelta(days=14)


def test_a_reread_of_an_unchanged_page_is_a_new_object_but_a_replayed_reread_is_not():
    first = Unit("user1", "sleep", "list", date(2026, 11, 5), date(2026, 11, 6), "follow-up", attempt=1)
    second = Unit("user1", "sleep", "list", date(2026, 11, 5), date(2026, 11, 6), "follow-up", attempt=2)
    body = b'{"dataPoints": []}'
    assert plan.object_name(first, body) != plan.object_name(second, body)
    assert plan.object_name(first, body) == plan.object_name(first, body)
