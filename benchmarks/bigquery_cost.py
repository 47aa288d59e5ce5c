"""``bigquery_cost``: what the warehouse and the functions cost for a cohort, from the statements we issue.

The model (docs/cost.md explains each step and its sources):

- Bytes per participant-day per table and column come from one simulated participant-day (the simulator's
  pages through the real parser, ``benchmarks.pages.participant_day``), sized with BigQuery's logical data
  sizes (STRING 2 + UTF-8 bytes, INT64 / FLOAT64 / TIMESTAMP / DATETIME / DATE 8, BOOL 1, JSON its text, NULL 0).
- A history of ``HISTORY_DAYS`` days for ``participants`` participants fills one partition per civil day.
- The daily run stages its window (3 days; the account reads 1 day; the processing log one row per object).
  ``helper.ddl.merge`` renders each table's MERGE with the staged dates; sqlglot parses it, the constant
  date ranges on the target are read back, and the MERGE can scan the history partitions in those ranges plus
  the staging table. ``merge_scanned_over_staged`` is that total over the bytes staged.
- Billed bytes add BigQuery's 10 MB minimum per table a query references (each MERGE references two, and
  the staged-dates query one).
- Function invocations come from the real planner (``fitbit.plan.units_for_run``) and the catalogue's page
  sizes; their durations are the stated assumptions in ``ASSUMED``.
"""

from __future__ import annotations

import functools
import json
import math
from datetime import date, timedelta
from typing import Any, Iterable

import sqlglot
from sqlglot import exp

from benchmarks import pages
from benchmarks.report_scan import report_scan
from fitbit.catalogue import DATA_TYPES, PROCESSING_LOG_TABLE, TableSpec, table_named
from fitbit.messages import RunTrigger
from fitbit.plan import PlanOptions, planned_reads, units_for_run
from helper import ddl, views

PARTICIPANTS = 1000
HISTORY_DAYS = 365
WINDOW_DAYS = RunTrigger().days
TODAY = date(2026, 11, 30)
REPORT_DAYS = 90  # the report's default window (tools.report.DEFAULT_DAYS)
MB, GIB, TIB = 10**6, 2**30, 2**40
FIXED = {"INT64": 8, "FLOAT64": 8, "TIMESTAMP": 8, "DATETIME": 8, "DATE": 8, "BOOL": 1}
# Public list prices (USD, checked 2026-11-30; free tiers left out): BigQuery on-demand analysis per TiB and
# logical storage per GiB-month; Cloud Run functions (2nd gen, tier 1) per vCPU-second, GiB-second, invocation.
PRICE = {"query_tib": 6.25, "active_storage_gib_month": 0.02, "long_term_storage_gib_month": 0.01,
         "vcpu_s": 0.000024, "gib_s": 0.0000025, "invocation": 0.40 / 10**6}
MIN_BILLED_PER_TABLE = 10 * MB
# Assumptions, not measurements: the API's latency per request (issue #14 plans with 150 ms), the parse cost
# per row (benchmarks/README.md: ~2.5 µs a row plus json.loads, rounded up), a fixed start-up per call, and the
# sizes the functions are deployed with (docs/deploy.md, "Sizing"): extract 1/3 vCPU and 0.5 GiB, transform_load
# (which also flushes) 1 vCPU and 1 GiB.
ASSUMED = {"api_latency_s": 0.15, "transform_s_per_row": 8e-6, "call_overhead_s": 0.05, "flushes_per_day": 24,
           "flush_s": 30.0, "extract_vcpu": 1 / 3, "extract_gib": 0.5, "transform_vcpu": 1.0, "transform_gib": 1.0}


def _value_bytes(kind: str, value: Any) -> int:
    if value is None:
        return 0
    if kind in FIXED:
        return FIXED[kind]
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return len(text.encode()) + (2 if kind == "STRING" else 0)


def column_bytes(table: TableSpec, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Logical bytes per column of ``rows`` (``loaded_at``, stamped at staging, counts as a TIMESTAMP)."""
    sizes = dict.fromkeys(table.column_names, 0)
    for row in rows:
        for column in table.columns:
            value = row.get(column.name, "stamped" if column.name == "loaded_at" else None)
            sizes[column.name] += _value_bytes(column.type, value)
    return sizes


def participant_day(heart_rate_seconds: bool) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Bytes per table and column, and rows per table, for one participant-day of the chosen type set."""
    day_pages = _day_pages()
    tables = pages.ours(day_pages)
    opt_in_only = {r.table for _, r in planned_reads(PlanOptions(heart_rate_seconds=True))} - {
        r.table for _, r in planned_reads(PlanOptions())}
    if not heart_rate_seconds:
        tables = {name: rows for name, rows in tables.items() if name not in opt_in_only}
    objects = [p for p in day_pages if heart_rate_seconds or p.ctx.data_type != "heart-rate"
               or p.ctx.method != "list"]
    tables[PROCESSING_LOG_TABLE.name] = [_log_row(p.ctx) for p in objects]
    return ({name: column_bytes(table_named(name), rows) for name, rows in tables.items()},
            {name: len(rows) for name, rows in tables.items()})


@functools.lru_cache(maxsize=1)
def _day_pages() -> list[pages.RawPage]:
    return pages.participant_day()


def _log_row(ctx: Any) -> dict[str, Any]:
    """The processing_log row transform_load writes for one object (fitbit/jobs/transform.py)."""
    return {"participant_id": ctx.participant, "civil_date": "2026-11-04", "raw_object": ctx.raw_object,
            "data_type": ctx.data_type, "method": ctx.method, "status": "loaded", "error_class": None, "fix": None,
            "row_counts": {"steps_intraday": 1440}, "attempt": 0, "parser_version": "1",
            "processed_at": ctx.fetched_at}


def staged_days(table: TableSpec) -> list[date]:
    """The civil days a daily run stages into ``table``: the window, the account reads' last day, the log's start."""
    last = TODAY - timedelta(days=1)
    if table.name in ("participant_settings", "paired_devices"):
        return [last]
    if table.name == PROCESSING_LOG_TABLE.name:
        return [last - timedelta(days=WINDOW_DAYS - 1)]  # dated by the unit's start
    return [last - timedelta(days=i) for i in range(WINDOW_DAYS)]


def merge_touches(sql: str, table: TableSpec) -> set[date] | None:
    """The days the MERGE's constant partition filter lets it touch; None when it has none (every partition).

    The filter is the ON conjunct that reads the target's partition column and nothing else; its bounds must
    be literals (a bound that is a column or a subquery would not prune, so it counts as no filter).
    """
    merge = sqlglot.parse_one(sql, read="bigquery")
    target = f"T.{table.partition_field}"
    for conjunct in (c.unnest() for c in merge.args["on"].flatten()):
        if {c.sql() for c in conjunct.find_all(exp.Column)} != {target}:
            continue
        days: set[date] = set()
        for term in (t.unnest() for t in (conjunct.flatten() if isinstance(conjunct, exp.Or) else [conjunct])):
            if isinstance(term, exp.Between):
                lo, hi = (_literal_date(term.args[k]) for k in ("low", "high"))
                if lo is None or hi is None:
                    return None
                days |= {lo + timedelta(days=i) for i in range((hi - lo).days + 1)}
        return days
    return None


def _literal_date(node: exp.Expression) -> date | None:
    inner = node.this if isinstance(node, exp.Cast) else node
    return date.fromisoformat(inner.this[:10]) if isinstance(inner, exp.Literal) and inner.is_string else None


def _billed(nbytes: float) -> float:
    return max(nbytes, MIN_BILLED_PER_TABLE)


def daily_merges(day_bytes: dict[str, int], participants: int) -> dict[str, Any]:
    """Bytes the daily run's MERGEs can scan and stage after ``HISTORY_DAYS`` of history, per table and in all."""
    history = {TODAY - timedelta(days=i) for i in range(1, HISTORY_DAYS + 1)}
    per_table, scanned, staged, billed, unpruned = {}, 0.0, 0.0, 0.0, 0.0
    for name, size in day_bytes.items():
        if not size:  # a table the simulated day has no row for stages nothing and issues no MERGE
            continue
        table = table_named(name)
        dates = staged_days(table)
        staged_bytes = size * participants * (1 if name == PROCESSING_LOG_TABLE.name else len(dates))
        touched = merge_touches(ddl.merge(table, "fitbit", name + ddl.STAGING_SUFFIX, dates), table)
        partitions = len(history if touched is None else touched & history)
        target = size * participants * partitions
        scanned += target + staged_bytes
        staged += staged_bytes
        unpruned += size * participants * len(history) + staged_bytes
        billed += _billed(target) + 2 * _billed(staged_bytes)  # the MERGE (target, staging) + staged dates
        per_table[name] = round((target + staged_bytes) / staged_bytes, 2)
    worst = max(per_table, key=per_table.__getitem__)
    return {"merge_scanned_over_staged": round(scanned / staged, 2),
            "unpruned_scanned_over_staged": round(unpruned / staged, 1),
            "worst_table": worst, "worst_table_scanned_over_staged": per_table[worst],
            "staged_gb_per_day": round(staged / 1e9, 3), "merge_scanned_gb_per_day": round(scanned / 1e9, 3),
            "merge_billed_gb_per_day": round(billed / 1e9, 3),
            "unpruned_merge_scanned_gb_per_day": round(unpruned / 1e9, 1)}


def view_scans(columns: dict[str, dict[str, int]], participants: int, days: int) -> float:
    """Bytes one query of every view reads when it covers ``days`` of history: the columns each view names in
    each table it reads (BigQuery reads only referenced columns), billed at least 10 MB per table."""
    total = 0.0
    for name in views.VIEWS:
        tree = sqlglot.parse_one(views.view_sql(name, "fitbit"), read="bigquery")
        named = {c.name for c in tree.find_all(exp.Column)}
        for source in {t.name for t in tree.find_all(exp.Table)} & set(columns):
            read = sum(size for col, size in columns[source].items() if col in named | {"civil_date"})
            total += _billed(read * participants * days)
    return total


def invocations(rows: dict[str, int], heart_rate_seconds: bool, participants: int) -> dict[str, Any]:
    """Function invocations per day and their cost under ``ASSUMED`` durations."""
    options = PlanOptions(heart_rate_seconds=heart_rate_seconds)
    units = units_for_run(RunTrigger(), [f"p{i}" for i in range(participants)], TODAY, options)
    by_read = {(path_id, read.method): read for path_id, read in planned_reads(options)}
    objects, parsed_rows = 0, 0
    for unit in units:
        read = by_read.get((unit.data_type, unit.method))
        window_rows = rows.get(read.table, 0) * (unit.end - unit.start).days if read else 1
        objects += max(1, math.ceil(window_rows / read.page_size)) if read else 1
        parsed_rows += window_rows
    extract_s = objects * ASSUMED["api_latency_s"] + len(units) * ASSUMED["call_overhead_s"]
    transform_s = objects * ASSUMED["call_overhead_s"] + parsed_rows * ASSUMED["transform_s_per_row"]
    flush_s = ASSUMED["flushes_per_day"] * ASSUMED["flush_s"]
    seconds = extract_s + transform_s + flush_s
    count = len(units) + objects + ASSUMED["flushes_per_day"]
    cost = (count * PRICE["invocation"]
            + extract_s * (ASSUMED["extract_vcpu"] * PRICE["vcpu_s"] + ASSUMED["extract_gib"] * PRICE["gib_s"])
            + (transform_s + flush_s) * (ASSUMED["transform_vcpu"] * PRICE["vcpu_s"]
                                         + ASSUMED["transform_gib"] * PRICE["gib_s"]))
    return {"invocations_per_day": int(count), "extract_invocations": len(units), "transform_invocations": objects,
            "function_s_per_day": round(seconds), "functions_usd_per_day": round(cost, 2)}


def scenario(heart_rate_seconds: bool, participants: int = PARTICIPANTS) -> dict[str, Any]:
    columns, rows = participant_day(heart_rate_seconds)
    day_bytes = {name: sum(sizes.values()) for name, sizes in columns.items()}
    merges = daily_merges(day_bytes, participants)
    storage_gib_py = sum(day_bytes.values()) * 365 / GIB
    view_full = view_scans(columns, participants, HISTORY_DAYS)
    view_week = view_scans(columns, participants, 7)
    report = report_scan(columns, participants, HISTORY_DAYS, TODAY, REPORT_DAYS, _billed)
    storage_gib = storage_gib_py * participants * HISTORY_DAYS / 365
    query_usd = (merges["merge_billed_gb_per_day"] * 1e9 + view_full) / TIB * PRICE["query_tib"]
    return {**merges,
            "storage_gib_per_participant_year": round(storage_gib_py, 4),
            "storage_gib_after_a_year": round(storage_gib, 1),
            "view_gb_all_views_full_history": round(view_full / 1e9, 2),
            "view_gb_all_views_last_7_days": round(view_week / 1e9, 3),
            **report,
            **invocations(rows, heart_rate_seconds, participants),
            "bigquery_query_usd_per_day": round(query_usd, 2),
            "storage_usd_per_month_after_a_year": round(storage_gib * PRICE["active_storage_gib_month"], 2)}


def bench(participants: int = PARTICIPANTS) -> dict[str, Any]:
    """The ``bigquery_cost`` line: the default type set at top level, 1-second heart rate under its own key."""
    default = scenario(False, participants)
    return {"name": "bigquery_cost", "participants": participants, "history_days": HISTORY_DAYS,
            "window_days": WINDOW_DAYS, **default,
            "with_heart_rate_seconds": scenario(True, participants),
            "data_types": len(DATA_TYPES), "assumed": ASSUMED, "price_usd": PRICE}
