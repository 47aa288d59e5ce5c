"""The staging writer (issue #14): NDJSON encoded in one call, still JSON only, still readable after upgrade.

``helper.staging.ndjson`` encodes a batch with msgspec instead of ``json.dumps`` per row; the lines must
say what ``json.dumps`` said (the loads of both warehouses read them), NaN and infinities are still nulled
and counted, and the flush reads batches staged by the old writer beside new ones (an interrupted run's
staged files flush after an upgrade).
"""

from __future__ import annotations

import json
import math
from datetime import date

from fitbit.catalogue import table_spec
from fitbit.parse.page import ColumnRows, Constant
from helper.staging import joined_batches, ndjson

STEPS = table_spec("steps", "dailyRollUp")


def _old_writer(rows):
    """What the writer before issue #14 staged: ``json.dumps`` per row (ASCII-escaped, ``default=str``)."""
    return "".join(json.dumps(r, separators=(",", ":"), default=str, allow_nan=False) + "\n" for r in rows).encode()


def _lines(body):
    return [list(json.loads(line).items()) for line in body.decode().splitlines()]


def test_row_dicts_encode_as_json_dumps_did():
    rows = [{"s": "Zürich ☂ \"q\" \\ \n", "i": 2**62, "b": True, "n": None, "f": 0.1, "d": date(2026, 11, 4),
             "j": {"nested": [1, 2.5, {"k": None}], "row_counts": {"steps": 3}}},
            {"s": "", "i": -1, "b": False, "n": None, "f": 1e-7, "d": date(2026, 1, 1), "j": []}]
    body, nulled = ndjson(rows)
    assert nulled == 0 and body.endswith(b"\n")
    assert _lines(body) == _lines(_old_writer(rows))


def test_nan_and_infinity_in_columns_and_constants_are_nulled_and_counted():
    rows = ColumnRows(("a", "b", "c"), {"a": [1.5, math.nan, -math.inf], "b": Constant(math.inf), "c": ["x", "y", "z"]},
                      3)
    body, nulled = ndjson(rows)

    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    parsed = [json.loads(line, parse_constant=refuse) for line in body.decode().splitlines()]
    assert parsed == [{"a": 1.5, "b": None, "c": "x"}, {"a": None, "b": None, "c": "y"}, {"a": None, "b": None, "c": "z"}]
    assert nulled == 5


def test_large_finite_floats_are_kept():
    assert ndjson([{"a": 1e308, "b": 1e308}]) == (b'{"a":1e308,"b":1e308}\n', 0)


def test_joined_batches_are_one_file_with_every_line_and_leave_nothing_behind(tmp_path):
    first, second = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    first.write_bytes(b'{"x":1}\n{"x":2}\n')
    second.write_bytes(b'{"x":3}')  # no final newline: its line must not run into the next file's
    with joined_batches([first, second]) as joined:
        assert joined.read_bytes() == b'{"x":1}\n{"x":2}\n{"x":3}\n'
        assert not joined.name.endswith(".ndjson"), "a flush never globs it as a batch"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ndjson", "b.ndjson"]
    with joined_batches([first]) as joined:
        assert joined == first


def test_batches_staged_by_the_old_writer_flush_beside_new_ones(warehouse, tmp_path):
    def row(day, steps, obj):
        return {"participant_id": "user1", "civil_date": day, "steps": steps, "raw_object": obj,
                "parser_version": "t", "fetched_at": "2026-11-02T00:00:00Z", "loaded_at": "2026-11-02T00:00:00Z"}

    folder = tmp_path / "staging" / STEPS.name
    folder.mkdir(parents=True)
    (folder / "raw_old.ndjson").write_bytes(_old_writer([row("2026-11-01", 100, "raw/old"),
                                                         row("2026-11-02", 200, "raw/old")]))
    warehouse.stage(STEPS, [row("2026-11-03", 300, "raw/new")], "raw/new")
    assert warehouse.flush() == {STEPS.name: 3}
    assert warehouse.query(f"SELECT civil_date, steps FROM {STEPS.name} ORDER BY civil_date") == [
        (date(2026, 11, 1), 100), (date(2026, 11, 2), 200), (date(2026, 11, 3), 300)]
    assert not list(folder.iterdir()), "merged batches are removed, the joined file too"
