"""The MERGE of every table prunes its target by partition with constant dates (issue #14, item 4).

BigQuery prunes a MERGE's target only on a filter made of the partition column and constants; a join
condition or a subquery on the staging table scans every partition. These tests parse the generated
statement with sqlglot and prove that its ON clause holds such a filter, and that the filter's ranges are
the staged days (widened only where a row's date can move), so the scan follows the staged days.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlglot
from sqlglot import exp

from fitbit.catalogue import all_tables, table_named
from fitbit.catalogue.columns import Column
from helper import ddl

WINDOW = [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 28)]
LATE = date(2026, 10, 2)  # a late row of last month, staged in the same flush


def _constant_date(node: exp.Expression) -> date:
    """The date a literal bound stands for; anything but a literal (a column, a subquery) fails the test."""
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        return date.fromisoformat(node.this.this[:10])
    if isinstance(node, exp.Literal) and node.is_string:
        return date.fromisoformat(node.this[:10])
    raise AssertionError(f"partition bound is not a constant: {node.sql('bigquery')}")


def _partition_ranges(sql: str, column: str) -> tuple[list[tuple[date, date]], bool]:
    """The inclusive day ranges and NULL partition the MERGE's ON clause restricts the target to."""
    merge = sqlglot.parse_one(sql, read="bigquery")
    assert isinstance(merge, exp.Merge)
    conjuncts = [c.unnest() for c in merge.args["on"].flatten()]
    on_target = [c for c in conjuncts if any(col.sql() == f"T.{column}" for col in c.find_all(exp.Column))]
    filters = [c for c in on_target if {col.sql() for col in c.find_all(exp.Column)} == {f"T.{column}"}]
    assert len(filters) == 1, "exactly one conjunct restricts the target's partition column, to constants"
    assert not list(filters[0].find_all(exp.Subquery, exp.Select)), "a subquery does not prune"
    ranges, null = [], False
    terms = filters[0].flatten() if isinstance(filters[0], exp.Or) else [filters[0]]
    for term in terms:
        term = term.unnest()
        if isinstance(term, exp.Is):
            null = True
        elif isinstance(term, exp.Between):
            ranges.append((_constant_date(term.args["low"]), _constant_date(term.args["high"])))
        elif isinstance(term, exp.And):  # a TIMESTAMP column: [lo 00:00, hi + 1 day 00:00)
            ge, lt = (t.unnest() for t in term.flatten())
            assert isinstance(ge, exp.GTE) and isinstance(lt, exp.LT)
            ranges.append((_constant_date(ge.expression), _constant_date(lt.expression) - timedelta(days=1)))
        else:
            raise AssertionError(f"unexpected partition term {term.sql('bigquery')}")
    return ranges, null


def _days(ranges: list[tuple[date, date]]) -> set[date]:
    return {lo + timedelta(days=i) for lo, hi in ranges for i in range((hi - lo).days + 1)}


@pytest.mark.parametrize("table", all_tables(), ids=lambda t: t.name)
def test_every_tables_merge_restricts_its_target_to_the_staged_days_by_constants(table):
    sql = ddl.merge(table, "fitbit", "staging_x", [*WINDOW, LATE])
    ranges, null = _partition_ranges(sql, table.partition_field)
    slack = ddl.partition_slack_days(table)
    wanted = {d + timedelta(days=k) for d in [*WINDOW, LATE] for k in range(-slack, slack + 1)}
    assert _days(ranges) == wanted and not null
    assert len(ranges) == 2, "the window and the late day stay two ranges: the month between is not scanned"


@pytest.mark.parametrize("table", all_tables(), ids=lambda t: t.name)
def test_every_tables_key_either_holds_its_partition_date_or_the_range_allows_it_to_move(table):
    sql = ddl.merge(table, "fitbit", "staging_x", WINDOW)
    on = sqlglot.parse_one(sql, read="bigquery").args["on"].sql("bigquery")
    assert all(f"T.{k} = S.{k}" in on for k in table.key)
    # Without the partition column in the key a re-fetch may date a row differently (another UTC offset):
    # the old row must still be inside the range so it is updated, not duplicated.
    expected = 0 if table.partition_field in table.key else ddl.PARTITION_SLACK_DAYS
    assert ddl.partition_slack_days(table) == expected


def test_a_row_without_a_partition_date_adds_only_the_null_partition():
    ranges, null = _partition_ranges(ddl.merge(table_named("steps_daily"), "fitbit", "s", [WINDOW[0], None]),
                                     "civil_date")
    assert ranges == [(WINDOW[0], WINDOW[0])] and null


def test_nothing_staged_touches_no_partition():
    sql = ddl.merge(table_named("steps_daily"), "fitbit", "s", [])
    on = sqlglot.parse_one(sql, read="bigquery").args["on"]
    assert any(isinstance(c.unnest(), exp.Boolean) and not c.unnest().this for c in on.flatten())


def test_a_timestamp_partitioned_table_is_pruned_on_half_open_utc_days():
    base = table_named("steps_daily")
    columns = tuple(Column("measured_at", "TIMESTAMP", "instant") if c.name == "civil_date" else c
                    for c in base.columns)
    table = replace(base, columns=columns, key=("participant_id", "measured_at"), partition_field="measured_at")
    sql = ddl.merge(table, "fitbit", "s", WINDOW)
    assert "TIMESTAMP '2026-11-26 00:00:00+00'" in sql and "TIMESTAMP '2026-11-29 00:00:00+00'" in sql
    ranges, _ = _partition_ranges(sql, "measured_at")
    assert ranges == [(WINDOW[0], WINDOW[-1])]  # the key holds the instant, so its day cannot move
    assert ddl.staged_dates(table, "fitbit", "s") == "SELECT DISTINCT DATE(measured_at) AS day FROM `fitbit.s`"


def test_the_duckdb_transpilation_keeps_the_constant_range():
    sql = ddl.to_duckdb(ddl.merge(table_named("heart_rate_1min"), "fitbit", "s", WINDOW))
    assert "T.civil_date BETWEEN CAST('2026-11-24' AS DATE) AND CAST('2026-11-30' AS DATE)" in sql


def test_a_merge_without_staged_dates_renders_no_partition_filter():
    sql = ddl.merge(table_named("steps_daily"), "fitbit", "s")
    assert "civil_date BETWEEN" not in sql
