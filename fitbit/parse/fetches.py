"""The fetch rows of a page of a read that tracks deletions: which fetch of which window, and its keys.

The API has no tombstones (team spec §12), so deletions are read off complete fetches of a window
(``fitbit.catalogue.deletions``). A page records its fetch (``PageContext.fetch_id``, or its own raw object
when it starts one), its number, whether it was the last (no next-page token) and one key per point it
returned, taken from the rows the parser made of them (keys, never values).
"""

from __future__ import annotations

from fitbit.catalogue import FETCH_KEYS_TABLE, FETCH_PAGES_TABLE, deletion_key
from fitbit.parse.page import PageContext, Row, Rows, lineage, values_of
from fitbit.parse.reference import ReadPlan


def fetch_rows(ctx: PageContext, plan: ReadPlan, rows: Rows, next_page_token: str | None,
               ) -> dict[str, list[Row]]:
    """``fetch_pages`` and ``fetch_keys`` rows for one page; nothing for reads that do not track deletions."""
    if not plan.read.tracks_deletions or ctx.civil_date is None or ctx.window_end is None:
        return {}
    text, time = deletion_key(plan.dt.table(plan.read))
    fetch_id = ctx.fetch_id or ctx.raw_object
    stamped = lineage(ctx)
    keys: dict[tuple[str, str], str] = {}
    for key_text, key_time, civil_date in values_of(rows, text, time or "start_time", "civil_date"):
        keys.setdefault((key_text, key_time), civil_date)
    page = {
        "participant_id": ctx.participant, "civil_date": ctx.civil_date.isoformat(), "table_name": plan.table,
        "data_type": ctx.data_type, "method": ctx.method, "window_start": ctx.civil_date.isoformat(),
        "window_end": ctx.window_end.isoformat(), "fetch_id": fetch_id, "page": ctx.page,
        "last_page": next_page_token is None, "keys": len(keys), **stamped,
    }
    key_rows = [{"participant_id": ctx.participant, "civil_date": civil_date, "table_name": plan.table,
                 "fetch_id": fetch_id, "key_text": key_text, "key_time": key_time, **stamped}
                for (key_text, key_time), civil_date in keys.items()]
    return {FETCH_PAGES_TABLE.name: [page], FETCH_KEYS_TABLE.name: key_rows}
