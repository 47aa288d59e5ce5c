"""A local fake of the Google Sheets API v4 (and of Google's OAuth token endpoint) over real HTTP, cells in memory.

It serves what the export calls, and a little more: ``spreadsheets.get``, ``spreadsheets.batchUpdate`` (addSheet,
insertDimension, deleteDimension, appendDimension), ``spreadsheets.values.get`` / ``update`` / ``batchUpdate`` /
``clear`` / ``append``, and ``POST /token`` (the JWT-bearer grant of a service account key, the refresh-token grant
of an authorised-user file). Every request is checked against the Sheets v4 discovery document shipped in the
google-api-python-client wheel (the contract): the method's HTTP verb and path, its query parameters and their
enums, and the request body's fields and enums, recursively. A request that breaks the contract is answered 400
and kept in ``violations``. Like the real API it answers 404 for an unknown spreadsheet, 403 PERMISSION_DENIED
when the caller is not an editor, 400 for a write past the grid, and refuses a workbook over 10 million cells.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

MAX_CELLS = 10_000_000
_A1 = re.compile(r"^(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^!]+))!(?P<cells>.+)$")
_CELL = re.compile(r"^(?P<col>[A-Z]*)(?P<row>\d*)$")


@cache
def discovery() -> dict[str, Any]:
    """The Sheets v4 discovery document of the installed google-api-python-client."""
    docs = resources.files("googleapiclient.discovery_cache.documents")
    return json.loads(docs.joinpath("sheets.v4.json").read_text(encoding="utf-8"))


@cache
def _methods() -> list[tuple[str, str, re.Pattern[str], dict[str, Any]]]:
    out = []

    def walk(resources_: dict[str, Any], prefix: str) -> None:
        for name, resource in resources_.items():
            for method_name, method in resource.get("methods", {}).items():
                pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/:]+)", re.escape("/" + method["flatPath"]))
                out.append((prefix + name + "." + method_name, method["httpMethod"], re.compile(pattern + "$"), method))
            walk(resource.get("resources", {}), prefix + name + ".")

    walk(discovery()["resources"], "")
    return out


def check_body(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Where ``value`` breaks ``schema`` (a discovery-document schema): unknown fields, wrong types, bad enums."""
    if "$ref" in schema:
        return check_body(value, discovery()["schemas"][schema["$ref"]], where)
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        problems = []
        for key, item in value.items():
            spec = schema.get("properties", {}).get(key) or schema.get("additionalProperties")
            problems += check_body(item, spec, f"{where}.{key}") if spec else [f"{where}.{key}: unknown field"]
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: not an array"]
        return [p for i, item in enumerate(value) for p in check_body(item, schema["items"], f"{where}[{i}]")]
    if kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return [f"{where}: not an integer"]
    if kind == "string" and not isinstance(value, str):
        return [f"{where}: not a string"]
    if kind == "boolean" and not isinstance(value, bool):
        return [f"{where}: not a boolean"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} not in the enum"]
    return []


@dataclass
class Tab:
    sheet_id: int
    rows: int
    columns: int
    frozen: int = 0
    cells: list[list[Any]] = field(default_factory=list)  # rows x columns, None = empty

    def __post_init__(self) -> None:
        self.cells = [[None] * self.columns for _ in range(self.rows)]


@dataclass
class Spreadsheet:
    editors: set[str]
    tabs: dict[str, Tab] = field(default_factory=dict)
    next_id: int = 1

    def cells(self) -> int:
        return sum(t.rows * t.columns for t in self.tabs.values())

    def table(self, title: str) -> list[list[Any]]:
        """A tab's values as values.get would answer them (trailing empties left out)."""
        return _trim([row for row in self.tabs[title].cells])


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _self_signed(token: str) -> str | None:
    """A service account's self-signed JWT used as the access token (what google-auth sends outside the
    googleapis.com universe), read for its issuer and scope; the signature is not checked."""
    if token.count(".") != 2:
        return None
    try:
        claims = _claims(token)
    except ValueError:
        return None
    return claims["iss"] if "auth/spreadsheets" in claims.get("scope", "") else "no-scope:" + claims["iss"]


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    out = [list(row) for row in rows]
    for row in out:
        while row and row[-1] is None:
            row.pop()
    while out and not out[-1]:
        out.pop()
    return [[("" if v is None else v) for v in row] for row in out]


def _col(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def parse_a1(text: str, book: Spreadsheet) -> tuple[Tab, int, int, int, int]:
    """``'title'!A2:B`` -> (tab, first row, first column, last row, last column), 0-based and inclusive."""
    match = _A1.match(text)
    if not match:
        raise ApiError(400, "INVALID_ARGUMENT", f"Unable to parse range: {text}")
    title = (match["quoted"] or "").replace("''", "'") or match["plain"]
    if title not in book.tabs:
        raise ApiError(400, "INVALID_ARGUMENT", f"Unable to parse range: {text}")
    tab = book.tabs[title]
    ends = match["cells"].split(":")
    first = _CELL.match(ends[0])
    last = _CELL.match(ends[-1])
    if not first or not last or len(ends) > 2:
        raise ApiError(400, "INVALID_ARGUMENT", f"Unable to parse range: {text}")
    r0 = int(first["row"]) - 1 if first["row"] else 0
    c0 = _col(first["col"]) if first["col"] else 0
    r1 = int(last["row"]) - 1 if last["row"] else tab.rows - 1
    c1 = _col(last["col"]) if last["col"] else tab.columns - 1
    return tab, r0, c0, r1, c1


class FakeSheets:
    """The fake's state and its request handling; ``serve()`` starts it on a loopback port."""

    def __init__(self) -> None:
        self.books: dict[str, Spreadsheet] = {}
        self.tokens: dict[str, str] = {}  # access token -> principal
        self.calls: list[str] = []  # method ids, in order
        self.violations: list[str] = []
        self.inject: list[int] = []  # statuses to answer the next API calls with (429 comes with Retry-After: 0)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self) -> FakeSheets:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                code, body = fake.handle(self.command, self.path, dict(self.headers), raw)
                data = json.dumps(body).encode()
                self.send_response(code)
                if code == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _any  # noqa: N815 - http.server's naming

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def handle(self, verb: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(target)
        with self.lock:
            try:
                if parts.path == "/token":
                    return 200, self._token(parse_qs(raw.decode()))
                return 200, self._api(verb, parts.path, parse_qs(parts.query), headers, raw)
            except ApiError as exc:
                return exc.code, {"error": {"code": exc.code, "message": exc.message, "status": exc.status}}

    def _token(self, form: dict[str, list[str]]) -> dict[str, Any]:
        grant = form.get("grant_type", [""])[0]
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = _claims(form["assertion"][0])
            principal, scopes = claims["iss"], claims.get("scope", "")
        elif grant == "refresh_token":
            principal, scopes = "user:" + form["client_id"][0], form.get("scope", [""])[0]
        else:
            raise ApiError(400, "invalid_grant", "unsupported grant")
        token = f"fake-token-{len(self.tokens)}"
        self.tokens[token] = principal if "auth/spreadsheets" in scopes else "no-scope:" + principal
        return {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _api(self, verb: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
             raw: bytes) -> dict[str, Any]:
        found = [(name, method, match) for name, http_method, pattern, method in _methods()
                 if http_method == verb and (match := pattern.match(path))]
        if not found:
            self.violations.append(f"{verb} {path}: no such method in the discovery document")
            raise ApiError(404, "NOT_FOUND", "no such method")
        name, method, match = found[0]
        self.calls.append(name)
        self._contract(name, method, query, raw)
        if self.inject:
            status = self.inject.pop(0)
            raise ApiError(status, "RESOURCE_EXHAUSTED" if status == 429 else "UNAVAILABLE", "injected")
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        principal = self.tokens.get(auth.removeprefix("Bearer ")) or _self_signed(auth.removeprefix("Bearer "))
        if principal is None:
            raise ApiError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        if principal.startswith("no-scope:"):
            raise ApiError(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes. "
                                                     "ACCESS_TOKEN_SCOPE_INSUFFICIENT")
        params = {k: unquote(v) for k, v in match.groupdict().items()}
        book = self.books.get(params["spreadsheetId"])
        if book is None:
            raise ApiError(404, "NOT_FOUND", "Requested entity was not found.")
        if principal not in book.editors:
            raise ApiError(403, "PERMISSION_DENIED", "The caller does not have permission")
        body = json.loads(raw) if raw else {}
        from tests.sheets_fake_ops import OPERATIONS  # the operations on the cells

        if name not in OPERATIONS:
            raise ApiError(501, "UNIMPLEMENTED", f"the fake does not serve {name}")
        return OPERATIONS[name](book, params, {k: v[0] for k, v in query.items()}, body)

    def _contract(self, name: str, method: dict[str, Any], query: dict[str, list[str]], raw: bytes) -> None:
        allowed = {**discovery()["parameters"], **method.get("parameters", {})}
        problems = []
        for key, values in query.items():
            spec = allowed.get(key)
            if spec is None or spec.get("location", "query") != "query":
                problems.append(f"{name}: unknown query parameter {key}")
            elif "enum" in spec and values[0] not in spec["enum"]:
                problems.append(f"{name}: {key}={values[0]} not in the enum")
        if "request" in method:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            problems += [f"{name}: {p}" for p in check_body(body, method["request"], "body")] if body is not None \
                else [f"{name}: no JSON body"]
        elif raw:
            problems.append(f"{name}: a body on a method that takes none")
        if problems:
            self.violations += problems
            raise ApiError(400, "INVALID_ARGUMENT", "; ".join(problems))
