"""Raw API pages → warehouse rows, with pure functions driven by the catalogue.

The page's unit kind (``fitbit.catalogue.unit_kind``) says how its page is read:

- ``data-points``: the compiled read of a data type (with, for reads that track deletions, the page's
  fetch and keys: ``fetches``). Accessors are compiled once per (type, method)
  (``columns``) so an 86,400-sample day is parsed in one pass; rows on the happy path take the fast
  route (``fast``); any other row is redone by the straightforward ``reference`` path, so both give
  identical rows and errors (tests/contract/test_parse_fast_path.py). Before all that, the reads
  ``typed`` covers are decoded by msgspec straight into Structs generated from the catalogue; a page
  that route cannot prove equal (see ``fitbit.parse.typed``) is parsed again by the path above;
- ``account``: an account read's item(s), one row each, by the kind's value columns, dated by the day
  the unit was for;
- ``tcx``: a TCX track export (``tcx``).

Raises ``UnexpectedResponse`` for unreadable shapes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping

from fitbit.catalogue import UnitKind, ValueColumn, unit_kind
from fitbit.catalogue.kinds import PageFormat
from fitbit.parse.columns import compile_column, read_value, source_key
from fitbit.parse.fast import fast_rows
from fitbit.parse.fetches import fetch_rows
from fitbit.parse.page import (
    PARSER_VERSION,
    PageContext,
    ParsedPage,
    Row,
    items,
    lineage,
    load_json,
    next_token,
)
from fitbit.parse.reference import PageState, read_plan, reference_rows
from fitbit.parse.tcx import parse_tcx
from fitbit.parse.typed import typed_page, typed_read

__all__ = ["PARSER_VERSION", "PageContext", "ParsedPage", "Row", "load_json", "parse_page", "reference_rows",
           "source_key"]


def parse_page(ctx: PageContext, body: bytes | str) -> ParsedPage:
    """Turn one raw page into rows per table. Raises UnexpectedResponse for unreadable shapes."""
    kind = unit_kind(ctx.data_type, ctx.method)
    return _PARSERS[kind.page_format](kind, ctx, body)


def _data_points(kind: UnitKind, ctx: PageContext, body: bytes | str) -> ParsedPage:
    typed = typed_read(ctx.data_type, ctx.method)
    parsed = None if typed is None else typed_page(typed, ctx, body)
    return parsed if parsed is not None else _data_points_from_json(ctx, body)


def _data_points_from_json(ctx: PageContext, body: bytes | str) -> ParsedPage:
    data = load_json(body)
    plan = read_plan(ctx.data_type, ctx.method)
    found = items(data, plan.items_key)
    page = PageState(ctx, plan)
    rows = fast_rows(page, found)
    token = next_token(data)
    return ParsedPage({plan.table: rows, **fetch_rows(ctx, plan, rows, token)}, found, token, dict(page.counts))


def _account(kind: UnitKind, ctx: PageContext, body: bytes | str) -> ParsedPage:
    if ctx.civil_date is None:
        raise ValueError(f"{ctx.data_type} page {ctx.raw_object} without the civil day it was read for")
    data = load_json(body)
    found = [data] if kind.items_key is None else items(data, kind.items_key)
    getters = [(c.name, compile_column(c)) for c in kind.table.columns if isinstance(c, ValueColumn)]
    lead = {"participant_id": ctx.participant, "civil_date": ctx.civil_date.isoformat()}
    stamped = lineage(ctx)
    counts: Counter[str] = Counter()
    note = counts.update
    rows = [{**lead, **{name: read_value(get, item, lambda kind: note((kind,))) for name, get in getters},
             **stamped} for item in found]
    return ParsedPage({kind.table.name: rows}, found, next_token(data), dict(counts))


def _tcx(kind: UnitKind, ctx: PageContext, body: bytes | str) -> ParsedPage:
    counts: Counter[str] = Counter()
    rows = parse_tcx(ctx, body, lambda kind: counts.update((kind,)))
    return ParsedPage({kind.table.name: rows}, [], None, dict(counts))


_PARSERS: Mapping[PageFormat, Callable[[UnitKind, PageContext, bytes | str], ParsedPage]] = {
    "data-points": _data_points,
    "account": _account,
    "tcx": _tcx,
}
