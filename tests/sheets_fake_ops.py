"""The operations of the fake Sheets API (``tests/sheets_fake.py``) on the cells it keeps: one function per method.

Each takes the spreadsheet, the path parameters, the query parameters and the JSON body, and returns the response
body; it raises ``ApiError`` where the real API answers an error. Structural changes are atomic, as in the API: a
``batchUpdate`` whose any request fails changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.sheets_fake import MAX_CELLS, ApiError, Spreadsheet, Tab, _trim, parse_a1


def _properties(title: str, tab: Tab, index: int) -> dict[str, Any]:
    grid = {"rowCount": tab.rows, "columnCount": tab.columns}
    if tab.frozen:
        grid["frozenRowCount"] = tab.frozen
    return {"sheetId": tab.sheet_id, "title": title, "index": index, "sheetType": "GRID", "gridProperties": grid}


def get(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    return {"spreadsheetId": params["spreadsheetId"],
            "sheets": [{"properties": _properties(t, tab, i)} for i, (t, tab) in enumerate(book.tabs.items())]}


def _by_id(book: Spreadsheet, sheet_id: int) -> Tab:
    for tab in book.tabs.values():
        if tab.sheet_id == sheet_id:
            return tab
    raise ApiError(400, "INVALID_ARGUMENT", f"No grid with id: {sheet_id}")


def _rows_range(book: Spreadsheet, spec: dict[str, Any], *, insert: bool) -> tuple[Tab, int, int]:
    tab = _by_id(book, spec["range"]["sheetId"])
    if spec["range"].get("dimension") != "ROWS":
        raise ApiError(400, "INVALID_ARGUMENT", "the fake only moves rows")
    start, end = spec["range"]["startIndex"], spec["range"]["endIndex"]
    if not 0 <= start < end or start >= tab.rows or (not insert and end > tab.rows):
        raise ApiError(400, "INVALID_ARGUMENT", f"Invalid requests: range [{start}, {end}) is outside the grid "
                                                f"({tab.rows} rows)")
    return tab, start, end


def _structural(book: Spreadsheet, request: dict[str, Any]) -> dict[str, Any]:
    (kind, spec), = request.items()
    if kind == "addSheet":
        props = spec.get("properties", {})
        title = props.get("title") or f"Sheet{book.next_id}"
        if title in book.tabs:
            raise ApiError(400, "INVALID_ARGUMENT", f'A sheet with the name "{title}" already exists.')
        grid = props.get("gridProperties", {})
        tab = Tab(book.next_id, grid.get("rowCount", 1000), grid.get("columnCount", 26), grid.get("frozenRowCount", 0))
        book.next_id += 1
        book.tabs[title] = tab
        return {"addSheet": {"properties": _properties(title, tab, len(book.tabs) - 1)}}
    if kind == "insertDimension":
        tab, start, end = _rows_range(book, spec, insert=True)
        tab.cells[start:start] = [[None] * tab.columns for _ in range(end - start)]
        tab.rows += end - start
    elif kind == "deleteDimension":
        tab, start, end = _rows_range(book, spec, insert=False)
        if end - start >= tab.rows - tab.frozen:
            raise ApiError(400, "INVALID_ARGUMENT", "You can't delete all the rows on the sheet.")
        del tab.cells[start:end]
        tab.rows -= end - start
    elif kind == "appendDimension":
        tab = _by_id(book, spec["sheetId"])
        if spec["dimension"] == "ROWS":
            tab.cells += [[None] * tab.columns for _ in range(spec["length"])]
            tab.rows += spec["length"]
        else:
            for row in tab.cells:
                row += [None] * spec["length"]
            tab.columns += spec["length"]
    else:
        raise ApiError(400, "INVALID_ARGUMENT", f"the fake does not do {kind}")
    return {}


def batch_update(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    work = copy.deepcopy(book)
    replies = [_structural(work, request) for request in body.get("requests", [])]
    if work.cells() > MAX_CELLS:
        raise ApiError(400, "INVALID_ARGUMENT", f"This action would increase the number of cells in the workbook "
                                                f"above the limit of {MAX_CELLS} cells.")
    book.tabs, book.next_id = work.tabs, work.next_id
    return {"spreadsheetId": params["spreadsheetId"], "replies": replies}


def values_get(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    tab, r0, c0, r1, c1 = parse_a1(params["range"], book)
    rows = [row[c0:c1 + 1] for row in tab.cells[r0:r1 + 1]]
    out: dict[str, Any] = {"range": params["range"], "majorDimension": "ROWS"}
    values = _trim(rows)
    if values:
        out["values"] = values
    return out


def _write(book: Spreadsheet, a1: str, values: list[list[Any]], option: str | None) -> dict[str, Any]:
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "INVALID_ARGUMENT", "Invalid valueInputOption")
    tab, r0, c0, _, _ = parse_a1(a1, book)
    height, width = len(values), max((len(r) for r in values), default=0)
    if r0 + height > tab.rows or c0 + width > tab.columns:
        raise ApiError(400, "INVALID_ARGUMENT", f"Range ({a1}) exceeds grid limits. Max rows: {tab.rows}, "
                                                f"max columns: {tab.columns}")
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if isinstance(value, dict | list):
                raise ApiError(400, "INVALID_ARGUMENT", "Invalid value")
            tab.cells[r0 + i][c0 + j] = None if value == "" else value
    return {"updatedRange": a1, "updatedRows": height, "updatedColumns": width,
            "updatedCells": sum(len(r) for r in values)}


def values_update(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    return _write(book, params["range"], body.get("values", []), query.get("valueInputOption"))


def values_batch_update(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    work = copy.deepcopy(book)
    replies = [_write(work, d["range"], d.get("values", []), body.get("valueInputOption")) for d in body.get("data", [])]
    book.tabs = work.tabs
    return {"spreadsheetId": params["spreadsheetId"], "totalUpdatedCells": sum(r["updatedCells"] for r in replies),
            "responses": replies}


def values_clear(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    tab, r0, c0, r1, c1 = parse_a1(params["range"], book)
    for row in tab.cells[r0:r1 + 1]:
        row[c0:c1 + 1] = [None] * len(row[c0:c1 + 1])
    return {"spreadsheetId": params["spreadsheetId"], "clearedRange": params["range"]}


def values_append(book: Spreadsheet, params: dict[str, str], query: dict[str, str], body: Any) -> dict[str, Any]:
    tab, _, _, _, _ = parse_a1(params["range"], book)
    values = body.get("values", [])
    used = len(_trim(tab.cells))
    if used + len(values) > tab.rows:
        grow = used + len(values) - tab.rows
        tab.cells += [[None] * tab.columns for _ in range(grow)]
        tab.rows += grow
    title = next(t for t, v in book.tabs.items() if v is tab)
    return {"updates": _write(book, "'" + title.replace("'", "''") + f"'!A{used + 1}", values,
                              query.get("valueInputOption"))}


OPERATIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "spreadsheets.get": get, "spreadsheets.batchUpdate": batch_update, "spreadsheets.values.get": values_get,
    "spreadsheets.values.update": values_update, "spreadsheets.values.batchUpdate": values_batch_update,
    "spreadsheets.values.clear": values_clear, "spreadsheets.values.append": values_append,
}
