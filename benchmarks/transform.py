"""transform_hr_1s_day and transform_all_types_day: raw page bytes -> warehouse rows, four ways, side by side.

- ``parse_only_s``: the floor, the fastest parse of the same bytes available to the project and nothing
  else (``json.loads``; TCX pages: ``ElementTree.fromstring``), each page's result dropped at once;
- ``typed_decode_s``: the typed floor (#14): each data-points page decoded by msgspec into its read's
  Structs (``fitbit.parse.typed``), no rows; pages of reads without Structs decoded untyped by msgspec
  (TCX: ``ElementTree.fromstring``). ``ratio_vs_typed_decode`` = typed_decode_s / ours_s;
- ``ours_s``: ``fitbit.parse.parse_page`` for each page, keeping every page's rows as transform_load hands
  them to staging (``benchmarks.pages.transformed``): column rows from the typed route (``ColumnRows``, no
  dict per row), row dicts from the other paths;
- ``ours_staged_s``: ``ours_s`` plus what staging then does to each batch before writing it: ``loaded_at``
  stamped and the NDJSON body encoded (``helper.staging.ndjson``), every body kept.
  ``staged_ratio_vs_typed_decode`` = typed_decode_s / ours_staged_s;
- ``reference_s``: the straightforward row-at-a-time path (``fitbit.parse.reference_rows``), i.e. the
  parser before the fast path, which the fast path is tested against;
- ``pandas_s``: the pandas ``json_normalize`` baseline (benchmarks/pandas_baseline.py).

Outputs are checked equal before anything is timed. Memory is measured in fresh subprocesses
(benchmarks/memory.py).
"""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import msgspec

from benchmarks import memory
from benchmarks.pages import RawPage, ours, save, transformed
from benchmarks.timing import interleaved
from fitbit.catalogue import DATA_TYPES
from fitbit.parse import Row, load_json, parse_page, reference_rows
from fitbit.parse.page import stamp
from fitbit.parse.typed import typed_read
from helper.staging import ndjson

TYPED_TYPES = frozenset(dt.path_id for dt in DATA_TYPES)  # account and TCX pages have no read of their own


def reference(pages: list[RawPage]) -> dict[str, list[Row]]:
    tables: dict[str, list[Row]] = {}
    for page in pages:
        if page.ctx.data_type in ("exercise-tcx", "settings", "paired-devices"):  # no fast path there
            parsed = parse_page(page.ctx, page.body).rows
        else:
            key = "rollupDataPoints" if page.ctx.method in ("rollUp", "dailyRollUp") else "dataPoints"
            (table,) = parse_page(page.ctx, b"{}").rows
            rows, rejected = reference_rows(page.ctx, load_json(page.body).get(key, []))
            parsed = {table: rows, **({"rejected_points": rejected} if rejected else {})}
        for table, rows in parsed.items():
            tables.setdefault(table, []).extend(rows)
    return tables


def parse_only(pages: list[RawPage]) -> None:
    for page in pages:
        if page.ctx.data_type == "exercise-tcx":
            ET.fromstring(page.body)
        else:
            json.loads(page.body)


def typed_decode(pages: list[RawPage]) -> None:
    for page in pages:
        read = typed_read(page.ctx.data_type, page.ctx.method) if page.ctx.data_type in TYPED_TYPES else None
        if read is not None:
            msgspec.json.decode(page.body, type=read.page)
        elif page.ctx.data_type == "exercise-tcx":
            ET.fromstring(page.body)
        else:
            msgspec.json.decode(page.body)


def staged(pages: list[RawPage]) -> list[bytes]:
    """``transformed``, then each batch stamped and encoded as staging writes it (the write itself left out)."""
    bodies = []
    for table_batches in transformed(pages).values():
        for rows in table_batches:
            stamp(rows, "loaded_at", "2026-11-05T06:00:00Z")
            bodies.append(ndjson(rows)[0])
    return bodies


def pandas(pages: list[RawPage]) -> list[Any]:
    from benchmarks.pandas_baseline import frame

    return [frame(page.ctx, page.body) for page in pages]


def _same_as_ours(tables: dict[str, list[Row]], expected: dict[str, list[Row]], *, ordered: bool) -> bool:
    if set(tables) != set(expected):
        return False
    for name, rows in expected.items():
        got = tables[name]
        if ordered:
            if [list(r.items()) for r in got] != [list(r.items()) for r in rows]:
                return False
        elif got != rows:
            return False
    return True


def pandas_equivalent(pages: list[RawPage], expected: dict[str, list[Row]]) -> bool:
    from benchmarks.pandas_baseline import records

    tables: dict[str, list[Row]] = {}
    for table, df in pandas(pages):
        tables.setdefault(table, []).extend(records(df))
    return _same_as_ours(tables, expected, ordered=False)


def bench(name: str, pages: list[RawPage], *, rounds: int, pandas_rounds: int, with_pandas: bool = True) -> dict:
    expected = ours(pages)
    rows = sum(len(r) for r in expected.values())
    figures: dict[str, Any] = {"name": name, "pages": len(pages), "bytes": sum(len(p.body) for p in pages),
                               "rows": rows, "tables": len(expected)}
    figures["reference_rows_equal"] = _same_as_ours(reference(pages), expected, ordered=True)
    if with_pandas:
        figures["pandas_rows_equal"] = pandas_equivalent(pages, expected)
    del expected
    contenders = {"parse_only_s": lambda: parse_only(pages), "typed_decode_s": lambda: typed_decode(pages),
                  "ours_s": lambda: transformed(pages), "ours_staged_s": lambda: staged(pages),
                  "reference_s": lambda: reference(pages)}
    best = interleaved(contenders, rounds)
    if with_pandas:  # slower: fewer rounds, interleaved with ours again so both see the same load
        again = interleaved({"ours_s": lambda: transformed(pages), "pandas_s": lambda: pandas(pages)}, pandas_rounds)
        best["ours_s"] = min(best["ours_s"], again["ours_s"])
        best["pandas_s"] = again["pandas_s"]
    figures.update({k: round(v, 4) for k, v in best.items()})
    figures["ratio_vs_parse"] = round(best["parse_only_s"] / best["ours_s"], 3)
    figures["ratio_vs_typed_decode"] = round(best["typed_decode_s"] / best["ours_s"], 3)
    figures["staged_ratio_vs_typed_decode"] = round(best["typed_decode_s"] / best["ours_staged_s"], 3)
    figures["speedup_vs_reference"] = round(best["reference_s"] / best["ours_s"], 2)
    if with_pandas:
        figures["speedup_vs_pandas"] = round(best["pandas_s"] / best["ours_s"], 2)
    figures["rows_per_s"] = round(rows / best["ours_s"])
    # Derived: the time spent after each path's own decode (ours decodes typed, the reference with json.loads).
    figures["transform_only_ours_s"] = round(best["ours_s"] - best["typed_decode_s"], 4)
    figures["transform_only_reference_s"] = round(best["reference_s"] - best["parse_only_s"], 4)
    figures.update(_orjson_floor(pages, rounds))
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
        figures.update(memory.measure(save(pages, Path(folder))))
    return figures


def _orjson_floor(pages: list[RawPage], rounds: int) -> dict[str, float]:
    """For information only: what orjson (not a project dependency) would make the floor."""
    try:
        import orjson
    except ImportError:
        return {}
    bodies = [p.body for p in pages if p.ctx.data_type != "exercise-tcx"]

    def loads() -> None:
        for body in bodies:
            orjson.loads(body)

    def stdlib() -> None:
        for body in bodies:
            json.loads(body)

    best = interleaved({"json": stdlib, "orjson": loads}, rounds)
    return {"info_json_loads_s": round(best["json"], 4), "info_orjson_loads_s": round(best["orjson"], 4)}
