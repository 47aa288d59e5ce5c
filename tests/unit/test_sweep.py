"""The orphan sweep finds raw objects that never got an outcome, on both runtimes' terms."""

from datetime import datetime, timedelta, timezone

from fitbit.catalogue import PROCESSING_LOG_TABLE
from fitbit.jobs.sweep import SweepPolicy, find_orphans, orphans
from fitbit.ports import ObjectInfo
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse

NOW = datetime(2026, 11, 6, 12, tzinfo=timezone.utc)


def _at(name, minutes_ago):
    return ObjectInfo(name, NOW - timedelta(minutes=minutes_ago))


def test_an_object_without_an_outcome_older_than_the_grace_is_an_orphan():
    objects = [_at("raw/a", 90), _at("raw/b", 90), _at("raw/fresh", 10), _at("errors/e", 120),
               _at("control/flush-1.json", 500), _at("raw/queued", 90)]
    found = find_orphans(objects, {"raw/b"}, now=NOW, policy=SweepPolicy(grace_s=3600), exclude={"raw/queued"})
    assert [o.name for o in found] == ["errors/e", "raw/a"], "oldest first; logged, fresh, queued, control skipped"


def test_the_horizon_and_the_limit_bound_a_sweep():
    objects = [_at(f"raw/{i}", 60 * 24 * i + 61) for i in range(6)]
    policy = SweepPolicy(grace_s=3600, horizon_s=3 * 86400, limit=2)
    assert [o.name for o in find_orphans(objects, set(), now=NOW, policy=policy)] == ["raw/2", "raw/1"]
    every = SweepPolicy(grace_s=0, horizon_s=None, limit=100)
    assert len(find_orphans(objects, set(), now=NOW, policy=every)) == 6


def test_orphans_are_listed_from_the_store_and_checked_against_processing_log(tmp_path):
    store = LocalRawStore(tmp_path / "raw", "fitbit-raw")
    for name in ("raw/u/steps/a.json", "raw/u/steps/b.json", "errors/u/x.json", "control/flush-1.json"):
        store.create(name, b"{}", {}, "application/json")
    (tmp_path / "raw" / "objects" / "raw" / "u" / "steps" / ".tmp-left-by-a-crash").write_bytes(b"{")
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    now = datetime.now(timezone.utc)
    warehouse.stage(PROCESSING_LOG_TABLE, [{"participant_id": "u", "civil_date": "2026-11-01",
                                            "raw_object": "raw/u/steps/a.json", "status": "loaded",
                                            "processed_at": now.isoformat()}], "a")
    warehouse.flush()
    found = orphans(store, warehouse, now=now, policy=SweepPolicy(grace_s=0, horizon_s=None))
    assert sorted(o.name for o in found) == ["errors/u/x.json", "raw/u/steps/b.json"]
    assert all(o.size == 2 for o in found)
    recent_only = SweepPolicy(grace_s=0, horizon_s=3600)  # the outcome query is bounded by the horizon too
    assert sorted(o.name for o in orphans(store, warehouse, now=now, policy=recent_only)) == sorted(
        o.name for o in found)
    warehouse.close()


def test_a_file_a_crash_left_half_written_is_not_an_object(tmp_path):
    store = LocalRawStore(tmp_path / "raw", "fitbit-raw")
    folder = tmp_path / "raw" / "objects" / "raw" / "u" / "exercise-tcx" / "2026-11-01" / "p1"
    folder.mkdir(parents=True)
    (folder / ".tmp-abc").write_bytes(b"<Training")
    assert not store.exists("raw/u/exercise-tcx/2026-11-01/p1/"), "else the TCX export would be skipped for ever"
    assert list(store.list_objects("raw/")) == []


def test_the_scheduled_flush_hands_orphans_to_transform_load_inline_each_isolated(tmp_path):
    """Google Cloud's sweep: the hourly flush handles each orphan itself; one it cannot handle blocks nothing."""
    import json

    from fitbit.jobs.transform import TransformContext, handle_object
    from fitbit.messages import StoredObject

    store = LocalRawStore(tmp_path / "raw", "fitbit-raw")
    doc = {"unit": {"participant": "u", "data_type": "steps", "method": "reconcile", "start": "2026-11-01"},
           "error_class": "ReconsentNeeded", "fix": "authorise again"}
    store.create("errors/u/steps/1.json", json.dumps(doc).encode(), {}, "application/json")
    store.create("raw/u/steps/broken.json", b"{}", {}, "application/json")  # no unit metadata: cannot be handled
    store.create("control/flush-1.json", b"{}", {}, "application/json")
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    ctx = TransformContext(store=store, warehouse=warehouse, queue=None,  # type: ignore[arg-type]
                           clock=lambda: datetime.now(timezone.utc), sweep=SweepPolicy(grace_s=0))
    outcome = handle_object(StoredObject("fitbit-raw", "control/flush-1.json", "1"), ctx)
    assert outcome.startswith("flushed:") and outcome.endswith("1 orphans")
    assert warehouse.query("SELECT raw_object, status, error_class FROM processing_log") == [
        ("errors/u/steps/1.json", "failed", "ReconsentNeeded")]
    warehouse.close()
