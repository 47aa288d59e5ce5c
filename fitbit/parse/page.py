"""What every parser shares: the page's context, the parsed result, lineage and the JSON envelope.

A raw object's metadata names the unit that fetched it; ``PageContext`` carries what the parsers need
of it, including the civil day the unit was for (account pages and TCX tracks have no date of their own,
and a pure parser must not ask the clock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from fitbit.catalogue.common import PARSED_LINEAGE
from fitbit.errors import UnexpectedResponse

PARSER_VERSION = "2026.11.1"

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


@dataclass(frozen=True)
class ParsedPage:
    rows: dict[str, list[Row]]
    items: list[Mapping[str, Any]]
    next_page_token: str | None


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
