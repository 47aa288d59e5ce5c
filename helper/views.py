"""Analytics views: the BigQuery SQL files in ``helper/sql/views/``, created on either warehouse.

The views are what dashboards and analysts read (Looker Studio, Connected Sheets, the HTML report); the
tables underneath stay the load's business. Each file is one ``CREATE OR REPLACE VIEW`` statement in
BigQuery SQL on ``${dataset}.<name>``, with no project id. The files are package data, read with
``importlib.resources`` (``helper.sql``), so they travel inside the function archives; ``bigquery_sql/views/``
is a readable copy that ``make sql`` generates with ``readable_sql``. BigQuery runs the text as written; the
embedded warehouse runs it through ``helper.ddl.to_duckdb`` (sqlglot). The SQL avoids the constructs
that drift between the two (emulators.md §5, checked 2026-11-23): no ``EXTRACT(DAYOFWEEK)``, no
``ARRAY_AGG(... LIMIT)``, no ``TIMESTAMP_DIFF(..., MINUTE)`` (DuckDB counts minute boundaries), and
every ``DATE_TRUNC`` / ``DATE_ADD`` on a DATE is wrapped in ``CAST(... AS DATE)`` because DuckDB
returns a TIMESTAMP there.

``completeness_window`` renders ``data_completeness`` as a SELECT over a window of civil days, with literal date
ranges on every table it scans, so a read of a few weeks prunes partitions on BigQuery (the view's day spine and
running maximum need the whole history, so a filter on the view prunes nothing); the SQL file says what changes
inside a window.

``ensure_schema()`` calls ``create_views`` on both warehouses. On BigQuery each view carries a label
with a hash of its SQL, and a view whose label matches is not re-created, so a warm start costs one
``tables.list`` call and no query job; an edited file or a new threshold replaces the view.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any

from helper import sql

VIEW_FOLDER = "views"  # helper/sql/views/<name>.sql
# Creation order: a view comes after any view it reads (active_zones_weekly reads active_zones).
VIEWS = (
    "daily_summary",
    "sleep_quality",
    "active_zones",
    "active_zones_weekly",
    "hr_1min",
    "hr_1h",
    "data_completeness",
    "day_ledger",
)
DEFAULT_VALID_DAY_MIN_WEAR_HOURS = 10.0
VERSION_LABEL = "view_sql_sha"
_OPTIONS = re.compile(r"^OPTIONS\(", re.MULTILINE)
_BODY = re.compile(r"^AS\n", re.MULTILINE)  # the line between a view's OPTIONS and its SELECT
_QUALIFIED = re.compile(r"`\$\{dataset\}\.(\w+)`")
COMPLETENESS = "data_completeness"
COMPLETENESS_LOOKBACK_DAYS = 30  # how far before a window completeness_window reads (data_completeness.sql)
# The window placeholders of data_completeness.sql: empty in the view.
_NO_WINDOW = dict.fromkeys(("where_data_days", "and_data_days", "where_read_days", "and_read_days", "where_window"),
                           "")


def view_sql(name: str, dataset: str, *,
             valid_day_min_wear_hours: float = DEFAULT_VALID_DAY_MIN_WEAR_HOURS) -> str:
    """The BigQuery SQL that creates view ``name`` in ``dataset``, labelled with the hash of its text.

    Args:
        name: one of ``VIEWS``.
        dataset: the BigQuery dataset (DuckDB schema) that holds the tables and receives the view.
        valid_day_min_wear_hours: hours of heart-rate coverage that make a valid day in ``data_completeness``.

    Returns:
        One ``CREATE OR REPLACE VIEW`` statement.

    Raises:
        ValueError: an unknown view, a dataset name BigQuery would reject, or a threshold outside (0, 24].
    """
    text = _render(name, sql.check_dataset(dataset), valid_day_min_wear_hours)
    label = f'OPTIONS(labels=[("{VERSION_LABEL}", "{version(text)}")], '
    labelled, count = _OPTIONS.subn(label, text, count=1)
    if count != 1:
        raise ValueError(f"{name}.sql must have an OPTIONS(description=...) line")
    return labelled


def readable_sql(name: str) -> str:
    """View ``name`` as ``bigquery_sql/views/<name>.sql`` shows it: ``${dataset}`` kept, the default threshold
    filled in, no version label (the label is a hash of the text with the real dataset)."""
    return _render(name, sql.DATASET_PLACEHOLDER, DEFAULT_VALID_DAY_MIN_WEAR_HOURS)


def completeness_window(first: date, last: date, *, dataset: str | None = None,
                        valid_day_min_wear_hours: float = DEFAULT_VALID_DAY_MIN_WEAR_HOURS) -> str:
    """``data_completeness`` for the civil days ``first`` to ``last`` as a relation to read from (``FROM`` it): the
    view's own SQL as a parenthesised SELECT aliased ``data_completeness``, every table scan filtered on
    ``civil_date`` by DATE literals (BigQuery prunes), rows of the window's days only.

    Args:
        first: the window's first civil day.
        last: the window's last civil day (``date.max``: open).
        dataset: qualifies the tables; ``None`` leaves them unqualified, for a warehouse whose ``query`` resolves
            names in its dataset (both adapters do).
        valid_day_min_wear_hours: as in ``view_sql`` (the view's default unless it was created with another).

    Raises:
        ValueError: ``last`` before ``first``, a bad dataset name or threshold.
    """
    if last < first:
        raise ValueError(f"the window ends ({last}) before it starts ({first})")
    lookback = max(first, date.min + timedelta(days=COMPLETENESS_LOOKBACK_DAYS)) \
        - timedelta(days=COMPLETENESS_LOOKBACK_DAYS)
    data = f"civil_date BETWEEN DATE '{lookback.isoformat()}' AND DATE '{last.isoformat()}'"
    reads = f"civil_date >= DATE '{lookback.isoformat()}'"
    window = {"where_data_days": f" WHERE {data}", "and_data_days": f" AND {data}",
              "where_read_days": f" WHERE {reads}", "and_read_days": f" AND {reads}",
              "where_window": f"\nWHERE days.civil_date BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}'"}
    text = _render(COMPLETENESS, sql.check_dataset(dataset) if dataset else None, valid_day_min_wear_hours, window)
    body = _BODY.split(text, maxsplit=1)[1].rstrip().rstrip(";")
    return f"(\n{body}\n) AS {COMPLETENESS}"


def _render(name: str, dataset: str | None, valid_day_min_wear_hours: float,
            window: Mapping[str, str] = _NO_WINDOW) -> str:
    if name not in VIEWS:
        raise ValueError(f"unknown view {name!r}; the views are {', '.join(VIEWS)}")
    hours = float(valid_day_min_wear_hours)
    if not 0 < hours <= 24:
        raise ValueError(f"valid_day_min_wear_hours must be in (0, 24], got {valid_day_min_wear_hours!r}")
    text = sql.read(VIEW_FOLDER, f"{name}.sql")
    if dataset is None:
        text = _QUALIFIED.sub(r"\1", text)
    return string.Template(text).substitute(
        {**window, sql.DATASET_PARAMETER: dataset, "valid_day_min_wear_hours": repr(hours)})


def version(text: str) -> str:
    """A short hash of a view's SQL (a valid BigQuery label value: lowercase hex)."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def version_of(labelled_sql: str) -> str:
    """The hash a statement from ``view_sql`` carries in its label."""
    match = re.search(rf'\("{VERSION_LABEL}", "([0-9a-f]+)"\)', labelled_sql)
    if match is None:
        raise ValueError("the statement carries no version label")
    return match.group(1)


def create_views(execute: Callable[[str], Any], dataset: str, *, duckdb: bool = False,
                 valid_day_min_wear_hours: float = DEFAULT_VALID_DAY_MIN_WEAR_HOURS,
                 current: Mapping[str, str | None] | None = None) -> list[str]:
    """Create or replace the views, in dependency order.

    Args:
        execute: runs one SQL statement (a DuckDB connection's ``execute``, or a BigQuery query-and-wait).
        dataset: the dataset that holds the tables.
        duckdb: transpile each statement to DuckDB first (the embedded warehouse).
        valid_day_min_wear_hours: the valid-day threshold of ``data_completeness``.
        current: version label per existing view (``bigquery_versions``); a view whose label equals the
            new statement's is left alone. ``None`` replaces every view.

    Returns:
        The names of the views created or replaced.
    """
    created = []
    for name in VIEWS:
        statement = view_sql(name, dataset, valid_day_min_wear_hours=valid_day_min_wear_hours)
        if current is not None and current.get(name) == version_of(statement):
            continue
        if duckdb:
            from helper.ddl import to_duckdb  # sqlglot: only the embedded warehouse transpiles

            statement = to_duckdb(statement)
        execute(statement)
        created.append(name)
    return created


def bigquery_versions(client: Any, dataset: str) -> dict[str, str | None]:
    """Version label of each view in a BigQuery dataset (one ``tables.list`` call)."""
    return {t.table_id: (t.labels or {}).get(VERSION_LABEL)
            for t in client.list_tables(dataset) if t.table_type == "VIEW"}
