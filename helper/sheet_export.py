"""Views into Google Sheets tabs, one tab per view, replacing only the rows of the exported range.

What goes to the sheet: ``daily_summary`` (one row per participant and civil day), ``sleep_quality`` (one row per
sleep session) and ``data_completeness`` (wear time and the valid-day flag per participant and day): the three views
Tableau Public's daily Google Sheets sync needs for a study dashboard (docs/reporting.md). Each tab's first row is
the view's column names; cells are written as given (dates as ``YYYY-MM-DD`` text, times as ISO 8601, NULL as an
empty cell: absence is not zero).

Replacing a range: the rows of the tab whose ``civil_date`` is in ``[start, end]`` (and whose participant is among
``participants``, when given) are deleted and the view's rows for that range are inserted where the first of them
was, so a re-export of the same range rewrites those rows in place, leaves every other day's rows and every
other tab as they are, and never duplicates a row. A first export creates the tab with its header. Rows are read
in (civil_date, participant) order and the tab stays in that order. Reads are pruned: the view is filtered with
literal dates. Before anything is written, the spreadsheet's total grid after the export is checked against the
Sheets limit of 10 million cells. ``data_completeness`` is read through ``views.completeness_window`` for a range (a
filter on that view prunes nothing; the SQL file says how a window's rows relate to the view's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from fitbit.ports import Warehouse
from helper import views
from helper.sheets import (
    MAX_CELLS, SCOPE, SHEETS_API, SheetsClient, SheetsError, Tab, a1, column_letter, spreadsheet_id,
)

SHEET_VIEWS = ("daily_summary", "sleep_quality", "data_completeness")
DATE, PARTICIPANT = "civil_date", "participant_id"
PSEUDONYM = re.compile(r"^p_[0-9a-f]{24}$")  # tools/cli/export.py pseudonym()
_ORDER = {"sleep_quality": ", start_time"}


@dataclass(frozen=True)
class Selection:
    """The exported range: civil days (``None``: open) and participants (``None``: all)."""

    start: date | None = None
    end: date | None = None
    participants: frozenset[str] | None = None

    def where(self) -> str:
        """The view filter: ``civil_date`` against DATE literals (prunes on BigQuery), participants as a list."""
        parts = []
        if self.start:
            parts.append(f"{DATE} >= DATE '{self.start.isoformat()}'")
        if self.end:
            parts.append(f"{DATE} <= DATE '{self.end.isoformat()}'")
        if self.participants is not None:
            ids = ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(self.participants))
            parts.append(f"{PARTICIPANT} IN ({ids})")
        return (" WHERE " + " AND ".join(parts)) if parts else ""

    def matches(self, participant: Any, day: Any) -> bool:
        text = str(day)[:10]
        if self.start and text < self.start.isoformat():
            return False
        if self.end and text > self.end.isoformat():
            return False
        return self.participants is None or str(participant) in self.participants


@dataclass
class TabPlan:
    """What one tab's export will do (computed from reads only, applied after the cell limit is checked)."""

    title: str
    header: list[str]
    rows: list[list[Any]]
    tab: Tab | None
    write_header: bool = False
    delete: list[tuple[int, int]] = field(default_factory=list)  # sheet row index ranges, 0-based, end exclusive
    insert_at: int = 1  # sheet row index (0-based) of the first new row

    @property
    def removed(self) -> int:
        return sum(end - start for start, end in self.delete)

    @property
    def cells_after(self) -> int:
        if self.tab is None:
            return (1 + len(self.rows)) * len(self.header)
        rows = max(self.tab.rows, self.insert_at) - self.removed + len(self.rows) + 1  # + 1: a kept empty row
        return rows * max(self.tab.columns, len(self.header))


@dataclass(frozen=True)
class TabResult:
    title: str
    created: bool
    removed: int
    written: int


def cell(value: Any) -> Any:
    """A warehouse value as a Sheets cell: numbers and booleans as they are, dates and times as ISO 8601 text,
    NULL (and NaN) as an empty cell."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@cache
def view_columns(view: str) -> tuple[str, ...]:
    """The output columns of a view, in order (read from its SQL)."""
    import sqlglot

    return tuple(sqlglot.parse_one(views.view_sql(view, "fitbit"), read="bigquery").expression.named_selects)


def read_view(warehouse: Warehouse, view: str, selection: Selection, *, rename: Callable[[str], str] | None = None,
              drop: Iterable[str] = ()) -> tuple[list[str], list[list[Any]]]:
    """The header and the rows of ``view`` in the selection, ordered by civil day then participant.

    Args:
        warehouse: either warehouse (BigQuery SQL in).
        view: one of ``SHEET_VIEWS`` (any view with ``participant_id`` and ``civil_date``).
        selection: the range, with the participants' real ids.
        rename: maps a participant id to what the sheet shows (a pseudonym), or ``None``.
        drop: columns left out (those that identify a participant another way, when pseudonymising).
    """
    dropped = set(drop)
    header = [c for c in view_columns(view) if c not in dropped]
    source = view
    if view == views.COMPLETENESS and (selection.start or selection.end):  # the view itself prunes nothing
        source = views.completeness_window(selection.start or date.min, selection.end or date.max)
    sql = (f"SELECT {', '.join(header)} FROM {source}{selection.where()} "
           f"ORDER BY {DATE}, {PARTICIPANT}{_ORDER.get(view, '')}")
    index = header.index(PARTICIPANT)
    rows = []
    for row in warehouse.query(sql):
        values = [cell(v) for v in row]
        if rename is not None and values[index] != "":
            values[index] = rename(str(values[index]))
        rows.append(values)
    return header, rows


def plan_tab(client: SheetsClient, title: str, header: list[str], rows: list[list[Any]], selection: Selection,
             tab: Tab | None, *, pseudonymised: bool) -> TabPlan:
    """Read the tab's header and key columns and work out which rows the export replaces.

    ``selection.participants`` holds the ids as the sheet shows them.

    Raises:
        SheetsError: the tab has other columns, or mixes real ids and pseudonyms with this export.
    """
    plan = TabPlan(title, header, rows, tab)
    if tab is None:
        return plan
    found = client.values(a1(title, "1:1"))
    existing = [str(v) for v in found[0]] if found else []
    date_at, who_at = header.index(DATE), header.index(PARTICIPANT)
    keys = client.values(a1(title, f"A2:{column_letter(max(date_at, who_at))}"))
    if not existing:
        if any(keys):
            raise SheetsError(f"tab {title!r} has rows but no header", f"delete the tab {title!r}, then export again")
        plan.write_header = True
        return plan
    if existing != header:
        raise SheetsError(f"tab {title!r} has other columns than the view {title} now has",
                          f"delete or rename the tab {title!r}, then export again (it is re-created in full)")
    people = {str(k[who_at]) for k in keys if len(k) > who_at and k[who_at] != ""}
    strangers = {p for p in people if bool(PSEUDONYM.match(p)) != pseudonymised}
    if strangers:
        held = "real participant ids" if pseudonymised else "pseudonyms"
        raise SheetsError(f"tab {title!r} holds {held}, and this export is "
                          f"{'' if pseudonymised else 'not '}pseudonymised",
                          "export to another spreadsheet (or delete the tab) so the two never mix")
    hits = [i for i, k in enumerate(keys) if len(k) > max(date_at, who_at) and selection.matches(k[who_at], k[date_at])]
    for i in hits:  # coalesce into blocks of sheet rows (data row i is sheet row i + 1)
        if plan.delete and plan.delete[-1][1] == i + 1:
            plan.delete[-1] = (plan.delete[-1][0], i + 2)
        else:
            plan.delete.append((i + 1, i + 2))
    if hits:
        plan.insert_at = hits[0] + 1
    else:
        bound = (selection.end or selection.start)
        later = [i for i, k in enumerate(keys) if bound and len(k) > date_at and str(k[date_at])[:10] > bound.isoformat()]
        plan.insert_at = (later[0] if later else len(keys)) + 1
    return plan


def apply(client: SheetsClient, plan: TabPlan) -> TabResult:
    """Carry out a plan: one structural ``batchUpdate`` (insert the new rows, then delete the old), then the values."""
    if plan.tab is None:
        client.add_tab(plan.title, 1 + len(plan.rows), len(plan.header))
        client.write(plan.title, 1, [plan.header, *plan.rows])
        return TabResult(plan.title, True, 0, len(plan.rows))
    sheet, requests, n = plan.tab.sheet_id, [], len(plan.rows)
    if plan.tab.columns < len(plan.header):
        requests.append({"appendDimension": {"sheetId": sheet, "dimension": "COLUMNS",
                                             "length": len(plan.header) - plan.tab.columns}})
    grid_rows = plan.tab.rows
    if plan.write_header and grid_rows < 1:
        requests.append({"appendDimension": {"sheetId": sheet, "dimension": "ROWS", "length": 1}})
        grid_rows = 1
    # New rows go in before the old ones are deleted: the API refuses to delete every row below a frozen header.
    if n and plan.insert_at >= grid_rows:
        requests.append({"appendDimension": {"sheetId": sheet, "dimension": "ROWS",
                                             "length": plan.insert_at + n - grid_rows}})
    elif n:
        requests.append({"insertDimension": {"range": {"sheetId": sheet, "dimension": "ROWS",
                                                       "startIndex": plan.insert_at, "endIndex": plan.insert_at + n},
                                             "inheritFromBefore": False}})
    elif plan.delete and plan.removed >= grid_rows - 1:  # nothing new and every data row goes: keep one empty row
        requests.append({"appendDimension": {"sheetId": sheet, "dimension": "ROWS", "length": 1}})
    for start, end in reversed(plan.delete):  # every old block lies at or after insert_at: shifted by n
        requests.append({"deleteDimension": {"range": {"sheetId": sheet, "dimension": "ROWS", "startIndex": start + n,
                                                       "endIndex": end + n}}})
    client.batch_update(requests)
    if plan.write_header:
        client.write(plan.title, 1, [plan.header])
    client.write(plan.title, plan.insert_at + 1, plan.rows)
    return TabResult(plan.title, False, plan.removed, len(plan.rows))


def export_views(warehouse: Warehouse, client: SheetsClient, selection: Selection, *,
                 tab_views: Sequence[str] = SHEET_VIEWS, rename: Callable[[str], str] | None = None,
                 drop: Iterable[str] = ()) -> list[TabResult]:
    """Write each view's rows in the selection into its tab (named after the view), replacing that range only.

    Nothing is written until every tab is planned and the spreadsheet's grid after the export is known to fit
    the 10 million cell limit.

    Args:
        warehouse: either warehouse.
        client: the spreadsheet.
        selection: the range, with real participant ids.
        tab_views: the views to export.
        rename: participant id -> the id the sheet shows (a pseudonym); ``None`` keeps real ids.
        drop: columns left out.

    Raises:
        SheetsError: a call failed, a tab cannot take the rows, or the sheet would pass the cell limit.
    """
    tabs = client.tabs()
    shown = selection
    if rename is not None and selection.participants is not None:
        shown = Selection(selection.start, selection.end, frozenset(rename(p) for p in selection.participants))
    plans = []
    for view in tab_views:
        header, rows = read_view(warehouse, view, selection, rename=rename, drop=drop)
        plans.append(plan_tab(client, view, header, rows, shown, tabs.get(view), pseudonymised=rename is not None))
    untouched = sum(t.rows * t.columns for title, t in tabs.items() if title not in tab_views)
    total = untouched + sum(p.cells_after for p in plans)
    if total > MAX_CELLS:
        raise SheetsError(f"the spreadsheet would hold {total:,} cells, over the Sheets limit of {MAX_CELLS:,}",
                          "export fewer days (--from/--to) or participants, or to another spreadsheet")
    return [apply(client, plan) for plan in plans]


def _default_session() -> tuple[Any, str | None]:
    """Application Default Credentials with the Sheets scope (on Google Cloud: the function's service account)."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError
    from google.auth.transport.requests import AuthorizedSession

    try:
        creds, _ = google.auth.default(scopes=[SCOPE])
    except DefaultCredentialsError:
        raise SheetsError("no credentials for the Sheets API", "run it where Application Default Credentials "
                          "exist (on Google Cloud: the function's service account)") from None
    return AuthorizedSession(creds), getattr(creds, "service_account_email", None)


class DailySheetExport:
    """The step after the scheduled flush on Google Cloud (``TransformContext.after_flush``): at the flush of one
    UTC hour a day, the last ``days`` civil days up to yesterday go to the sheet, replacing those days' rows.

    Three days, like the daily run's window: late syncs and nights Google was still processing reach the sheet
    the next day. The sheet must be shared (Editor) with the transform_load service account.
    """

    def __init__(self, warehouse: Warehouse, spreadsheet: str, hour_utc: int, *, days: int = 3,
                 session: Callable[[], tuple[Any, str | None]] = _default_session, base_url: str = SHEETS_API) -> None:
        self.warehouse, self.spreadsheet, self.hour_utc, self.days = warehouse, spreadsheet, hour_utc, days
        self.session, self.base_url = session, base_url

    def __call__(self, now: datetime) -> str | None:
        """Export when ``now`` (UTC) is in the export hour; returns what was written, or ``None`` (not the hour).

        Raises:
            SheetsError: the sheet could not be written (the flush logs it; the next day rewrites the same days).
        """
        if now.astimezone(UTC).hour != self.hour_utc:
            return None
        try:
            sheet = spreadsheet_id(self.spreadsheet)
        except ValueError as exc:
            raise SheetsError(str(exc), "set SHEETS_EXPORT_SPREADSHEET_ID to the sheet's id") from None
        yesterday = now.astimezone(UTC).date() - timedelta(days=1)
        session, principal = self.session()
        client = SheetsClient(session, sheet, base_url=self.base_url, principal=principal)
        results = export_views(self.warehouse, client, Selection(yesterday - timedelta(days=self.days - 1), yesterday))
        return f"sheet {sheet}: " + ", ".join(f"{r.title} {r.written} rows" for r in results)
