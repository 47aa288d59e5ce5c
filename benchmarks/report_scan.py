"""What one run of the report scans on BigQuery (issue #14, items 4 and 6), from the SQL it sends.

``tools.report.collect`` is run against a recorder, so the queries are the report's own. For each query, each table
behind the relation it reads is billed for the columns the view's SQL names (BigQuery reads only referenced
columns; naming is an upper bound) over the days it cannot prune: the history's days inside the query's literal
``civil_date`` range when there is one and the view passes ``civil_date`` through to that table
(``tools.report.pruning``), the whole history otherwise. Tables a view joins on ``(participant_id, civil_date)`` are
counted as pruned through the join key; the after-midnight branch of sedentary periods and zone intervals
(``DATE_ADD`` of the start day) is counted in full. Wear time is read from ``views.completeness_window``, whose
tables each carry their own literal range (30 days of lookback before the window; the account reads open-ended
up to today), so each is counted over its own range.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from helper import views
from tools.report import Window, collect
from tools.report.pruning import civil_date_sources, literal_ranges, view_tables

# Tables a view reads through a computed civil date (the after-midnight remainder): never pruned.
COMPUTED_DATE = frozenset({"sedentary_periods", "time_in_heart_rate_zone"})


class _Recorder:
    def __init__(self) -> None:
        self.sql: list[str] = []

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        self.sql.append(sql)
        return []


def report_queries(window: Window) -> list[str]:
    recorder = _Recorder()
    collect(recorder, window=window)
    return recorder.sql


def report_scan(columns: dict[str, dict[str, int]], participants: int, history_days: int, today: date,
                days: int, billed: Any) -> dict[str, Any]:
    """Bytes one report run reads: ``columns`` are bytes per participant-day per table and column."""
    window = Window.ending(today, days)
    first_day = today - timedelta(days=history_days - 1)

    def history_in(span: tuple[date, date]) -> int:  # days of history a literal range covers (none after today)
        return max(0, (min(span[1], today) - max(span[0], first_day)).days + 1)

    total, full = 0.0, 0.0
    for sql in report_queries(window):
        for relation, literal in literal_ranges(sql).items():
            if relation in views.VIEWS:
                sources, tables = civil_date_sources(relation), view_tables(relation)
            else:
                named = {c.name for c in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Column)}
                sources, tables = {}, {relation: named}
            spine_pruned = any(sources.values()) if sources else True
            for table, named in tables.items():
                if table not in columns:
                    continue
                read = sum(size for col, size in columns[table].items() if col in named | {"civil_date"})
                pruned = literal and spine_pruned and sources.get(table, True) and table not in COMPUTED_DATE
                total += billed(read * participants * (history_in(literal) if pruned else history_days))
                full += billed(read * participants * history_days)
    return {"report_window_days": history_in((window.first, window.last)), "report_gb_per_run": round(total / 1e9, 2),
            "report_gb_per_run_unpruned": round(full / 1e9, 2)}
