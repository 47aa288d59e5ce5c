"""The report's data: what the five charts need, read from the analytics views through ``Warehouse.query``.

Every number comes from the views (``helper/views.py``, ``bigquery_sql/views/``) in BigQuery SQL, so the same
code reports on DuckDB and on BigQuery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fitbit.ports import Warehouse

# Sleep stage -> its minutes column in sleep_quality; the charts draw the stages in this order.
SLEEP_STAGES = {"deep": "deep_minutes", "light": "light_minutes", "rem": "rem_minutes", "awake": "minutes_awake",
                "asleep": "asleep_stage_minutes", "restless": "restless_minutes"}


@dataclass(frozen=True)
class ReportData:
    """What the charts need, keyed by participant then civil day (or ISO week start)."""

    steps: dict[str, dict[date, float]]
    resting_hr: dict[str, dict[date, float]]
    sleep: dict[str, dict[date, dict[str, float]]]   # stage key -> minutes; {} while Google processes the night
    weeks: dict[str, dict[date, tuple[float, float, float, int]]]  # fat burn, cardio, peak, days with data
    wear: dict[str, dict[date, tuple[float, bool]]]  # hours worn, valid day
    threshold_h: float

    @property
    def participants(self) -> list[str]:
        return sorted(set(self.wear) | set(self.steps) | set(self.sleep))

    @property
    def days(self) -> list[date]:
        known = {d for per in self.wear.values() for d in per} | {d for per in self.steps.values() for d in per} \
            | {d for per in self.sleep.values() for d in per}
        if not known:
            return []
        first, last = min(known), max(known)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def collect(warehouse: Warehouse) -> ReportData:
    """Read the five charts' data from the views (BigQuery SQL; runs on either warehouse)."""
    steps: dict[str, dict[date, float]] = {}
    resting: dict[str, dict[date, float]] = {}
    for participant, day, n_steps, bpm in warehouse.query(
            "SELECT participant_id, civil_date, steps, resting_heart_rate_bpm FROM daily_summary"):
        if n_steps is not None:
            steps.setdefault(participant, {})[day] = float(n_steps)
        if bpm is not None:
            resting.setdefault(participant, {})[day] = float(bpm)
    sleep: dict[str, dict[date, dict[str, float]]] = {}
    minutes_sql = ", ".join(f"SUM({column})" for column in SLEEP_STAGES.values())
    for participant, day, processed, *minutes in warehouse.query(
            f"SELECT participant_id, civil_date, LOGICAL_AND(processed), {minutes_sql} "
            "FROM sleep_quality GROUP BY participant_id, civil_date"):
        stages = {key: float(m) for key, m in zip(SLEEP_STAGES, minutes, strict=True) if m}
        sleep.setdefault(participant, {})[day] = stages if processed else {}
    weeks: dict[str, dict[date, tuple[float, float, float, int]]] = {}
    for participant, week, fat_burn, cardio, peak, n_days in warehouse.query(
            "SELECT participant_id, week_start, azm_fat_burn, azm_cardio, azm_peak, days_with_data "
            "FROM active_zones_weekly"):
        weeks.setdefault(participant, {})[week] = (_num(fat_burn) or 0.0, _num(cardio) or 0.0, _num(peak) or 0.0,
                                                   int(n_days))
    wear: dict[str, dict[date, tuple[float, bool]]] = {}
    threshold = 10.0
    for participant, day, hours, valid, threshold_h in warehouse.query(
            "SELECT participant_id, civil_date, wear_hours, valid_day, valid_day_min_wear_hours "
            "FROM data_completeness"):
        wear.setdefault(participant, {})[day] = (float(hours), bool(valid))
        threshold = float(threshold_h)
    return ReportData(steps, resting, sleep, weeks, wear, threshold)
