"""The report reads pruned ranges (issue #14, items 4 and 6): every query it sends on a partitioned relation (a
catalogue table, all partitioned by ``civil_date``, or a view over them) filters ``civil_date`` by two DATE
literals, the form BigQuery prunes partitions by; and the views it reads pass ``civil_date`` through to their
tables' partition column, so the filter reaches them (sqlglot's column lineage)."""

from __future__ import annotations

from datetime import date

import pytest

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
    assert set(read) == {"daily_summary", "sleep_quality", "active_zones", "data_completeness", "processing_log"}
    assert {name: r for name, r in read.items() if r != (window.first, window.last)} == {}


def test_the_checker_flags_a_query_without_a_literal_range():
    assert literal_ranges("SELECT * FROM daily_summary") == {"daily_summary": None}
    subquery = ("SELECT * FROM daily_summary WHERE civil_date BETWEEN (SELECT MIN(civil_date) FROM steps_daily) "
                "AND DATE '2026-11-30'")
    assert literal_ranges(subquery)["daily_summary"] is None
    other_column = "SELECT * FROM active_zones_weekly WHERE week_start BETWEEN DATE '2026-11-02' AND DATE '2026-11-30'"
    assert literal_ranges(other_column)["active_zones_weekly"] is None


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
    # whole history), so no filter on it reaches a partition; docs/cost.md counts it as a full scan.
    assert not any(civil_date_sources("data_completeness").values())
