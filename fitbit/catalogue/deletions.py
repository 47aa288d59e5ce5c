"""What deletion tracking records: the pages of each fetch of a window, and the keys each page returned.

Why (team spec §12, checked 2026-11-30): the API has no tombstones and no change feed; a deleted point
simply stops appearing. So for a read that ``tracks_deletions``, every page also lands a row in
``fetch_pages`` (which fetch of which window it belongs to, its number, whether it was the last) and one
row per point in ``fetch_keys`` (the point's key). A fetch is complete when pages 0..n are all in and
page n had no next token; rows of its participant and window that none of its pages returned, and that
no fetch has returned since the complete one began, are deleted (``helper/tombstones.py`` marks them
``deleted_at`` after every flush, from these two tables alone, so the answer is the same whatever the
order the pages were flushed in and however often they are replayed).

A fetch is named by its first page's raw object (``Unit.fetch_id``, set on every next-page unit).
A key is the table's natural key minus the participant: a STRING (``data_point_name`` of sessions,
``source_key`` of samples) in ``key_text`` and, for samples, the TIMESTAMP (``sample_time``) in
``key_time``; sessions record their start there, which is not matched (an edit may move it).
"""

from __future__ import annotations

from fitbit.catalogue.columns import Column
from fitbit.catalogue.common import CIVIL_DATE, LINEAGE, PARTICIPANT
from fitbit.catalogue.model import TableSpec

__all__ = ["FETCH_KEYS_TABLE", "FETCH_PAGES_TABLE", "deletion_key"]

C = Column

FETCH_PAGES_TABLE = TableSpec(
    "fetch_pages",
    "One row per page of a read that tracks deletions: the fetch and window it belongs to, and whether it was "
    "the last page. Deletions are decided from complete fetches (helper/tombstones.py)",
    (
        PARTICIPANT,
        C("civil_date", "DATE", "First civil day of the window the page was fetched for (partition field)"),
        C("table_name", "STRING", "Warehouse table the page's rows land in"),
        C("data_type", "STRING", "Catalogue data type of the read"),
        C("method", "STRING", "Read method"),
        C("window_start", "DATE", "First civil day of the fetched window"),
        C("window_end", "DATE", "Civil day after the fetched window (exclusive)"),
        C("fetch_id", "STRING", "The fetch the page belongs to: the raw object of its first page"),
        C("page", "INT64", "Page number within the fetch, from 0"),
        C("last_page", "BOOL", "The page had no next-page token: the fetch ends here"),
        C("keys", "INT64", "Distinct keys the page returned (rows of fetch_keys for this raw object)"),
        *LINEAGE,
    ),
    ("raw_object",),
)

FETCH_KEYS_TABLE = TableSpec(
    "fetch_keys",
    "One row per point a page of a deletion-tracking read returned: the point's key, never a value",
    (
        PARTICIPANT,
        CIVIL_DATE,
        C("table_name", "STRING", "Warehouse table the point's row lands in"),
        C("fetch_id", "STRING", "The fetch the page belongs to: the raw object of its first page"),
        C("key_text", "STRING", "The row key's STRING column: data_point_name (sessions) or source_key (samples)"),
        C("key_time", "TIMESTAMP", "The row key's TIMESTAMP column (samples: sample_time); sessions: their start"),
        *LINEAGE,
    ),
    ("raw_object", "key_text", "key_time"),
)


def deletion_key(table: TableSpec) -> tuple[str, str | None]:
    """(the STRING key column, the TIMESTAMP key column or None) of a table whose rows are tracked."""
    types = {c.name: c.type for c in table.columns}
    rest = [k for k in table.key if k != "participant_id"]
    text = next(k for k in rest if types[k] == "STRING")
    time = next((k for k in rest if types[k] == "TIMESTAMP"), None)
    return text, time
