"""What every parser shares: the page's context, the parsed result, lineage and the JSON envelope.

A raw object's metadata names the unit that fetched it; ``PageContext`` carries what the parsers need
of it, including the civil day the unit was for (account pages and TCX tracks have no date of their own,
and a pure parser must not ask the clock), the participant's IANA zone (points without offsets take
theirs from it) and where the page sits in its window's fetch (deletion tracking, ``fitbit.parse.fetches``).

``ParsedPage.counts`` says what a person should know about a page besides its rows, by kind and never
by value: values nulled because a column cannot hold them (NaN), offsets derived from the zone, resource
names derived for points sent without one. transform_load writes them to the processing log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from typing import Any, overload

from fitbit.catalogue.common import PARSED_LINEAGE
from fitbit.errors import UnexpectedResponse

PARSER_VERSION = "2026.12.1"

Row = dict[str, Any]


@dataclass(frozen=True)
class PageContext:
    """Who and what a raw page belongs to (from the raw object's metadata)."""

    participant: str
    data_type: str
    method: str
    raw_object: str
    fetched_at: str
    time_zone: str | None = None
    civil_date: date | None = None  # the unit's first day, for pages without their own dates
    data_point: str | None = None
    window_end: date | None = None  # the unit's window end (exclusive)
    page: int = 0  # the page's number within its window's fetch
    fetch_id: str | None = None  # the fetch the page belongs to (None: this page starts one)


class Constant:
    """A column holding one value on every row (the participant, the lineage, a page's one data source)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


class ColumnRows(Sequence[Row]):
    """A table's rows held as one sequence per column (or a ``Constant``), in the row's key order.

    The typed route (``fitbit.parse.typed``) builds columns; building a dict of 19 keys per row cost as much
    as decoding the page (issue #14), so rows stay columns up to the staging writer (``helper.staging``),
    which encodes them as they are. Iterating or indexing still gives the row dicts, equal to the reference
    path's, for the few readers that want rows (follow-ups, tests); ``column`` reads one column.
    """

    __slots__ = ("columns", "keys", "length")

    def __init__(self, keys: Sequence[str], columns: Mapping[str, Any], length: int) -> None:
        self.keys, self.columns, self.length = tuple(keys), dict(columns), length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[Row]:
        if not self.length:
            return iter(())
        return map(dict, map(zip, repeat(self.keys), zip(*map(self._values, self.keys))))

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return list(self)[index]
        if not -self.length <= index < self.length:
            raise IndexError("row index out of range")
        index %= self.length
        return {key: self._value(key, index) for key in self.keys}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(other) == self.length and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ColumnRows({self.length} rows, {len(self.keys)} columns)"

    def column(self, key: str) -> list[Any]:
        """One column's values, one per row."""
        if not self.length:
            return []
        found = self.columns[key]
        return [found.value] * self.length if isinstance(found, Constant) else list(found)

    def set_constant(self, key: str, value: Any) -> None:
        """Give every row ``key`` = ``value`` (a new key goes last, as in a dict)."""
        if key not in self.columns:
            self.keys += (key,)
        self.columns[key] = Constant(value)

    def _values(self, key: str) -> Any:
        found = self.columns[key]
        return repeat(found.value, self.length) if isinstance(found, Constant) else found

    def _value(self, key: str, index: int) -> Any:
        found = self.columns[key]
        return found.value if isinstance(found, Constant) else found[index]


Rows = Sequence[Row]  # a list of row dicts, or ``ColumnRows``


def stamp(rows: Rows, key: str, value: Any) -> None:
    """Set ``key`` to ``value`` on every row (``loaded_at`` at staging), without building column rows."""
    if isinstance(rows, ColumnRows):
        rows.set_constant(key, value)
    else:
        for row in rows:
            row[key] = value


def values_of(rows: Rows, *keys: str) -> Iterator[tuple[Any, ...]]:
    """``keys``' values, one tuple per row, read by column from column rows (no row dicts built)."""
    if isinstance(rows, ColumnRows):
        return zip(*map(rows._values, keys)) if rows.length else iter(())
    return (tuple(row[key] for key in keys) for row in rows)


def day_counts_rows(rows: Rows) -> Rows:
    """Rows carrying only their ``civil_date``, enough to count rows per day (``fitbit.ledger``): for column
    rows one shared dict per day, not one dict per row."""
    if not isinstance(rows, ColumnRows):
        return rows
    days = rows.column("civil_date")
    shared = {day: {"civil_date": day} for day in set(days)}
    return list(map(shared.__getitem__, days))


@dataclass(frozen=True)
class ParsedPage:
    rows: dict[str, Rows]
    items: list[Mapping[str, Any]]
    next_page_token: str | None
    counts: dict[str, int] = field(default_factory=dict)


def lineage(ctx: PageContext) -> Row:
    """The lineage columns a parser writes on every row (``loaded_at`` is stamped when rows are staged)."""
    values = {"raw_object": ctx.raw_object, "parser_version": PARSER_VERSION, "fetched_at": ctx.fetched_at}
    return {name: values[name] for name in PARSED_LINEAGE}


def load_json(body: bytes | str) -> Mapping[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UnexpectedResponse("raw page is not valid JSON") from None
    if not isinstance(data, dict):
        raise UnexpectedResponse("raw page is not a JSON object")
    return data


def items(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    found = data.get(key, [])
    if not isinstance(found, list):
        raise UnexpectedResponse(f"'{key}' is not a list")
    return found


def next_token(data: Mapping[str, Any]) -> str | None:
    token = data.get("nextPageToken")
    return token if isinstance(token, str) and token else None
