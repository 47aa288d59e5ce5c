"""The report reads pruned ranges (issue #14, items 4 and 6): every query it sends on a partitioned relation (a
catalogue table, all partitioned by ``civil_date``, or a view over them) filters ``civil_date`` by two DATE
literals, the form BigQuery prunes partitions by; and the views it reads pass ``civil_date`` through to their
tables' partition column, so the filter reaches them (sqlglot's column lineage). ``data_completeness`` does not, so
the report and the Sheets export read it through ``views.completeness_window``, whose every table scan carries
literal dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from helper import views
from tools.report import Window, collect
from tools.report.pruning import civil_date_sources, literal_ranges


class RecordingWarehouse:
    """Stands in for the warehouse only: keeps the SQL the report sends (the thing under test) and answers nothing."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def query(self, sql: str) -> list[tuple]:
        self.sql.append(sql)
        return []


def test_every_report_query_on_a_partitioned_relation_has_a_literal_date_range():
    window = Window.ending(date(2026, 11, 30), 90)
    warehouse = RecordingWarehouse()
    collect(warehouse, window=window)
    assert len(warehouse.sql) == 5
    read = {}
    for statement in warehouse.sql:
        read.update(literal_ranges(statement))
    # Wear time is data_completeness's SQL windowed (views.completeness_window): its tables, each with literal
    # dates from 30 days before the window (days since the last worn day look back that far); the account reads
    # (one row per participant and run) from then on, open-ended.
    lookback = window.first - timedelta(days=30)
    assert read == {"daily_summary": (window.first, window.last), "sleep_quality": (window.first, window.last),
                    "active_zones": (window.first, window.last), "processing_log": (window.first, window.last),
                    "heart_rate_1min": (lookback, window.last), "steps_daily": (lookback, window.last),
                    "sleep_sessions": (lookback, window.last),
                    "participant_settings": (lookback, date.max), "paired_devices": (lookback, date.max)}


def test_the_checker_flags_a_query_without_a_literal_range():
    assert literal_ranges("SELECT * FROM daily_summary") == {"daily_summary": None}
    subquery = ("SELECT * FROM daily_summary WHERE civil_date BETWEEN (SELECT MIN(civil_date) FROM steps_daily) "
                "AND DATE '2026-11-30'")
    assert literal_ranges(subquery)["daily_summary"] is None
    other_column = "SELECT * FROM active_zones_weekly WHERE week_start BETWEEN DATE '2026-11-02' AND DATE '2026-11-30'"
    assert literal_ranges(other_column)["active_zones_weekly"] is None
    assert literal_ranges("SELECT * FROM hr_1h WHERE civil_date >= DATE '2026-11-02' AND x = 1") == {
        "hr_1h": (date(2026, 11, 2), date.max)}
    assert literal_ranges("SELECT * FROM hr_1h WHERE civil_date <= DATE '2026-11-02'") == {
        "hr_1h": (date.min, date(2026, 11, 2))}


def test_the_window_is_whole_weeks_up_to_tomorrow():
    window = Window.ending(date(2026, 11, 30), 90)  # a Monday
    assert (window.first, window.last) == (date(2026, 8, 31), date(2026, 12, 1))
    assert window.first.weekday() == 0
    assert Window.ending(date(2026, 12, 2), 1) == Window(date(2026, 11, 30), date(2026, 12, 3))
    with pytest.raises(ValueError):
        Window.ending(date(2026, 11, 30), 0)


def test_the_views_the_report_reads_pass_civil_date_through_to_the_partition_column():
    assert civil_date_sources("sleep_quality") == {"sleep_sessions": True}
    spine = civil_date_sources("daily_summary")
    assert len(spine) == 10 and all(spine.values()), spine
    # active_zones: pruned except the after-midnight remainder of zone intervals (DATE_ADD of the start day).
    assert civil_date_sources("active_zones") == {"active_zone_minutes_daily": True, "time_in_heart_rate_zone": False}
    # data_completeness: the day spine is generated from each participant's first to last day (MIN/MAX over the
    # whole history), so no filter on the view reaches a partition: the report reads views.completeness_window.
    assert not any(civil_date_sources("data_completeness").values())


def test_the_windowed_completeness_read_bounds_every_table_it_scans_and_the_view_none():
    sql = "SELECT * FROM " + views.completeness_window(date(2026, 11, 2), date(2026, 11, 8))
    lookback = date(2026, 10, 3)
    assert literal_ranges(sql) == {name: (lookback, date(2026, 11, 8)) for name in
                                   ("heart_rate_1min", "steps_daily", "sleep_sessions")} | {
        "participant_settings": (lookback, date.max), "paired_devices": (lookback, date.max)}
    assert set(literal_ranges(views.view_sql("data_completeness", "fitbit")).values()) == {None}
    assert "fitbit.heart_rate_1min" in views.completeness_window(date(2026, 11, 2), date(2026, 11, 8),
                                                                 dataset="fitbit")
    with pytest.raises(ValueError):
        views.completeness_window(date(2026, 11, 8), date(2026, 11, 2))


def test_the_sheet_exports_completeness_read_is_pruned_for_a_range_and_whole_without_one():
    from helper.sheet_export import Selection, read_view

    warehouse = RecordingWarehouse()
    read_view(warehouse, "data_completeness", Selection(date(2026, 11, 2), date(2026, 11, 4)))
    read_view(warehouse, "data_completeness", Selection(start=date(2026, 11, 2)))
    read_view(warehouse, "data_completeness", Selection())
    ranged, open_end, whole = (literal_ranges(sql) for sql in warehouse.sql)
    assert ranged["heart_rate_1min"] == (date(2026, 10, 3), date(2026, 11, 4))
    assert open_end["heart_rate_1min"] == (date(2026, 10, 3), date.max)
    assert None not in ranged.values() and None not in open_end.values()
    assert whole == {"data_completeness": None}  # the whole history: the view as it is
