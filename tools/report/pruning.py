"""Which partitions the report's queries can prune, read from their SQL with sqlglot (tests and the cost model).

BigQuery prunes a partitioned table only on a filter it can evaluate before running: the partition column
compared with constants. Every catalogue table is partitioned by ``civil_date``. Views are inlined, so a filter on
a view's ``civil_date`` reaches a table's partitions when the view passes the column through unchanged (plain
column references, group keys, UNION branches); a column the view computes (``DATE_ADD`` of the start day, a
day spine generated from ``MIN``/``MAX``) does not prune.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.lineage import Node, lineage

from fitbit.catalogue import all_tables
from helper import views

PARTITIONED = frozenset({t.name for t in all_tables()} | set(views.VIEWS))


def _literal_date(node: exp.Expression | None) -> date | None:
    if isinstance(node, exp.Cast) and node.to.is_type("date") and isinstance(node.this, exp.Literal):
        return date.fromisoformat(node.this.name)
    return None


def literal_ranges(sql: str) -> dict[str, tuple[date, date] | None]:
    """Per partitioned relation a query reads: the ``civil_date`` range its own WHERE bounds by DATE literals
    (``BETWEEN DATE … AND DATE …``, ``>= DATE …``, ``<= DATE …``; an open side is ``date.min`` / ``date.max``), or
    ``None`` when neither side is bounded so. A relation read twice keeps the last read's range."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    out: dict[str, tuple[date, date] | None] = {}
    for table in tree.find_all(exp.Table):
        if table.name not in PARTITIONED:
            continue
        select = table.find_ancestor(exp.Select)
        where = select.args.get("where") if select else None
        low, high = None, None
        for node in where.find_all(exp.Between, exp.GTE, exp.LTE) if where else ():
            if not (isinstance(node.this, exp.Column) and node.this.name == "civil_date"):
                continue
            if isinstance(node, exp.Between):
                bounds = _literal_date(node.args.get("low")), _literal_date(node.args.get("high"))
                if all(bounds):
                    low, high = bounds
            elif (bound := _literal_date(node.expression)) is not None:
                low, high = (bound, high) if isinstance(node, exp.GTE) else (low, bound)
        out[table.name] = None if low is None and high is None else (low or date.min, high or date.max)
    return out


def _schema() -> dict[str, Any]:
    return {"fitbit": {t.name: {c.name: "STRING" if c.type in ("JSON", "RECORD") else c.type for c in t.columns}
                       for t in all_tables()}}


@cache
def civil_date_sources(view: str) -> dict[str, bool]:
    """Per table a view's ``civil_date`` comes from: ``True`` when every step from the table's partition column
    to the view's column is a plain column (a filter on the view prunes that table), ``False`` when a step computes
    it. A day spine computed from nothing but aggregates shows up as ``"<computed>": False``."""
    body = sqlglot.parse_one(views.view_sql(view, "fitbit"), read="bigquery").expression
    out: dict[str, bool] = {}

    def walk(node: Node, plain: bool) -> None:
        if isinstance(node.expression, exp.Table):
            out[node.expression.name] = out.get(node.expression.name, True) and plain
            return
        value = node.expression.this if isinstance(node.expression, exp.Alias) else node.expression
        plain = plain and isinstance(value, exp.Column)
        if not node.downstream:
            out.setdefault("<computed>", False)
        for child in node.downstream:
            walk(child, plain)

    walk(lineage("civil_date", body, schema=_schema(), dialect="bigquery"), True)
    return out


def view_tables(view: str) -> dict[str, set[str]]:
    """The tables a view reads (views it reads expanded) and the column names its SQL mentions."""
    tree = sqlglot.parse_one(views.view_sql(view, "fitbit"), read="bigquery")
    named = {c.name for c in tree.find_all(exp.Column)}
    out: dict[str, set[str]] = {}
    for table in {t.name for t in tree.find_all(exp.Table)} - {view}:
        if table in views.VIEWS:
            for inner, columns in view_tables(table).items():
                out.setdefault(inner, set()).update(columns)
        else:
            out.setdefault(table, set()).update(named)
    return out
