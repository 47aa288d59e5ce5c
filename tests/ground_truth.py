"""Ground truth for end-to-end tests, derived from the catalogue (a new summed type is checked the day
it is declared): which warehouse column must equal which field of the simulator's own dailyRollUp."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple

from fitbit.calls import daily_roll_up_call
from fitbit.catalogue import DATA_TYPES
from fitbit.client import HealthClient


class SummedColumn(NamedTuple):
    data_type: str
    table: str
    column: str
    rollup_field: str


class IntradayPair(NamedTuple):
    daily_table: str
    intraday_table: str
    column: str


SUMMED = [SummedColumn(dt.path_id, dt.daily_read.table, c.name, c.path)
          for dt in DATA_TYPES if dt.summed_daily and dt.daily_read for c in dt.daily_read.columns]
# Daily totals whose intraday (reconciled) column has the same name: the minutes must sum to the day.
INTRADAY = [IntradayPair(dt.daily_read.table, r.table, c.name)
            for dt in DATA_TYPES if dt.summed_daily and dt.daily_read
            for r in dt.reads if r.method == "reconcile"
            for c in r.columns if c.name in {d.name for d in dt.daily_read.columns}]


def daily_rollup_truth(client: HealthClient, data_type: str, start: date, end: date) -> dict[date, dict]:
    """The simulator's dailyRollUp value object per civil day in [start, end], fetched over HTTP."""
    json_key = next(dt.json_key for dt in DATA_TYPES if dt.path_id == data_type)
    truth: dict[date, dict] = {}
    for page in client.pages(daily_roll_up_call(data_type, start=start, end=end + timedelta(days=1))):
        for item in page.items:
            d = item["civilStartTime"]["date"]
            truth[date(d["year"], d["month"], d["day"])] = item.get(json_key, {})
    return truth


def assert_daily_totals_match(warehouse, client_for, participants, days, summed: SummedColumn) -> None:
    """Every loaded daily total equals the simulator's dailyRollUp; a day without data is not loaded as 0."""
    loaded = {(p, d): v for p, d, v in warehouse.query(
        f"SELECT participant_id, civil_date, {summed.column} FROM {summed.table}")}
    compared = 0
    for participant in participants:
        truth = daily_rollup_truth(client_for(participant), summed.data_type, days[0], days[-1])
        for day in days:
            if day not in truth:
                assert (participant, day) not in loaded, "a day without data must not appear as zero"
                continue
            expected = float(truth[day].get(summed.rollup_field, 0))
            assert abs(float(loaded[(participant, day)]) - expected) <= 1e-6, (participant, day)
            compared += 1
    assert compared >= len(participants) * (len(days) - 1)


def assert_intraday_sums_to_daily(warehouse, pair: IntradayPair) -> None:
    """The reconciled intervals of each civil day add up to that day's dailyRollUp total."""
    mismatches = warehouse.query(
        f"SELECT d.participant_id, d.civil_date, d.{pair.column}, i.total FROM {pair.daily_table} d "
        f"LEFT JOIN (SELECT participant_id, civil_date, SUM({pair.column}) AS total FROM {pair.intraday_table} "
        f"GROUP BY 1, 2) i USING (participant_id, civil_date) WHERE d.{pair.column} != COALESCE(i.total, 0)")
    assert mismatches == []
