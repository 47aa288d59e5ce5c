"""Quota planning: spreading units under both quotas whatever the cohort size, and the plan estimate."""

from __future__ import annotations

import logging

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from fitbit import plan, quota
from fitbit.messages import RunTrigger, Unit
from fitbit.quota import QuotaLimits

START = datetime(2026, 11, 6, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 11, 6)


def _units(participants: int, days: int = 1, options: plan.PlanOptions | None = None) -> list[Unit]:
    names = [f"p{i:04d}" for i in range(participants)]
    return plan.units_for_run(RunTrigger(date(2026, 11, 5), days, "backfill"), names, TODAY, options or plan.PlanOptions())


@pytest.mark.parametrize(("participants", "limits"), [
    (1, QuotaLimits(per_user_per_minute=10)),
    (40, QuotaLimits(per_user_per_minute=10, project_per_minute=100)),
    (300, QuotaLimits(project_per_minute=2_000)),
])
def test_no_sliding_minute_holds_more_than_either_budget(participants: int, limits: QuotaLimits) -> None:
    units = _units(participants, days=30)
    spread = quota.spread(units, START, limits)
    assert sorted(repr(replace(u, not_before=None)) for u in spread) == sorted(map(repr, units)), "the same units"
    assert {u.not_before is not None for u in spread} == {True}
    assert min(u.not_before for u in spread) == START
    assert quota.peak_per_minute(spread) <= limits.project_budget
    assert max(quota.peak_per_minute(spread, f"p{i:04d}") for i in range(participants)) <= limits.user_budget


def test_a_participant_with_more_units_than_a_minute_allows_is_spread_over_minutes() -> None:
    units = _units(1, days=90, options=plan.PlanOptions(heart_rate_seconds=True))
    limits = QuotaLimits(per_user_per_minute=10, headroom=0.0)
    spread = quota.spread(units, START, limits)
    last = max(u.not_before for u in spread)
    assert last - START == timedelta(minutes=(len(units) - 1) // 10), "10 per minute, so this many minutes"
    assert quota.peak_per_minute(spread, "p0000") == 10


def test_a_run_within_both_budgets_is_not_delayed() -> None:
    spread = quota.spread(_units(50), START, QuotaLimits())
    assert {u.not_before for u in spread} == {START}


def test_participants_take_turns_so_the_first_does_not_hold_the_others_back() -> None:
    spread = quota.spread(_units(3), START, QuotaLimits())
    assert [u.participant for u in spread[:6]] == ["p0000", "p0001", "p0002"] * 2


def test_a_later_not_before_is_kept() -> None:
    later = START + timedelta(hours=1)
    unit = Unit("p", "steps", "list", date(2026, 11, 5), date(2026, 11, 6), "daily", not_before=later)
    assert quota.spread([unit], START)[0].not_before == later


def test_an_unverified_app_plans_at_half_the_per_user_rate_and_warns_above_100_participants() -> None:
    assert QuotaLimits.for_app(verified=False).per_user_per_minute == 150
    assert QuotaLimits.for_app(verified=True).user_budget == 270, "10 % headroom under 300"
    assert quota.unverified_warning(100, verified=False) is None
    assert quota.unverified_warning(101, verified=True) is None
    warning = quota.unverified_warning(101, verified=False)
    assert warning is not None and "101 participants" in warning and "OAUTH_APP_VERIFIED" in warning


def test_the_estimate_of_a_1000_participant_90_day_backfill() -> None:
    one = quota.estimate(1, 90)
    thousand = quota.estimate(1_000, 90)
    assert one.units == len(_units(1, days=90))
    assert thousand.units == 1_000 * one.units and thousand.requests == 1_000 * one.requests
    assert thousand.minutes_at_quota == pytest.approx(max(one.requests / 270, thousand.requests / 108_000))
    assert thousand.cost_usd == pytest.approx(1_000 * one.cost_usd)
    assert thousand.warning is None
    text = str(thousand)
    assert "1,000 participants x 90 days" in text and f"{thousand.requests:,}" in text


def test_one_second_heart_rate_adds_its_pages_and_unverified_apps_take_longer() -> None:
    hr = quota.estimate(100, 90, options=plan.PlanOptions(heart_rate_seconds=True))
    base = quota.estimate(100, 90)
    assert hr.requests - base.requests >= 100 * 90 * 8
    unverified = quota.estimate(100, 90, verified=False, options=plan.PlanOptions(heart_rate_seconds=True))
    assert unverified.minutes_at_quota == pytest.approx(2 * hr.minutes_at_quota, rel=0.02), "150 not 300 per user"
    assert unverified.warning is None
    assert "warning:" in str(quota.estimate(101, 1, verified=False))
    with pytest.raises(ValueError):
        quota.estimate(0, 90)


class _RecordingQueue:
    def __init__(self) -> None:
        self.published: list[object] = []

    def publish(self, messages: list[object]) -> None:
        self.published.extend(messages)


class _RecordingStore:
    def __init__(self) -> None:
        self.created: dict[str, bytes] = {}

    def create(self, name: str, body: bytes, metadata: dict[str, str], content_type: str) -> None:
        self.created[name] = body


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_fan_out_publishes_spread_units_and_warns_about_an_unverified_app() -> None:
    from fitbit.jobs.extract import ExtractContext, fan_out

    queue, store = _RecordingQueue(), _RecordingStore()
    names = [f"p{i:04d}" for i in range(101)]
    ctx = ExtractContext(store=store, queue=queue, clients=None, participants=lambda: names,  # type: ignore[arg-type]
                         clock=lambda: START)
    records, logger = _Records(), logging.getLogger("fitbit.extract")  # whatever configured logging before
    logger.addHandler(records)
    # Another module's logging.config call may have disabled or quietened existing loggers: undo for the test.
    level, disabled = logger.level, logger.disabled
    logger.setLevel(logging.WARNING)
    logger.disabled = False
    try:
        fan_out(RunTrigger(date(2026, 11, 5), 1, "daily"), ctx)
        assert len(store.created) == 1, "the run's plan is stored once"
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
        logger.disabled = disabled
    units = [u for u in queue.published if isinstance(u, Unit)]
    assert len(units) == len(_units(101)) and min(u.not_before for u in units) == START
    assert max(quota.peak_per_minute(units, n) for n in names) <= QuotaLimits.for_app(verified=False).user_budget
    assert any("OAuth app is unverified" in m for m in records.messages)
