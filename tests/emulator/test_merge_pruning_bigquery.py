"""The partition-pruned MERGE still upserts exactly, on the emulated BigQuery (issue #14, item 4).

The MERGE only looks at the target's partitions for the staged days (helper/ddl.py). These tests load ten
days, then re-fetch some of them, re-date a row whose key does not hold its date (a re-fetch after a time
zone change gives the same instant another civil day) and replay old batches: every key stays one row,
newer values win, the moved row is moved and not duplicated, and a replay changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from fitbit.catalogue import table_named

pytestmark = pytest.mark.emulator
INTRADAY, DAILY = table_named("steps_intraday"), table_named("steps_daily")
FIRST = date(2026, 11, 1)
DAYS = [FIRST + timedelta(days=i) for i in range(10)]


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _minute(participant: str, day: date, steps: int, fetched: str, offset_s: int = 0) -> dict:
    """One 1-minute interval at 12:00 UTC of ``day``; its civil date follows the offset."""
    start = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)
    civil = (start + timedelta(seconds=offset_s)).replace(tzinfo=None)
    return {"participant_id": participant, "civil_date": civil.date().isoformat(), "start_time": _stamp(start),
            "end_time": _stamp(start + timedelta(minutes=1)), "start_utc_offset_s": offset_s,
            "end_utc_offset_s": offset_s, "civil_start_time": civil.isoformat(),
            "civil_end_time": (civil + timedelta(minutes=1)).isoformat(), "steps": steps,
            "raw_object": f"raw/{participant}/{day}/{fetched}", "parser_version": "1", "fetched_at": fetched,
            "loaded_at": fetched}


def _daily(participant: str, day: date, steps: int, fetched: str) -> dict:
    return {"participant_id": participant, "civil_date": day.isoformat(), "steps": steps,
            "raw_object": f"raw/{participant}/{day}/{fetched}", "parser_version": "1", "fetched_at": fetched,
            "loaded_at": fetched}


def _snapshot(warehouse, table: str, participant: str) -> list[tuple]:
    return warehouse.query(f"SELECT * FROM {table} WHERE participant_id = '{participant}' ORDER BY start_time")


def test_a_pruned_merge_upserts_each_key_once_across_days_and_moves_a_redated_row(warehouse):
    who, first, second = "prune-a", "2026-11-11T01:00:00Z", "2026-11-12T01:00:00Z"
    warehouse.stage(INTRADAY, [_minute(who, d, 100 + i, first) for i, d in enumerate(DAYS)], "prune-a-1")
    warehouse.stage(DAILY, [_daily(who, d, 1000 + i, first) for i, d in enumerate(DAYS)], "prune-a-1")
    assert warehouse.flush() == {INTRADAY.name: 10, DAILY.name: 10}

    # The daily run's re-read of the last three days: new values on two, one re-dated by a +14 h offset
    # (the same instant, 12:00 UTC, is 02:00 the next civil day), one unchanged.
    reread = [_minute(who, DAYS[7], 999, second), _minute(who, DAYS[8], 108, second),
              _minute(who, DAYS[9], 109, second, offset_s=14 * 3600)]
    warehouse.stage(INTRADAY, reread, "prune-a-2")
    warehouse.stage(DAILY, [_daily(who, DAYS[9], 5555, second)], "prune-a-2")
    warehouse.flush()

    rows = warehouse.query(f"SELECT civil_date, start_time, steps, fetched_at FROM {INTRADAY.name} "
                           f"WHERE participant_id = '{who}' ORDER BY start_time")
    assert len(rows) == 10 and len({r[1] for r in rows}) == 10, "one row per key, none duplicated"
    by_start = {r[1].date(): r for r in rows}
    assert by_start[DAYS[7]][2] == 999 and by_start[DAYS[7]][3].isoformat().startswith("2026-11-12")
    assert by_start[DAYS[8]][2:] == (108, datetime(2026, 11, 11, 1, tzinfo=timezone.utc)), "same values: untouched"
    assert by_start[DAYS[9]][0] == DAYS[9] + timedelta(days=1), "the re-dated row moved to its new day"
    assert [r[2] for r in rows[:7]] == [100 + i for i in range(7)], "days outside the range are left alone"
    daily = dict(warehouse.query(f"SELECT civil_date, steps FROM {DAILY.name} WHERE participant_id = '{who}'"))
    assert len(daily) == 10 and daily[DAYS[9]] == 5555 and daily[DAYS[0]] == 1000


def test_replaying_old_batches_across_the_range_changes_no_row(warehouse):
    who, first, second = "prune-b", "2026-11-11T01:00:00Z", "2026-11-12T01:00:00Z"
    original = [_minute(who, d, 200 + i, first) for i, d in enumerate(DAYS)]
    warehouse.stage(INTRADAY, original, "prune-b-1")
    warehouse.flush()
    warehouse.stage(INTRADAY, [_minute(who, DAYS[5], 555, second)], "prune-b-2")
    warehouse.flush()
    before = _snapshot(warehouse, INTRADAY.name, who)

    warehouse.stage(INTRADAY, original, "prune-b-1")  # the first batch again: older, across all ten days
    warehouse.stage(INTRADAY, [_minute(who, DAYS[5], 555, second)], "prune-b-2")  # the newer one again
    warehouse.flush()

    assert _snapshot(warehouse, INTRADAY.name, who) == before
    assert len(before) == 10 and sorted(r[INTRADAY.column_names.index("steps")] for r in before)[-1] == 555
