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

``ensure_schema()`` calls ``create_views`` on both warehouses. On BigQuery each view carries a label
with a hash of its SQL, and a view whose label matches is not re-created, so a warm start costs one
``tables.list`` call and no query job; an edited file or a new threshold replaces the view.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable, Mapping
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


def _render(name: str, dataset: str, valid_day_min_wear_hours: float) -> str:
    if name not in VIEWS:
        raise ValueError(f"unknown view {name!r}; the views are {', '.join(VIEWS)}")
    hours = float(valid_day_min_wear_hours)
    if not 0 < hours <= 24:
        raise ValueError(f"valid_day_min_wear_hours must be in (0, 24], got {valid_day_min_wear_hours!r}")
    template = string.Template(sql.read(VIEW_FOLDER, f"{name}.sql"))
    return template.substitute({sql.DATASET_PARAMETER: dataset, "valid_day_min_wear_hours": repr(hours)})


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
