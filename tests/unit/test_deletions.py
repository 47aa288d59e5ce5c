"""Deletions without tombstones (issue #12, observation 7), through transform_load and the embedded warehouse.

The API sends no tombstone: a deleted point simply stops appearing. When every page of a window's fetch
is in (its last page has no next token), rows of that participant and window the fetch no longer
returned are marked ``deleted_at`` (kept, not dropped) and the views leave them out. Pages of one fetch
may be flushed in different flushes; replaying an old page neither resurrects nor deletes anything.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fitbit import plan
from fitbit.catalogue import FETCH_KEYS_TABLE, FETCH_PAGES_TABLE, table_spec
from fitbit.jobs.transform import TransformContext, handle_object
from fitbit.messages import StoredObject, Unit, decode, encode
from fitbit.parse import PageContext, parse_page
from helper.storage import LocalRawStore
from helper.warehouse import DuckDbWarehouse

SCALE = {"recordingMethod": "PASSIVELY_MEASURED", "platform": "FITBIT",
         "device": {"displayName": "Aria Air", "manufacturer": "Fitbit", "formFactor": "SCALE"}}
DAY1 = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)


def weight(n: int, day: int, grams: float = 71000.0) -> dict:
    return {"name": f"users/1/dataTypes/weight/dataPoints/{n}", "dataSource": SCALE,
            "weight": {"sampleTime": {"physicalTime": f"2026-11-{day:02d}T06:30:00Z", "utcOffset": "3600s"},
                       "weightGrams": grams}}


def night(n: int, day: int) -> dict:
    return {"name": f"users/1/dataTypes/sleep/dataPoints/{n}", "dataSource": {"platform": "FITBIT"},
            "sleep": {"interval": {"startTime": f"2026-11-{day - 1:02d}T22:00:00Z", "startUtcOffset": "3600s",
                                   "endTime": f"2026-11-{day:02d}T06:00:00Z", "endUtcOffset": "3600s"},
                      "type": "STAGES", "summary": {"minutesInSleepPeriod": "480", "minutesAsleep": "450"},
                      "metadata": {"processed": True, "mainSleep": True}}}


class Pipeline:
    """transform_load over a local raw store and DuckDB, with the follow-ups it publishes kept."""

    def __init__(self, root: Path) -> None:
        self.store = LocalRawStore(root / "raw", "raw-bucket")
        self.warehouse = DuckDbWarehouse(root / "w.duckdb", "fitbit", root / "staging")
        self.now = DAY1
        self.published: list[Unit] = []

    def page(self, unit: Unit, items: list[dict], *, token: str | None = None, participant_zone="Europe/Berlin",
             fetched_at: datetime | None = None) -> str:
        """Store the page as extract would and hand its storage event to transform_load."""
        body = json.dumps({"dataPoints": items, **({"nextPageToken": token} if token else {})}).encode()
        name = plan.object_name(unit, body)
        meta = {"unit": encode(unit).decode(), "fetched_at": (fetched_at or self.now).isoformat().replace("+00:00", "Z"),
                "time_zone": participant_zone}
        self.store.create(name, body, meta, "application/json")
        self.replay(name)
        return name

    def replay(self, name: str) -> None:
        ctx = TransformContext(self.store, self.warehouse, self, lambda: self.now)
        assert handle_object(StoredObject("raw-bucket", name, "1"), ctx) == "loaded"

    def publish(self, messages) -> None:
        self.published += [m for m in messages if isinstance(m, Unit)]

    def next_page(self) -> Unit:
        (unit,) = [u for u in self.published if u.page_token]
        self.published.clear()
        return unit

    def flush(self) -> None:
        self.warehouse.flush()

    def rows(self, table: str, *columns: str) -> list[tuple]:
        return self.warehouse.query(f"SELECT {', '.join(columns)} FROM {table} ORDER BY 1")


@pytest.fixture
def pipeline(tmp_path):
    p = Pipeline(tmp_path)
    yield p
    p.warehouse.close()


def window(start: int, end: int, data_type: str = "weight", participant: str = "user1", **kw) -> Unit:
    return Unit(participant, data_type, "list", date(2026, 11, start), date(2026, 11, end), "daily", **kw)


def test_a_page_of_a_tracked_read_records_its_fetch_and_the_keys_it_returned():
    ctx = PageContext("user1", "weight", "list", "raw/p0.json", "2026-11-06T10:00:00Z", "Europe/Berlin",
                      civil_date=date(2026, 11, 3), window_end=date(2026, 11, 6), page=0)
    parsed = parse_page(ctx, json.dumps({"dataPoints": [weight(1, 3), weight(2, 4)], "nextPageToken": "t"}))
    (page,) = parsed.rows[FETCH_PAGES_TABLE.name]
    assert page["fetch_id"] == "raw/p0.json" and page["page"] == 0 and page["last_page"] is False
    assert (page["window_start"], page["window_end"], page["table_name"], page["keys"]) == (
        "2026-11-03", "2026-11-06", "weight", 2)
    keys = parsed.rows[FETCH_KEYS_TABLE.name]
    assert [(k["key_time"], k["civil_date"], k["fetch_id"]) for k in keys] == [
        ("2026-11-03T06:30:00Z", "2026-11-03", "raw/p0.json"), ("2026-11-04T06:30:00Z", "2026-11-04", "raw/p0.json")]
    later = parse_page(PageContext("user1", "weight", "list", "raw/p1.json", "2026-11-06T10:00:01Z", "Europe/Berlin",
                                   civil_date=date(2026, 11, 3), window_end=date(2026, 11, 6), page=1,
                                   fetch_id="raw/p0.json"), b"{}")
    assert later.rows[FETCH_PAGES_TABLE.name][0]["fetch_id"] == "raw/p0.json"
    assert later.rows[FETCH_PAGES_TABLE.name][0]["last_page"] is True
    untracked = parse_page(PageContext("user1", "steps", "reconcile", "raw/s.json", "2026-11-06T10:00:00Z",
                                       civil_date=date(2026, 11, 3), window_end=date(2026, 11, 6)), b"{}")
    assert set(untracked.rows) == {"steps_intraday"}


def test_the_next_page_unit_carries_the_fetch_it_belongs_to_through_a_work_message(pipeline):
    first = pipeline.page(window(3, 6), [weight(1, 3)], token="t1")
    nxt = pipeline.next_page()
    assert nxt.fetch_id == first and nxt.page == 1 and nxt.page_token == "t1"
    assert decode(encode(nxt)) == nxt


def test_a_weight_missing_from_a_complete_refetch_is_marked_deleted_and_kept(pipeline):
    pipeline.page(window(1, 4), [weight(1, 2), weight(2, 3), weight(0, 1)])
    pipeline.flush()
    pipeline.now = DAY1 + timedelta(days=1)
    pipeline.page(window(2, 5), [weight(1, 2)])  # the daily re-fetch: weight 2 was deleted at the source
    pipeline.flush()
    rows = pipeline.rows("weight", "data_point_name", "deleted_at")
    assert [(n.rsplit("/", 1)[1], d) for n, d in rows] == [
        ("0", None), ("1", None), ("2", DAY1 + timedelta(days=1))]  # 0: outside the re-fetched window


def test_nothing_is_deleted_until_the_last_page_of_the_fetch_is_in_even_across_flushes(pipeline):
    pipeline.page(window(1, 4), [weight(1, 2), weight(2, 3)])
    pipeline.flush()
    pipeline.now = DAY1 + timedelta(days=1)
    pipeline.page(window(1, 4), [weight(1, 2)], token="more")  # page 0 of the re-fetch; page 1 not read yet
    pipeline.flush()
    assert pipeline.rows("weight", "deleted_at") == [(None,), (None,)]
    pipeline.page(pipeline.next_page(), [])  # the last page (empty), flushed an hour later
    pipeline.flush()
    assert pipeline.rows("weight", "deleted_at") == [(None,), (DAY1 + timedelta(days=1),)]


def test_replaying_old_pages_neither_resurrects_nor_deletes(pipeline):
    old = pipeline.page(window(1, 4), [weight(1, 2), weight(2, 3)])
    pipeline.flush()
    pipeline.now = DAY1 + timedelta(days=1)
    new = pipeline.page(window(1, 4), [weight(1, 2)])
    pipeline.flush()
    before = pipeline.rows("weight", "data_point_name", "deleted_at", "fetched_at")
    pipeline.now = DAY1 + timedelta(days=2)
    for name in (old, new, old):
        pipeline.replay(name)
        pipeline.flush()
    assert pipeline.rows("weight", "data_point_name", "deleted_at", "fetched_at") == before
    assert before[1][1] == DAY1 + timedelta(days=1)


def test_a_point_a_later_fetch_returns_again_is_no_longer_deleted(pipeline):
    pipeline.page(window(1, 4), [weight(1, 2), weight(2, 3)])
    pipeline.flush()
    pipeline.now = DAY1 + timedelta(days=1)
    pipeline.page(window(1, 4), [weight(1, 2)])
    pipeline.flush()
    pipeline.now = DAY1 + timedelta(days=2)
    pipeline.page(window(3, 4), [weight(2, 3)])  # it was back (an edit restored it): a newer fetch saw it
    pipeline.flush()
    assert pipeline.rows("weight", "deleted_at") == [(None,), (None,)]


def test_a_row_seen_after_the_refetch_began_is_not_deleted_by_it(pipeline):
    pipeline.page(window(1, 4), [weight(1, 2)], fetched_at=DAY1)
    pipeline.page(window(3, 4), [weight(2, 3)], fetched_at=DAY1 + timedelta(minutes=5))  # a webhook re-read
    pipeline.flush()
    assert pipeline.rows("weight", "deleted_at") == [(None,), (None,)]


def test_other_participants_and_other_tables_are_untouched(pipeline):
    pipeline.page(window(1, 4), [weight(1, 2)])
    pipeline.page(window(1, 4, participant="user2"), [weight(1, 2)])
    pipeline.page(window(1, 4, "sleep"), [night(7, 2)])
    pipeline.flush()
    pipeline.now = DAY1 + timedelta(days=1)
    pipeline.page(window(1, 4), [])  # user1 deleted their only weight in the window
    pipeline.flush()
    assert pipeline.warehouse.query("SELECT participant_id, deleted_at IS NOT NULL FROM weight ORDER BY 1") == [
        ("user1", True), ("user2", False)]
    assert pipeline.rows("sleep_sessions", "deleted_at") == [(None,)]


def test_deleted_rows_stay_in_the_tables_and_leave_the_views(pipeline):
    pipeline.page(window(1, 4, "sleep"), [night(7, 2), night(8, 3)])
    pipeline.flush()
    assert len(pipeline.rows("sleep_quality", "data_point_name")) == 2
    pipeline.now = DAY1 + timedelta(days=1)
    pipeline.page(window(1, 4, "sleep"), [night(7, 2)])  # a mis-detected night the participant removed
    pipeline.flush()
    assert len(pipeline.rows("sleep_sessions", "data_point_name")) == 2
    assert [n.rsplit("/", 1)[1] for (n,) in pipeline.rows("sleep_quality", "data_point_name")] == ["7"]
    summary = dict(pipeline.warehouse.query("SELECT civil_date, sleep_sessions FROM daily_summary"))
    assert summary == {date(2026, 11, 2): 1}


def test_tracked_tables_carry_deleted_at_and_untracked_ones_do_not():
    assert "deleted_at" in table_spec("weight", "list").column_names
    assert "deleted_at" in table_spec("exercise", "list").column_names
    assert "deleted_at" not in table_spec("steps", "reconcile").column_names


def test_a_deleted_weight_leaves_the_daily_weight(pipeline):
    pipeline.page(window(2, 3), [weight(1, 2, 70000.0), {**weight(2, 2, 90000.0), "weight": {
        "sampleTime": {"physicalTime": "2026-11-02T18:00:00Z", "utcOffset": "3600s"}, "weightGrams": 90000.0}}])
    pipeline.flush()
    assert pipeline.rows("daily_summary", "weight_kg") == [(80.0,)]
    pipeline.now = DAY1 + timedelta(days=1)
    pipeline.page(window(2, 3), [weight(1, 2, 70000.0)])  # the wrong 90 kg log was deleted
    pipeline.flush()
    assert pipeline.rows("daily_summary", "weight_kg") == [(70.0,)]
    assert len(pipeline.rows("weight", "weight_grams")) == 2
