"""Who needs action, and why: silent participants, stale syncs, consent problems, failing units, low wear.

Pure: it reads a ``ReportData`` and a clock passed in, so the same rules are tested without a warehouse.
Each reason names what to do next (style §6): the fix from ``processing_log`` for a failure, the consent
script for a grant, a message to the participant for a silent or unworn watch. Days are civil days; "today"
is the last civil day the report covers, and a stale sync is measured against the cohort's latest sync, so
a report on an old warehouse does not flag everybody. Grant expiry is measured against ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tools.report.data import ReportData

SILENT_DAYS = 3  # no worn minute for this many days up to the last covered day
STALE_SYNC_DAYS = 3  # the tracker has not synced for this long
EXPIRY_WARNING = timedelta(days=2)  # a "Testing" grant expiring within this needs re-consent now
RECENT_DAYS = 7  # the window of the low-wear rule
LOW_WEAR_SHARE = 0.5  # fewer valid days than this share of the window (only after a full window)
RECONSENT = "run `python scripts/authorise.py --participant {p}` again"
CONTACT = "contact the participant (charge and wear the watch, open the app to sync)"


@dataclass(frozen=True)
class Reason:
    """One problem: what is wrong, what to do, and its rank (0 most urgent)."""

    what: str
    fix: str
    rank: int


@dataclass(frozen=True)
class Action:
    participant: str
    reasons: tuple[Reason, ...]

    @property
    def rank(self) -> int:
        return min(r.rank for r in self.reasons)


def needs_action(data: ReportData, now: datetime) -> list[Action]:
    """Participants needing action, most urgent first (then by id).

    Args:
        data: the report's data.
        now: the current time (timezone-aware), for syncs and grant expiry.

    Returns:
        One ``Action`` per participant with at least one reason.
    """
    days = data.days
    last_day, freshest = (days[-1] if days else None), max(data.last_sync.values(), default=None)
    out = []
    for participant in data.participants:
        reasons = _grant_reasons(data, participant, now) + _failure_reasons(data, participant)
        reasons += _wear_reasons(data, participant, last_day, freshest)
        if reasons:
            out.append(Action(participant, tuple(sorted(reasons, key=lambda r: r.rank))))
    return sorted(out, key=lambda a: (a.rank, a.participant))


def _grant_reasons(data: ReportData, p: str, now: datetime) -> list[Reason]:
    if data.grants is None:
        return []
    grant = data.grants.get(p)
    if grant is None:
        return [Reason("no consent stored (withdrawn or never granted): data stopped", RECONSENT.format(p=p), 0)]
    if grant.granted_at is None:
        return [Reason("the stored consent record cannot be read", RECONSENT.format(p=p), 0)]
    if grant.expires_at is not None and grant.expires_at <= now + EXPIRY_WARNING:
        when = "expired" if grant.expires_at <= now else "expires"
        return [Reason(f"re-consent needed: the grant {when} {grant.expires_at:%Y-%m-%d %H:%M} UTC",
                       RECONSENT.format(p=p), 0)]
    return []


def _failure_reasons(data: ReportData, p: str) -> list[Reason]:
    out = []
    for f in data.failures.get(p, []):
        consent = f.error_class in {"ReconsentNeeded", "ScopeMissing", "AccountNotLinked"}
        last = f" (last {f.last_day.isoformat()})" if f.last_day else ""
        out.append(Reason(f"{f.count} failed unit{'s' if f.count != 1 else ''}: {f.data_type}, {f.error_class}{last}",
                          f.fix or "see the processing log", 0 if consent else 1))
    return out


def _wear_reasons(data: ReportData, p: str, last_day: date | None, freshest: datetime | None) -> list[Reason]:
    """Silence, a stale sync, low wear. ``freshest`` is the cohort's latest tracker sync."""
    out = []
    per_day = data.wear.get(p, {})
    worn = [d for d, (hours, _) in per_day.items() if hours > 0]
    silent = bool(per_day) and last_day is not None and (not worn or (last_day - max(worn)).days >= SILENT_DAYS)
    if silent and not worn:
        out.append(Reason("no worn minute yet", CONTACT, 2))
    elif silent and last_day is not None:
        out.append(Reason(f"no data for {(last_day - max(worn)).days} days (last worn {max(worn).isoformat()})",
                          CONTACT, 2))
    elif not per_day and (data.grants or {}).get(p):
        out.append(Reason("enrolled, no data yet", "check the participant's first run in the processing log", 2))
    synced = data.last_sync.get(p)
    if synced is not None and freshest is not None and freshest - synced >= timedelta(days=STALE_SYNC_DAYS):
        out.append(Reason(f"tracker last synced {synced:%Y-%m-%d %H:%M} UTC, {(freshest - synced).days} days before "
                          "the cohort's latest sync", CONTACT, 2))
    recent = [ok for d, (_, ok) in per_day.items() if last_day is not None and (last_day - d).days < RECENT_DAYS]
    if worn and not silent and len(recent) >= RECENT_DAYS and sum(recent) < LOW_WEAR_SHARE * RECENT_DAYS:
        out.append(Reason(f"low wear: {sum(recent)} of the last {RECENT_DAYS} days valid (≥ {data.threshold_h:g} h)",
                          CONTACT, 3))
    return out
