"""Quota planning: spread a run's units over time so it never exceeds the API's quotas, and estimate a run.

Quotas (docs/google-health-api.md §4.1, rate-limits guide checked 2026-11-23): 120,000 requests per minute
per project; 300 per minute per user; an unverified OAuth app serves at most 100 users at 2.5 QPS each
(150 per minute). Excess answers 429 with Retry-After.

``spread`` gives every unit a not-before time in whole minutes after the run's start, at most a budget's
worth per participant and per project in each minute, so no sliding 60 s window holds more than either
budget, whatever the cohort size. Budgets keep a
headroom below the quota (default 10 %) for the requests a plan cannot know in advance (next pages,
re-reads, webhook-triggered units); the runtime that delivers the units still limits itself, and a 429
still defers a unit rather than failing it.

``estimate`` is what ``fitbit-pipeline run --plan`` prints before a run or a backfill starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from fitbit import plan
from fitbit.messages import RunTrigger, Unit

USER_QUOTA_PER_MINUTE = 300
PROJECT_QUOTA_PER_MINUTE = 120_000
UNVERIFIED_USER_QUOTA_PER_MINUTE = 150  # 2.5 QPS
UNVERIFIED_MAX_USERS = 100
# Pages a read needs per civil day beyond its first request; 1-second heart rate: ≈9 pages of 10,000
# samples per day (fitbit/plan.py). Every other read's page holds its whole window.
EXTRA_PAGES_PER_DAY = {"heart_rate_seconds": 8.0}
DEFAULT_OPTIONS = plan.PlanOptions()


@dataclass(frozen=True)
class QuotaLimits:
    """The quotas a run must stay under, and the share of them it plans to use."""

    per_user_per_minute: int = USER_QUOTA_PER_MINUTE
    project_per_minute: int = PROJECT_QUOTA_PER_MINUTE
    headroom: float = 0.1

    def __post_init__(self) -> None:
        if self.per_user_per_minute < 1 or self.project_per_minute < 1:
            raise ValueError("quotas are positive requests per minute")
        if not 0.0 <= self.headroom < 1.0:
            raise ValueError("headroom is a fraction in [0, 1)")

    @classmethod
    def for_app(cls, verified: bool, **overrides: float) -> QuotaLimits:
        """Google's quotas for a verified or an unverified OAuth app."""
        per_user = USER_QUOTA_PER_MINUTE if verified else UNVERIFIED_USER_QUOTA_PER_MINUTE
        return cls(**{"per_user_per_minute": per_user, **overrides})  # type: ignore[arg-type]

    @property
    def user_budget(self) -> int:
        return max(1, math.floor(self.per_user_per_minute * (1.0 - self.headroom)))

    @property
    def project_budget(self) -> int:
        return max(1, math.floor(self.project_per_minute * (1.0 - self.headroom)))


def spread(units: Sequence[Unit], start: datetime, limits: QuotaLimits = QuotaLimits()) -> list[Unit]:
    """The units with not-before times that keep every minute under both budgets.

    Minute slots: a unit goes to the first slot (``start`` + whole minutes) where neither its participant
    nor the project has used the budget yet. Slots are 60 s apart, so a sliding 60 s window meets one
    slot only: no window holds more than either budget. A run within budget stays at ``start`` (no
    needless delay); only the excess moves to later minutes. Participants take turns (round robin, each
    participant's units in their given order), so a large participant does not hold the others back. A
    unit that already had a later not-before keeps it.

    Args:
        units: the run's units, in the order each participant's should go.
        start: the earliest not-before (the run's start, timezone-aware).
        limits: the quotas and headroom.

    Returns:
        The same units, interleaved by participant, each with a not-before at or after ``start``.
    """
    user_slot: dict[str, int] = {}  # the first slot where the participant may still have room
    user_used: dict[tuple[str, int], int] = {}
    project_used: dict[int, int] = {}
    out: list[Unit] = []
    for unit in _round_robin(units):
        slot = user_slot.get(unit.participant, 0)
        while (user_used.get((unit.participant, slot), 0) >= limits.user_budget
               or project_used.get(slot, 0) >= limits.project_budget):
            slot += 1
        user_slot[unit.participant] = slot
        user_used[unit.participant, slot] = user_used.get((unit.participant, slot), 0) + 1
        project_used[slot] = project_used.get(slot, 0) + 1
        at = start + timedelta(minutes=slot)
        out.append(replace(unit, not_before=max(at, unit.not_before) if unit.not_before else at))
    return out


def _round_robin(units: Sequence[Unit]) -> list[Unit]:
    queues: dict[str, list[Unit]] = {}
    for unit in units:
        queues.setdefault(unit.participant, []).append(unit)
    rounds = max((len(q) for q in queues.values()), default=0)
    return [q[i] for i in range(rounds) for q in queues.values() if i < len(q)]


def peak_per_minute(units: Sequence[Unit], participant: str | None = None) -> int:
    """The most not-before times (of one participant, or all) that fall in any sliding 60 s window."""
    times = sorted(u.not_before for u in units if u.not_before and participant in (None, u.participant))
    peak, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - timedelta(seconds=60):
            lo += 1
        peak = max(peak, hi - lo + 1)
    return peak


def unverified_warning(enrolled: int, verified: bool) -> str | None:
    """A warning when more participants are enrolled than an unverified OAuth app may serve."""
    if verified or enrolled <= UNVERIFIED_MAX_USERS:
        return None
    return (f"{enrolled} participants are enrolled but the OAuth app is unverified: Google caps unverified apps "
            f"at {UNVERIFIED_MAX_USERS} users (and 2.5 requests/s each). Apply for app verification "
            "(docs/google-health-api.md §5.3), then set OAUTH_APP_VERIFIED=true")


@dataclass(frozen=True)
class Prices:
    """List prices the estimate uses (USD; Cloud Run functions tier 1, Pub/Sub, GCS Standard class A).

    Assumed from the public price lists as of 2026-11; pass your own to ``estimate`` when they differ.
    BigQuery is left out: its cost model is the bigquery_cost benchmark's.
    """

    per_million_invocations: float = 0.40
    per_vcpu_second: float = 0.000024
    per_gib_second: float = 0.0000025
    per_thousand_objects: float = 0.005  # class A operation: one object written per request
    per_tib_messages: float = 40.0
    vcpu: float = 0.333
    memory_gib: float = 0.5
    extract_seconds: float = 0.4  # billed time of one extract invocation (mostly waiting on the API)
    transform_seconds: float = 0.2
    message_kib: float = 1.0  # Pub/Sub bills at least 1 KB per message


@dataclass(frozen=True)
class PlanEstimate:
    participants: int
    days: int
    units: int
    requests: int
    minutes_at_quota: float
    cost_usd: float
    limits: QuotaLimits
    warning: str | None = None

    def __str__(self) -> str:
        lines = [
            f"plan: {self.participants:,} participants x {self.days} day{'s' if self.days != 1 else ''}",
            f"  units (first requests)  {self.units:,}",
            f"  API requests (est.)     {self.requests:,}",
            f"  duration at quota       {self.minutes_at_quota:,.1f} min "
            f"(≤ {self.limits.user_budget}/min per user, ≤ {self.limits.project_budget:,}/min per project)",
            f"  estimated cost          ${self.cost_usd:,.2f} (functions, Pub/Sub, storage writes; BigQuery apart)",
        ]
        if self.warning:
            lines.append(f"  warning: {self.warning}")
        return "\n".join(lines)


def estimate(participants: int, days: int, *, verified: bool = True, options: plan.PlanOptions = DEFAULT_OPTIONS,
             limits: QuotaLimits | None = None, prices: Prices = Prices(),
             end: date = date(2026, 11, 5)) -> PlanEstimate:
    """Plan a run (or backfill) of ``participants`` x ``days`` before it starts: requests, duration, cost.

    Args:
        participants: the cohort size.
        days: civil days the run covers (1 for a daily run's new day, 90 for a backfill).
        verified: whether the OAuth app is verified (an unverified one: 150 requests/min per user, and a
            warning above 100 participants).
        options: the opt-in reads switched on.
        limits: the quotas; default: ``QuotaLimits.for_app(verified)``.
        prices: the list prices.
        end: the run's last civil day (it only matters for DST-shortened rollUp chunks).

    Returns:
        The estimate; ``str()`` of it is the printable plan.
    """
    if participants < 1 or days < 1:
        raise ValueError("a plan needs at least one participant and one day")
    limits = limits or QuotaLimits.for_app(verified)
    trigger = RunTrigger(end, days, "backfill")
    one = plan.units_for_run(trigger, ["p"], end + timedelta(days=1), options)
    per_participant_units = len(one)
    extra = sum(EXTRA_PAGES_PER_DAY.get(read.opt_in or "", 0.0) * days for _, read in plan.planned_reads(options))
    per_participant_requests = per_participant_units + math.ceil(extra)
    units, requests = per_participant_units * participants, per_participant_requests * participants
    minutes = max(per_participant_requests / limits.user_budget, requests / limits.project_budget)
    invocations = 2 * requests  # an extract per request, a transform_load per stored page
    compute = requests * (prices.extract_seconds + prices.transform_seconds)
    cost = (invocations / 1e6 * prices.per_million_invocations
            + compute * (prices.vcpu * prices.per_vcpu_second + prices.memory_gib * prices.per_gib_second)
            + requests / 1000 * prices.per_thousand_objects
            + 2 * requests * prices.message_kib / 2**30 * prices.per_tib_messages)
    return PlanEstimate(participants, days, units, requests, minutes, cost, limits,
                        unverified_warning(participants, verified))
