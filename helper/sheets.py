"""The Google Sheets API v4 over an injected HTTP session: the calls a tab export needs, and errors with a fix.

The transport is any ``requests``-style session (``request(method, url, params=, json=, timeout=)`` returning a
response with ``status_code``, ``headers`` and ``json()``); in use it is google-auth's ``AuthorizedSession``, which
adds the OAuth token and refreshes it. That is the client: the REST surface a tab export needs is five methods
(``spreadsheets.get`` / ``batchUpdate``, ``spreadsheets.values.get`` / ``batchUpdate`` / ``clear``), and
google-api-python-client (111 MB installed with its discovery documents) could not travel in the function archives
for the scheduled export on Google Cloud. The requests are checked against the Sheets v4 discovery document by the
tests' fake server (``tests/sheets_fake.py``).

API facts (developers.google.com/workspace/sheets/api, read 2026-12-01): a spreadsheet holds at most 10 million
cells across all its tabs (the grid counts, empty cells included); write requests are limited per minute per user
and per project and answer 429 when exceeded; values sent with ``valueInputOption=RAW`` are stored as given (no
date or number parsing); a range is A1 notation with the tab title quoted (``'title'!A2``, a quote doubled).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fitbit.errors import TerminalError

SCOPE = "https://www.googleapis.com/auth/spreadsheets"
SHEETS_API = "https://sheets.googleapis.com"
MAX_CELLS = 10_000_000  # per spreadsheet, every tab's grid counted
CHUNK_CELLS = 50_000  # cells per values.batchUpdate request: well under the API's 10 MB request limit
RETRIES = 5
_ID = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


class SheetsError(TerminalError):
    """A Sheets call that cannot succeed as it is (429 and 5xx are retried first); ``fix`` says what to do."""

    def __init__(self, message: str, fix: str, status: int | None = None) -> None:
        super().__init__(f"{message}; {fix}", fix=fix)
        self.status = status


def spreadsheet_id(text: str) -> str:
    """The spreadsheet id in ``text``: the id itself, or a sheet's URL (``…/spreadsheets/d/<id>/edit``).

    Raises:
        ValueError: nothing that can be a spreadsheet id.
    """
    match = _URL.search(text)
    candidate = match.group(1) if match else text.strip()
    if not _ID.match(candidate):
        raise ValueError(f"not a spreadsheet id: {text!r} (the part of the sheet's URL between /d/ and /edit: "
                         "letters, digits, - and _)")
    return candidate


def a1(title: str, cells: str) -> str:
    """An A1 range on the tab ``title`` (``'daily_summary'!A2``)."""
    return "'" + title.replace("'", "''") + "'!" + cells


def column_letter(index: int) -> str:
    """The column letter of a 0-based column index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass(frozen=True)
class Tab:
    """One tab of a spreadsheet: its id and its grid's size."""

    sheet_id: int
    rows: int
    columns: int


class SheetsClient:
    """The calls on one spreadsheet, with retries on 429 and 5xx and errors mapped to a fix."""

    def __init__(self, session: Any, spreadsheet: str, *, base_url: str = SHEETS_API, principal: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, timeout_s: float = 60.0) -> None:
        """Args:
            session: the HTTP session (google-auth's ``AuthorizedSession`` in use).
            spreadsheet: the spreadsheet id (``spreadsheet_id``).
            base_url: the API's root (a fake's, in tests).
            principal: the service account's e-mail, named in the fix when the sheet is not shared with it;
                ``None`` for a person's own account.
            sleep: waits between retries.
            timeout_s: per request.
        """
        self.session, self.spreadsheet, self.principal = session, spreadsheet, principal
        self.base = base_url.rstrip("/") + "/v4/spreadsheets/" + spreadsheet
        self.sleep, self.timeout_s = sleep, timeout_s
        self.requests = 0

    def tabs(self) -> dict[str, Tab]:
        """Every tab's title, id and grid size (``spreadsheets.get``, properties only)."""
        body = self._call("GET", "", params={"fields": "sheets.properties"})
        out = {}
        for sheet in body.get("sheets", []):
            props = sheet.get("properties", {})
            grid = props.get("gridProperties", {})
            out[props["title"]] = Tab(int(props.get("sheetId", 0)), int(grid.get("rowCount", 0)),
                                      int(grid.get("columnCount", 0)))
        return out

    def batch_update(self, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """``spreadsheets.batchUpdate``: structural changes (add a tab, insert or delete rows), applied atomically."""
        if not requests:
            return []
        return list(self._call("POST", ":batchUpdate", body={"requests": list(requests)}).get("replies", []))

    def add_tab(self, title: str, rows: int, columns: int) -> int:
        """Add a tab of exactly ``rows`` x ``columns`` with its first row frozen (the header); returns its id."""
        reply = self.batch_update([{"addSheet": {"properties": {"title": title, "gridProperties": {
            "rowCount": rows, "columnCount": columns, "frozenRowCount": 1}}}}])
        return int(reply[0]["addSheet"]["properties"]["sheetId"])

    def values(self, cells: str) -> list[list[Any]]:
        """``spreadsheets.values.get``, unformatted (numbers as numbers); trailing empty rows and cells are left out."""
        body = self._call("GET", "/values/" + quote(cells, safe=""),
                          params={"majorDimension": "ROWS", "valueRenderOption": "UNFORMATTED_VALUE"})
        return [list(row) for row in body.get("values", [])]

    def write(self, title: str, first_row: int, rows: Sequence[Sequence[Any]]) -> int:
        """Write ``rows`` from row ``first_row`` (1-based) of ``title`` as given (RAW), in requests of at most
        ``CHUNK_CELLS`` cells (``spreadsheets.values.batchUpdate``); returns the number of requests."""
        width = max((len(r) for r in rows), default=1) or 1
        per_range = max(1, CHUNK_CELLS // width)
        calls, start = 0, 0
        while start < len(rows):
            chunk = rows[start:start + per_range]
            self._call("POST", "/values:batchUpdate", body={"valueInputOption": "RAW", "data": [
                {"range": a1(title, f"A{first_row + start}"), "majorDimension": "ROWS", "values": [list(r) for r in chunk]}]})
            start += len(chunk)
            calls += 1
        return calls

    def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
              body: dict[str, Any] | None = None) -> dict[str, Any]:
        from google.auth.exceptions import GoogleAuthError

        for attempt in range(RETRIES + 1):
            self.requests += 1
            try:
                response = self.session.request(method, self.base + path, params=params, json=body,
                                                timeout=self.timeout_s)
            except GoogleAuthError as exc:
                raise SheetsError(f"the credentials were refused ({type(exc).__name__})",
                                  "check the credentials file, or create it again (docs/reporting.md)") from None
            except OSError as exc:  # requests' ConnectionError and Timeout are OSErrors
                raise SheetsError(f"cannot reach the Sheets API ({type(exc).__name__})",
                                  "check the network and try again") from None
            status = response.status_code
            if status < 300:
                return response.json() if response.content else {}
            if (status == 429 or status >= 500) and attempt < RETRIES:
                retry_after = response.headers.get("Retry-After")
                self.sleep(float(retry_after) if retry_after and retry_after.isdigit() else min(2.0 ** attempt, 32.0))
                continue
            raise self._error(status, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, status: int, response: Any) -> SheetsError:
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        text = f"{error.get('status', '')} {error.get('message', '')} {error.get('details', '')}"
        who = self.principal or "your Google account"
        if status == 404:
            return SheetsError(f"spreadsheet {self.spreadsheet} not found (404)", "check the id: it is the part of "
                               "the sheet's URL between /d/ and /edit", status)
        if status == 403 and ("SCOPE_INSUFFICIENT" in text or "insufficient authentication scopes" in text):
            return SheetsError("the credentials lack the Sheets scope (403)", f"create them again with the scope {SCOPE}",
                               status)
        if status == 403 and ("SERVICE_DISABLED" in text or "has not been used" in text):
            return SheetsError("the Google Sheets API is disabled in the credentials' project (403)",
                               "enable it: gcloud services enable sheets.googleapis.com", status)
        if status == 403:
            return SheetsError(f"{who} may not edit spreadsheet {self.spreadsheet} (403)",
                               f"share it with {who} as Editor (Share, in the sheet)", status)
        if status == 401:
            return SheetsError("the Sheets API refused the credentials (401)",
                               "create the credentials again (docs/reporting.md)", status)
        if status == 429:
            return SheetsError("the Sheets API quota is exhausted (429, after retries)",
                               "wait a minute and export again; it replaces the same rows", status)
        return SheetsError(f"the Sheets API answered {status} ({error.get('status') or 'no status'})",
                           "run the export again; if it persists, check the tab by hand", status)
