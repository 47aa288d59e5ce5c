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
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping

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


@dataclass(frozen=True)
class ParsedPage:
    rows: dict[str, list[Row]]
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
