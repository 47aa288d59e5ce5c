"""The report's data: what the charts and the action list need, read through ``Warehouse.query``.

Every health number comes from the views (``helper/views.py``, ``bigquery_sql/views/``) in BigQuery SQL, so the
same code reports on DuckDB and on BigQuery. Failures come from ``processing_log`` (error class, fix and count;
never a value). Grant records come from the secret store when one is given: only their dates are kept, never
a token.

Every query reads the report's ``Window`` only: ``civil_date BETWEEN DATE 'first' AND DATE 'last'`` with the dates
as literals, the form BigQuery prunes partitions by (a filter on the partition column against constants; a
subquery or a join does not prune). The weekly active-zone bars are summed from ``active_zones`` by
``civil_date`` rather than read from ``active_zones_weekly``, whose ``week_start`` is derived and prunes nothing;
the window starts on a Monday so every week is whole. Wear time is read from ``views.completeness_window`` (the
``data_completeness`` view's SQL with the window's literal dates on every table it scans: a filter on the view
itself prunes nothing). docs/cost.md says what each query scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, NamedTuple

from fitbit.ports import Warehouse
from helper import views
from helper.secrets import SecretStore, enrolled_participants, load_grant

DEFAULT_DAYS = 90  # the report's window: the last 90 days (13 weeks)
# Sleep stage -> its minutes column in sleep_quality; the charts draw the stages in this order.
SLEEP_STAGES = {"deep": "deep_minutes", "light": "light_minutes", "rem": "rem_minutes", "awake": "minutes_awake",
                "asleep": "asleep_stage_minutes", "restless": "restless_minutes"}


class Failure(NamedTuple):
    """Failed units of one participant and data type in ``processing_log``."""

    data_type: str
    error_class: str
    fix: str
    count: int
    last_day: date | None


class Grant(NamedTuple):
    """The dates of a stored consent (``None`` everywhere: the record exists but cannot be read)."""

    granted_at: datetime | None
    expires_at: datetime | None


@dataclass(frozen=True)
class Window:
    """The civil days the report reads, both ends included."""

    first: date
    last: date

    @classmethod
    def ending(cls, today: date, days: int = DEFAULT_DAYS) -> Window:
        """The last ``days`` days up to ``today``, widened back to a Monday (whole ISO weeks) and on to tomorrow
        (participants east of UTC already live in it)."""
        if days < 1:
            raise ValueError(f"the report's window needs at least one day, got {days}")
        start = today - timedelta(days=days - 1)
        return cls(start - timedelta(days=start.weekday()), today + timedelta(days=1))

    def where(self) -> str:
        """The pruning filter: the partition column against two DATE literals."""
        return f"civil_date BETWEEN DATE '{self.first.isoformat()}' AND DATE '{self.last.isoformat()}'"


@dataclass(frozen=True)
class ReportData:
    """What the report needs, keyed by participant then civil day (or ISO week start); read-only once built."""

    steps: dict[str, dict[date, float]]
    resting_hr: dict[str, dict[date, float]]
    sleep: dict[str, dict[date, dict[str, float]]]   # stage key -> minutes; {} while Google processes the night
    weeks: dict[str, dict[date, tuple[float, float, float, int]]]  # fat burn, cardio, peak, days with data
    wear: dict[str, dict[date, tuple[float, bool]]]  # hours worn, valid day
    threshold_h: float
    last_sync: dict[str, datetime] = field(default_factory=dict)  # latest tracker sync per participant
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    grants: dict[str, Grant] | None = None  # None: the grant records were not read

    @cached_property
    def participants(self) -> list[str]:
        return sorted(set(self.wear) | set(self.steps) | set(self.sleep) | set(self.failures) | set(self.grants or {}))

    @cached_property
    def days(self) -> list[date]:
        known = {d for per in self.wear.values() for d in per} | {d for per in self.steps.values() for d in per} \
            | {d for per in self.sleep.values() for d in per}
        if not known:
            return []
        first, last = min(known), max(known)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def collect(warehouse: Warehouse, grants: dict[str, Grant] | None = None, *, window: Window) -> ReportData:
    """Read the charts' data from the views and the failures from ``processing_log`` (either warehouse).

    Args:
        warehouse: either warehouse adapter.
        grants: the grant records (``read_grants``), or ``None`` when the secret store is not at hand.
        window: the civil days to read (``Window.ending(today)``); every query filters on it.
    """
    where = window.where()
    steps: dict[str, dict[date, float]] = {}
    resting: dict[str, dict[date, float]] = {}
    for participant, day, n_steps, bpm in warehouse.query(
            f"SELECT participant_id, civil_date, steps, resting_heart_rate_bpm FROM daily_summary WHERE {where}"):
        if n_steps is not None:
            steps.setdefault(participant, {})[day] = float(n_steps)
        if bpm is not None:
            resting.setdefault(participant, {})[day] = float(bpm)
    sleep: dict[str, dict[date, dict[str, float]]] = {}
    minutes_sql = ", ".join(f"SUM({column})" for column in SLEEP_STAGES.values())
    for participant, day, processed, *minutes in warehouse.query(
            f"SELECT participant_id, civil_date, LOGICAL_AND(processed), {minutes_sql} "
            f"FROM sleep_quality WHERE {where} GROUP BY participant_id, civil_date"):
        stages = {key: float(m) for key, m in zip(SLEEP_STAGES, minutes, strict=True) if m}
        sleep.setdefault(participant, {})[day] = stages if processed else {}
    weeks: dict[str, dict[date, tuple[float, float, float, int]]] = {}
    for participant, week, fat_burn, cardio, peak, n_days in warehouse.query(
            "SELECT participant_id, week_start, SUM(azm_fat_burn), SUM(azm_cardio), SUM(azm_peak), COUNT(*) "
            f"FROM active_zones WHERE {where} GROUP BY participant_id, week_start"):
        weeks.setdefault(participant, {})[week] = (_num(fat_burn) or 0.0, _num(cardio) or 0.0, _num(peak) or 0.0,
                                                   int(n_days))
    wear: dict[str, dict[date, tuple[float, bool]]] = {}
    threshold = 10.0
    synced: dict[str, datetime] = {}
    for participant, day, hours, valid, threshold_h, sync in warehouse.query(
            "SELECT participant_id, civil_date, wear_hours, valid_day, valid_day_min_wear_hours, last_sync_time "
            f"FROM {views.completeness_window(window.first, window.last)}"):
        wear.setdefault(participant, {})[day] = (float(hours), bool(valid))
        threshold = float(threshold_h)
        if sync is not None:
            synced[participant] = sync
    failures: dict[str, list[Failure]] = {}
    for participant, data_type, error_class, fix, count, last_day in warehouse.query(
            "SELECT participant_id, data_type, error_class, MAX(fix), COUNT(*), MAX(civil_date) "
            f"FROM processing_log WHERE status = 'failed' AND {where} GROUP BY participant_id, data_type, error_class "
            "ORDER BY participant_id, data_type, error_class"):
        failures.setdefault(participant, []).append(
            Failure(data_type or "?", error_class or "?", fix or "", int(count), last_day))
    return ReportData(steps, resting, sleep, weeks, wear, threshold, synced, failures, grants)


def read_grants(store: SecretStore) -> dict[str, Grant]:
    """The dates of every stored grant; a record that cannot be read is kept as ``Grant(None, None)``."""
    out = {}
    for participant in enrolled_participants(store):
        try:
            grant = load_grant(store, participant)
        except ValueError:
            out[participant] = Grant(None, None)
            continue
        out[participant] = Grant(grant.granted_at, grant.refresh_token_expires_at)
    return out
