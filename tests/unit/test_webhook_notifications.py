"""Notification bodies and what they become: civil days per participant and the daily plan's units for them."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from fitbit import plan
from fitbit.catalogue import DATA_TYPES, by_path_id
from fitbit.messages import RunTrigger
from fitbit.webhooks.notification import MAX_BATCH, MalformedNotification, Verification, parse_body
from fitbit.webhooks.units import DayKey, days_touched, units_for, zone_of
from tests.discovery_contract import discovery
from tests.webhook_support import body_of, notification

pytestmark = pytest.mark.webhook
NOW = datetime(2026, 11, 5, 12, tzinfo=timezone.utc)


def test_a_verification_request_is_recognised():
    assert parse_body(b'{"type": "verification"}') == Verification()


def test_one_object_and_a_batch_array_are_both_read_and_unknown_operations_count_as_upserts():
    single = json.dumps(notification("42", operation="UPDATE")).encode()
    (only,) = parse_body(single)
    assert (only.health_user_id, only.data_type, only.operation) == ("42", "steps", "UPSERT")
    batch = parse_body(body_of(*[notification(str(i), operation="DELETE") for i in range(MAX_BATCH)]))
    assert len(batch) == MAX_BATCH and {n.operation for n in batch} == {"DELETE"}
    with pytest.raises(MalformedNotification, match="at most 99"):
        parse_body(body_of(*[notification("1")] * (MAX_BATCH + 1)))


@pytest.mark.parametrize("raw", [b"not json", b"[]", b"[1]", b'[{"data": {"dataType": "steps"}}]',
                                 b'[{"data": {"healthUserId": "1", "dataType": "Heart_Rate"}}]',
                                 b'[{"data": {"healthUserId": "1", "dataType": "steps", "intervals": '
                                 b'[{"physicalTimeInterval": {"startTime": "yesterday"}}]}}]'])
def test_malformed_bodies_are_refused_with_a_reason_that_echoes_no_value(raw):
    with pytest.raises(MalformedNotification) as caught:
        parse_body(raw)
    assert "yesterday" not in str(caught.value)


def test_the_three_interval_forms_are_read_and_civil_time_wins_for_the_day():
    raw = notification("1", start="2026-11-04T23:50:00", end="2026-11-05T00:10:00",
                       physical=("2026-11-04T22:50:00.123456789Z", "2026-11-04T23:10:00Z"))
    (n,) = parse_body(body_of(raw))
    assert n.intervals[0].physical[0] == datetime(2026, 11, 4, 22, 50, 0, 123456, tzinfo=timezone.utc)
    assert days_touched(n.intervals, by_path_id("steps"), zone_of("Asia/Tokyo"), NOW) == {date(2026, 11, 4),
                                                                                         date(2026, 11, 5)}


def test_physical_times_are_placed_on_the_participants_own_calendar():
    raw = notification("1", civil=False, physical=("2026-11-04T23:30:00Z", "2026-11-04T23:45:00Z"))
    (n,) = parse_body(body_of(raw))
    steps = by_path_id("steps")
    assert days_touched(n.intervals, steps, zone_of("Europe/Berlin"), NOW) == {date(2026, 11, 5)}
    assert days_touched(n.intervals, steps, zone_of("America/New_York"), NOW) == {date(2026, 11, 4)}
    assert days_touched(n.intervals, steps, zone_of(None), NOW) == {date(2026, 11, 4)}


def test_an_end_at_midnight_stays_on_its_day_sleep_is_dated_by_its_end_and_no_interval_means_today():
    (night,) = parse_body(body_of(notification("1", "sleep", "2026-11-03T23:00:00", "2026-11-04T07:00:00")))
    assert days_touched(night.intervals, by_path_id("sleep"), zone_of("UTC"), NOW) == {date(2026, 11, 4)}
    (day,) = parse_body(body_of(notification("1", "steps", "2026-11-03T23:45:00", "2026-11-04T00:00:00")))
    assert days_touched(day.intervals, by_path_id("steps"), zone_of("UTC"), NOW) == {date(2026, 11, 3)}
    assert days_touched((), by_path_id("steps"), zone_of("Asia/Kolkata"), NOW) == {date(2026, 11, 5)}


def test_a_notification_for_steps_on_a_day_becomes_the_daily_plans_steps_units_for_that_day_only():
    key = DayKey("p1", "steps", date(2026, 11, 4))
    daily = plan.units_for_run(RunTrigger(date(2026, 11, 4), 1, "daily"), ["p1"], date(2026, 11, 5))
    expected = {(u.data_type, u.method, u.start, u.end) for u in daily if u.data_type == "steps"}
    got = units_for(key, plan.PlanOptions())
    assert {(u.data_type, u.method, u.start, u.end) for u in got} == expected
    assert {u.method for u in got} == {r.method for r in by_path_id("steps").reads}
    assert all(u.participant == "p1" and u.not_before is None for u in got)
    assert {(u.reason, u.run_id) for u in got} == {("webhook", "webhook")}


def test_a_delete_of_a_quarter_hour_becomes_complete_whole_day_re_reads_that_can_show_the_deletion():
    """MERGE never deletes: a deleted point disappears only when a complete re-read of its window lacks it
    (issue #12's tombstones). So a DELETE re-reads whole civil days from page 0, never the bare interval."""
    (deleted,) = parse_body(body_of(notification("1", "steps", "2026-11-04T23:50:00", "2026-11-05T00:05:00",
                                                 operation="DELETE")))
    assert deleted.operation == "DELETE"
    days = days_touched(deleted.intervals, by_path_id("steps"), zone_of("UTC"), NOW)
    units = [u for day in sorted(days) for u in units_for(DayKey("p1", "steps", day), plan.PlanOptions())]
    assert {(u.start, u.end) for u in units} == {(date(2026, 11, 4), date(2026, 11, 5)),
                                                 (date(2026, 11, 5), date(2026, 11, 6))}
    assert all(u.page == 0 and u.page_token is None and u.reason == "webhook" for u in units)
    (revoked,) = parse_body(json.dumps({"data": {"healthUserId": "1", "dataType": "steps",
                                                 "operation": "DELETE"}}).encode())
    assert days_touched(revoked.intervals, by_path_id("steps"), zone_of("UTC"), NOW) == {NOW.date()}


def test_the_catalogues_webhook_types_are_exactly_the_ones_discovery_lets_a_subscription_name():
    described = discovery()["schemas"]["Subscription"]["properties"]["dataTypes"]["description"]
    documented = set(described.split("is one of", 1)[1].replace('"', "").replace(".", "").replace(" ", "").split(","))
    assert {dt.path_id for dt in DATA_TYPES if dt.webhook} == documented
