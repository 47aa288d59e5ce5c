"""Property-based fuzzing of the parser with real simulator pages (issue #11).

Whatever a page holds, ``parse_page`` either refuses the page with a documented page-level error
(``UnexpectedResponse`` for an unreadable page, ``TimeZoneUnknown``) or accounts for every point: each
becomes a row of its table or a ``rejected_points`` row; the fast path equals the reference path; and
every row is JSON a load job accepts (no NaN, no infinity).
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitbit.catalogue import unit_kind
from fitbit.errors import TimeZoneUnknown, UnexpectedResponse
from fitbit.parse import parse_page, reference_rows
from tests.fuzz_pages import body_of, examples, mutate, mutate_xml, seed_pages, seed_tcx

PAGE_LEVEL = (UnexpectedResponse, TimeZoneUnknown)
SEEDS = seed_pages()
TCX = seed_tcx()
FUZZ = settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_the_seeds_cover_every_page_shape_with_points():
    kinds = {unit_kind(seed.ctx.data_type, seed.ctx.method).page_format for seed in SEEDS}
    assert kinds == {"data-points", "account"} and len(SEEDS) > 20


@FUZZ
@given(st.data())
def test_every_point_becomes_a_row_or_a_rejection(data):
    seed = data.draw(st.sampled_from(SEEDS))
    body = body_of(mutate(seed.data, data.draw))
    try:
        parsed = parse_page(seed.ctx, body)
    except PAGE_LEVEL:
        return
    kind = unit_kind(seed.ctx.data_type, seed.ctx.method)
    rows, rejected = parsed.rows[kind.table.name], parsed.rows.get("rejected_points", [])
    assert len(rows) + len(rejected) == len(parsed.items)
    assert parsed.counts.get("points_rejected", 0) == len(rejected)
    json.dumps({table: list(rows) for table, rows in parsed.rows.items()}, allow_nan=False)
    if kind.page_format == "data-points":
        points = json.loads(body).get(kind.items_key, [])  # the typed route yields Structs: use the page JSON
        assert (rows, rejected) == reference_rows(seed.ctx, points)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_bare_non_finite_literals_anywhere_never_reach_a_row(literal):
    for seed in SEEDS:
        text = json.dumps(seed.data)
        for number in {token for token in text.replace(",", " ").replace("}", " ").split()
                       if token.replace(".", "").isdigit()}:
            body = text.replace(f" {number},", f" {literal},", 1)
            try:
                parsed = parse_page(seed.ctx, body)
            except PAGE_LEVEL:
                continue
            json.dumps({table: list(rows) for table, rows in parsed.rows.items()}, allow_nan=False)


@FUZZ
@given(st.data())
def test_every_track_point_becomes_a_row_or_a_rejection(data):
    body = mutate_xml(TCX.data, data.draw)
    try:
        parsed = parse_page(TCX.ctx, body)
    except PAGE_LEVEL:
        return
    timed = len(re.findall(r"<Trackpoint>\s*<Time>[^<]+</Time>", body))
    rows, rejected = parsed.rows["exercise_tcx_points"], parsed.rows.get("rejected_points", [])
    assert len(rows) + len(rejected) == timed
    json.dumps({table: list(rows) for table, rows in parsed.rows.items()}, allow_nan=False)
