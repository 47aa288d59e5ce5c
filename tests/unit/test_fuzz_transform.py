"""Property-based fuzzing through the real transform_load handler and the embedded adapters (issue #11).

A mutated simulator page, stored with intact or mutated metadata, goes through ``handle_object`` into
DuckDB: no exception escapes (a Transient one would, and none is possible here), the object gets
exactly one ``processing_log`` row, and the flush quarantines nothing: every value the parser lets
through is one the warehouse accepts, because it was checked against its column at parse time.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fitbit.jobs.transform import TransformContext, handle_object
from fitbit.messages import StoredObject, Unit, encode
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse
from tests.fuzz_pages import body_of, examples, mutate, seed_pages

NOW = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)
SEEDS = [seed for seed in seed_pages() if seed.ctx.data_type not in ("settings", "paired-devices")]
NUMBERS = itertools.count()


class Published:
    def publish(self, messages):
        pass


def _metadata(seed, draw):
    ctx = seed.ctx
    unit = Unit(ctx.participant, ctx.data_type, ctx.method, ctx.civil_date, ctx.civil_date + timedelta(days=1),
                "daily")
    meta = {"unit": json.loads(encode(unit)), "fetched_at": ctx.fetched_at, "time_zone": ctx.time_zone}
    if draw(st.integers(0, 3)) == 0:  # now and then, the metadata is damaged too
        meta = mutate(meta, draw, times=1)
    unit_text = meta.get("unit")
    return {k: (json.dumps(v) if k == "unit" and not isinstance(v, str) else v) for k, v in meta.items()
            if k != "unit" or unit_text is not None}


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-transform")
    warehouse = DuckDbWarehouse(root / "w.duckdb", "fitbit", root / "staging")
    yield LocalRawStore(root / "raw", "raw-bucket"), warehouse
    warehouse.close()


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_page_is_recorded_once_and_never_blocks_a_flush(adapters, data):
    n = next(NUMBERS)
    store, warehouse = adapters
    seed = data.draw(st.sampled_from(SEEDS))
    name = f"raw/user1/{seed.ctx.data_type}/2026-11-03/{seed.ctx.method}/w/page-0000-{n}.json"
    metadata = {k: v if isinstance(v, str) else json.dumps(v) for k, v in _metadata(seed, data.draw).items()
                if v is not None}
    store.create(name, body_of(mutate(seed.data, data.draw)).encode(), metadata, "application/json")
    outcome = handle_object(StoredObject("raw-bucket", name, "1"), TransformContext(
        store, warehouse, Published(), lambda: NOW))
    assert outcome in ("loaded", "failed")
    event(outcome)
    result = warehouse.flush()
    assert not result.quarantined, [q.reason for q in result.quarantined]
    assert warehouse.query(f"SELECT COUNT(*) FROM processing_log WHERE raw_object = '{name}'") == [(1,)]
