"""``views.completeness_window``: the ``data_completeness`` view's SQL over a window with literal dates (so BigQuery
prunes), run on the embedded warehouse and compared with the view restricted to the window, row by row."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fitbit.catalogue import table_named
from helper import views

FIRST, LAST = date(2026, 10, 1), date(2026, 10, 31)  # the window; its lookback starts 2026-09-01
COLUMNS = ("participant_id, civil_date, wear_minutes, wear_hours, valid_day, valid_day_min_wear_hours, "
           "last_sync_time, last_data_date, days_since_last_data")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _load(warehouse, worn: dict[str, dict[date, int]], reads: dict[str, list[date]]) -> None:  # noqa: ANN001
    """``worn``: minutes of heart rate per participant and day; ``reads``: the days the account was read (a
    settings row and a tracker row whose last sync is that morning)."""
    minutes = [{"participant_id": p, "civil_date": d.isoformat(),
                "start_time": (datetime.combine(d, time(6), UTC) + timedelta(minutes=m)).isoformat(),
                "end_time": (datetime.combine(d, time(6), UTC) + timedelta(minutes=m + 1)).isoformat(), "bpm_avg": 70}
               for p, per in worn.items() for d, n in per.items() for m in range(n)]
    settings = [{"participant_id": p, "civil_date": d.isoformat(), "time_zone": "Europe/Berlin"}
                for p, days in reads.items() for d in days]
    devices = [{"participant_id": p, "civil_date": d.isoformat(), "device_name": "Watch", "device_type": "TRACKER",
                "last_sync_time": datetime.combine(d, time(7), UTC).isoformat()} for p, days in reads.items() for d in days]
    for name, rows in (("heart_rate_1min", minutes), ("participant_settings", settings), ("paired_devices", devices)):
        warehouse.stage(table_named(name), rows, f"batch-{name}")
    warehouse.flush()


def _rows(warehouse, source: str) -> dict[tuple[str, date], tuple]:  # noqa: ANN001
    got = warehouse.query(f"SELECT {COLUMNS} FROM {source} WHERE civil_date BETWEEN DATE '{FIRST}' AND DATE '{LAST}'")
    return {(r[0], r[1]): r[2:] for r in got}


def test_the_windowed_read_equals_the_view_on_the_window_where_the_lookback_reaches_the_last_worn_day(warehouse):
    history = _days(date(2026, 8, 1), date(2026, 11, 10))
    worn = {
        # worn most days, a gap across the window's start (days since the last worn day reach into the lookback)
        "steady": {d: (5 if d.day % 7 else 2) for d in history if not date(2026, 9, 25) <= d <= date(2026, 10, 3)},
        "gone": {d: 3 for d in _days(date(2026, 8, 1), date(2026, 8, 15))},  # silent 47+ days before the window
        "joined": {d: 4 for d in _days(date(2026, 10, 10), date(2026, 10, 20))},  # enrolled inside the window
        "later": {date(2026, 11, 5): 6},  # data only after the window
        "early": {d: 1 for d in _days(date(2026, 8, 1), date(2026, 8, 10))},  # left before the lookback
    }
    reads = {"steady": history, "gone": history, "joined": _days(date(2026, 10, 10), date(2026, 10, 20)),
             "later": [date(2026, 11, 5)], "early": _days(date(2026, 8, 1), date(2026, 8, 10))}
    _load(warehouse, worn, reads)
    view = _rows(warehouse, "data_completeness")
    windowed = _rows(warehouse, views.completeness_window(FIRST, LAST))

    assert set(windowed) == set(view)  # the same participant-days: every covered day of the window, worn or not
    assert {p for p, _ in view} == {"steady", "gone", "joined"}
    assert len(view) == 31 + 31 + 11
    differ = {key for key in view if windowed[key] != view[key]}
    assert {p for p, _ in differ} == {"gone"}  # last worn 2026-08-15: before the 30-day lookback
    for key in differ:
        assert windowed[key][:5] == view[key][:5]  # wear, validity and the last sync agree
        assert windowed[key][5:] == (None, None)  # nothing worn since 2026-09-01
        assert view[key][6] == (key[1] - date(2026, 8, 15)).days
    assert view[("steady", FIRST)][5:] == (date(2026, 9, 24), 7) == windowed[("steady", FIRST)][5:]
    assert windowed[("joined", date(2026, 10, 10))][4] == datetime(2026, 10, 20, 7, tzinfo=UTC)


def test_a_window_past_the_last_account_read_clamps_to_the_last_day_with_data(warehouse):
    # Data after the window but no account read after it: the view's day spine runs on to 2026-11-05, the
    # window's stops at the last day with data inside it (documented in data_completeness.sql).
    _load(warehouse, {"p": {date(2026, 10, 5): 3, date(2026, 11, 5): 3}}, {"p": [date(2026, 10, 5)]})
    view, windowed = _rows(warehouse, "data_completeness"), _rows(warehouse, views.completeness_window(FIRST, LAST))
    assert sorted(d for _, d in view) == _days(date(2026, 10, 5), LAST)
    assert sorted(d for _, d in windowed) == [date(2026, 10, 5)]
    assert windowed[("p", date(2026, 10, 5))] == view[("p", date(2026, 10, 5))]
