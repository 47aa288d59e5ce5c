"""From notifications to work: which participant-type-days changed, and the units that re-read them.

A notification says only who, what type and when. The pipeline answers by re-reading the civil days it
touches with exactly the units the daily plan would issue for that type on that day (same reads from
the catalogue, same one-day window), so the webhook path and the daily sweep store, parse and merge
the same way; a re-read of an unchanged day costs one request per read and changes no row.

Days come from the civil interval (the user's calendar) when present, else from the physical one in
the participant's stored time zone. An interval ending exactly at midnight does not touch the next
day. Types dated by their end (sleep) touch only the end's day, as the daily plan dates them. A
notification without intervals means "something changed": the participant's current day is re-read.
At most ``MAX_DAYS`` days are taken from one interval (the most recent ones); older days are left to
the daily sweep and backfills.

Deletions: a ``DELETE`` notification gets the same units as an ``UPSERT``, and each covers **whole** civil
days (window ``[day, day + 1)``, every page), never just the notified interval. The MERGE never deletes
a row, so a deleted point stays in the warehouse until a complete re-read of its day shows it missing:
that complete window is what the deletion tombstones of issue #12 compare against (rows of the window
absent from a complete re-read get ``deleted_at``). Units carry ``reason="webhook"`` and
``run_id="webhook"`` so they can be told apart from the daily sweep's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fitbit import plan
from fitbit.catalogue import DataType
from fitbit.messages import RunTrigger, Unit
from fitbit.webhooks.notification import Interval

RUN_ID = "webhook"
MAX_DAYS = 31


@dataclass(frozen=True, order=True)
class DayKey:
    """One coalesced piece of work: a participant's data type on one civil day."""

    participant: str
    data_type: str
    day: date

    @property
    def idempotency_base(self) -> str:
        return f"{self.participant}/{self.data_type}/{self.day.isoformat()}"


def zone_of(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _civil_span(interval: Interval, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    if interval.civil is not None:
        return interval.civil
    if interval.physical is not None:
        start, end = interval.physical
        return start.astimezone(zone).replace(tzinfo=None), end.astimezone(zone).replace(tzinfo=None)
    return None


def _last_day(end: datetime, start: datetime) -> date:
    """The last civil day [start, end) touches: an end at exactly midnight belongs to the day before."""
    if end > start and end.time() == time(0):
        return end.date() - timedelta(days=1)
    return end.date()


def days_touched(intervals: Iterable[Interval], entry: DataType, zone: ZoneInfo, now: datetime) -> set[date]:
    """The civil days a notification's intervals touch, for the catalogue ``entry``, in ``zone``."""
    days: set[date] = set()
    spans = [s for s in (_civil_span(i, zone) for i in intervals) if s is not None]
    if not spans:
        return {now.astimezone(zone).date()}
    for start, end in spans:
        last = _last_day(end, start)
        if entry.dated_by_end:
            days.add(last)
            continue
        first = max(start.date(), last - timedelta(days=MAX_DAYS - 1))
        days.update(first + timedelta(days=k) for k in range((last - first).days + 1))
    return days


def units_for(key: DayKey, options: plan.PlanOptions, not_before: datetime | None = None) -> list[Unit]:
    """The units the daily plan issues for ``key.data_type`` on ``key.day`` (and only those)."""
    trigger = RunTrigger(key.day, 1, "webhook", (key.participant,), run_id=RUN_ID)
    units = plan.units_for_run(trigger, [key.participant], key.day + timedelta(days=1), options)
    return [Unit(u.participant, u.data_type, u.method, u.start, u.end, u.reason, not_before=not_before,
                 run_id=u.run_id) for u in units if u.data_type == key.data_type]
