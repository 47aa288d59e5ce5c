"""Deletions without tombstones: after every flush, mark ``deleted_at`` on rows a complete re-fetch lacked.

Why here and not in the MERGE: the API sends no tombstone, a deleted point simply stops appearing (team
spec §12), and the pages of one fetch may be merged by different flushes (hourly on GCP). So deletions are
decided from what the warehouse holds after a flush, in one UPDATE per tracked table, from the fetch
records the parser lands with every page (``fitbit.catalogue.deletions``):

- a fetch is **complete** when its pages 0..n are all in, page n had no next-page token, and every page's
  keys are in (``fetch_keys`` rows = the page's ``keys``);
- a row's **last sighting** is the newest ``fetched_at`` of any page that returned its key (or its own
  ``fetched_at``, for rows loaded before deletions were tracked);
- a row is **deleted** at the start of the earliest complete fetch of its participant whose window holds
  the row's civil day, that began after the row's last sighting and did not return it; otherwise it is
  not deleted (NULL), so a point a newer fetch returns again comes back.

``deleted_at`` is thus a pure function of the merged tables: replaying a page (its rows and fetch records
are merged once, by natural key) changes nothing, an old page cannot resurrect a row (it is no newer than
the row's last sighting) and cannot delete one (it belongs to a fetch that began before it). Rows are
kept; the views leave deleted rows out. The MERGE never writes ``deleted_at`` (``helper.ddl.merge``).

Cost: one UPDATE per tracked table per flush (4 tables; BigQuery counts them against the 1,500 table
modifications per day: 24 per table with hourly flushes). Each scans the fetch tables, which grow by a few
rows per participant-day; past a few million keys, limit the recomputation to fetches of recent days.
BigQuery SQL, run on DuckDB through sqlglot by the embedded warehouse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fitbit.catalogue import FETCH_KEYS_TABLE, FETCH_PAGES_TABLE, TableSpec, deletion_key, tracked_tables

log = logging.getLogger("fitbit.tombstones")

__all__ = ["mark_deletions", "touched", "update_sql"]


def _match(left: str, right: str, text: str, time: str | None) -> str:
    """Join condition between a fetch_keys alias and a row alias on the table's key."""
    on = f"{left}.participant_id = {right}.participant_id AND {left}.key_text = {right}.{text}"
    return on + (f" AND {left}.key_time = {right}.{time}" if time else "")


def update_sql(table: TableSpec, dataset: str) -> str:
    """The UPDATE that sets ``deleted_at`` of every row of ``table`` from the fetch records (BigQuery SQL)."""
    text, time = deletion_key(table)
    keys = ["participant_id", text, *([time] if time else [])]
    key_cols = ", ".join(f"x.{k}" for k in keys)
    key_fields = "key_text" + (", key_time" if time else "")
    pages, fetched = f"`{dataset}.{FETCH_PAGES_TABLE.name}`", f"`{dataset}.{FETCH_KEYS_TABLE.name}`"
    name = table.name
    return f"""UPDATE `{dataset}.{name}` AS t
SET deleted_at = w.deleted_at
FROM (
  WITH page_keys AS (
    SELECT raw_object, COUNT(*) AS n FROM {fetched} WHERE table_name = '{name}' GROUP BY raw_object
  ),
  complete AS (
    SELECT p.fetch_id, p.participant_id, p.window_start, p.window_end, MIN(p.fetched_at) AS began
    FROM {pages} AS p LEFT JOIN page_keys AS k ON k.raw_object = p.raw_object
    WHERE p.table_name = '{name}'
    GROUP BY p.fetch_id, p.participant_id, p.window_start, p.window_end
    HAVING COUNT(DISTINCT p.page) = MAX(p.page) + 1 AND MAX(IF(p.last_page, p.page, -1)) = MAX(p.page)
      AND LOGICAL_AND(COALESCE(k.n, 0) = p.keys)
  ),
  seen AS (
    SELECT participant_id, {key_fields}, MAX(fetched_at) AS last_seen
    FROM {fetched} WHERE table_name = '{name}'
    GROUP BY participant_id, {key_fields}
  ),
  returned AS (
    SELECT DISTINCT fetch_id, participant_id, {key_fields} FROM {fetched} WHERE table_name = '{name}'
  ),
  sighted AS (
    SELECT {", ".join(f"r.{k}" for k in keys)}, r.civil_date,
           GREATEST(r.fetched_at, COALESCE(s.last_seen, r.fetched_at)) AS last_seen
    FROM `{dataset}.{name}` AS r LEFT JOIN seen AS s ON {_match("s", "r", text, time)}
  ),
  gone AS (
    SELECT {key_cols}, MIN(c.began) AS deleted_at
    FROM sighted AS x
    JOIN complete AS c ON c.participant_id = x.participant_id AND x.civil_date >= c.window_start
      AND x.civil_date < c.window_end AND c.began > x.last_seen
    LEFT JOIN returned AS f ON f.fetch_id = c.fetch_id AND {_match("f", "x", text, time)}
    WHERE f.fetch_id IS NULL
    GROUP BY {key_cols}
  )
  SELECT {key_cols}, g.deleted_at
  FROM sighted AS x LEFT JOIN gone AS g USING ({", ".join(keys)})
) AS w
WHERE {" AND ".join(f"t.{k} = w.{k}" for k in keys)} AND t.deleted_at IS DISTINCT FROM w.deleted_at"""


def mark_deletions(execute: Callable[[str], Any], dataset: str) -> list[str]:
    """Run the UPDATE of every tracked table through ``execute`` (one statement each, BigQuery SQL).

    Returns:
        The tables updated (every tracked table; an UPDATE that changes no row is still run).
    """
    done = []
    for table in tracked_tables():
        execute(update_sql(table, dataset))
        done.append(table.name)
    return done


def touched(merged: Mapping[str, int]) -> bool:
    """True when a flush merged rows into a fetch table or a tracked table (deletions may have changed)."""
    names = {FETCH_PAGES_TABLE.name, FETCH_KEYS_TABLE.name, *(t.name for t in tracked_tables())}
    return any(merged.get(name) for name in names)
