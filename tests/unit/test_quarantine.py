"""One bad staged batch never blocks the rest (issue #11), and the NDJSON writer only writes JSON.

A value the warehouse refuses (here an INT64 one past its maximum, as a parser bug would stage it) used
to make the flush raise, leaving that table and every table after it staged for ever while
processing_log said ``loaded``.
"""

import json
import math
from datetime import date, datetime, timezone

import pytest

from fitbit.catalogue import PROCESSING_LOG_TABLE, table_named, table_spec
from fitbit.jobs import flush as flush_job
from fitbit.jobs.transform import TransformContext
from fitbit.messages import Unit, encode
from helper.staging import ndjson, refusal_reason
from helper.storage import LocalRawStore

STEPS = table_spec("steps", "dailyRollUp")
TOO_BIG = 2**63  # one past INT64's maximum


def _steps(obj, steps, day="2026-11-01"):
    return {"participant_id": "user1", "civil_date": day, "steps": steps, "raw_object": obj, "parser_version": "t",
            "fetched_at": "2026-11-02T00:00:00Z", "loaded_at": "2026-11-02T00:00:00Z"}


def _log_row(obj):
    return {"participant_id": "user1", "civil_date": "2026-11-01", "raw_object": obj, "data_type": "steps",
            "method": "dailyRollUp", "status": "loaded", "error_class": None, "fix": None,
            "row_counts": {"steps_daily": 1}, "attempt": 0, "parser_version": "t",
            "processed_at": "2026-11-02T00:00:00Z"}


def test_a_refused_batch_is_set_aside_and_every_other_batch_and_table_still_merges(warehouse, tmp_path):
    sleep = table_named("daily_resting_heart_rate")
    warehouse.stage(STEPS, [_steps("raw/a", 100, "2026-11-01")], "raw/a")
    warehouse.stage(STEPS, [_steps("raw/bad", TOO_BIG, "2026-11-02")], "raw/bad")
    warehouse.stage(STEPS, [_steps("raw/c", 300, "2026-11-03")], "raw/c")
    warehouse.stage(sleep, [{"participant_id": "user1", "civil_date": "2026-11-01", "resting_heart_rate": 55,
                             "raw_object": "raw/r", "parser_version": "t", "fetched_at": "2026-11-02T00:00:00Z"}],
                    "raw/r")
    result = warehouse.flush()
    assert result == {"steps_daily": 2, "daily_resting_heart_rate": 1}
    assert [r[0] for r in warehouse.query("SELECT steps FROM steps_daily ORDER BY civil_date")] == [100, 300]
    (q,) = result.quarantined
    assert (q.table, q.batch_id, q.rows, q.participant) == ("steps_daily", "raw/bad", 1, "user1")
    assert q.reason.startswith("InvalidInputException") and str(TOO_BIG) not in q.reason
    kept = tmp_path / "quarantine" / "steps_daily" / "raw_bad.ndjson"
    assert q.location == str(kept) and json.loads(kept.read_text())["steps"] == TOO_BIG
    assert json.loads((kept.parent / "raw_bad.reason.json").read_text())["reason"] == q.reason
    assert not list((tmp_path / "staging").rglob("*.ndjson")), "nothing left to block the next flush"
    assert warehouse.flush() == {} and result.blocked == {}


def test_a_table_that_fails_for_another_reason_is_reported_blocked_and_the_others_merge(warehouse, tmp_path):
    warehouse.stage(STEPS, [_steps("raw/a", 100)], "raw/a")
    stray = tmp_path / "staging" / "no_such_table"
    stray.mkdir(parents=True)
    (stray / "x.ndjson").write_text("{}\n")
    result = warehouse.flush()
    assert result == {"steps_daily": 1} and result.blocked == {"no_such_table": "KeyError"}
    assert (stray / "x.ndjson").exists(), "kept staged for a later flush"


def test_the_flush_job_records_a_quarantined_batch_in_processing_log_not_loaded(warehouse, tmp_path):
    store = LocalRawStore(tmp_path / "raw", "fitbit-raw")
    unit = Unit("user1", "steps", "dailyRollUp", date(2026, 11, 1), date(2026, 11, 2), "backfill")
    store.create("raw/bad", b"{}", {"unit": encode(unit).decode(), "fetched_at": "2026-11-02T00:00:00Z"},
                 "application/json")
    ctx = TransformContext(store=store, warehouse=warehouse, queue=None,  # type: ignore[arg-type]
                           clock=lambda: datetime(2026, 11, 2, 1, tzinfo=timezone.utc))
    warehouse.stage(STEPS, [_steps("raw/bad", TOO_BIG)], "raw/bad")
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/bad")], "raw/bad")
    warehouse.stage(STEPS, [_steps("raw/good", 5, "2026-11-03")], "raw/good")
    warehouse.stage(PROCESSING_LOG_TABLE, [_log_row("raw/good")], "raw/good")
    result = flush_job.flush(ctx)
    assert len(result.quarantined) == 1
    rows = dict(warehouse.query("SELECT raw_object, status FROM processing_log"))
    assert rows == {"raw/bad": "quarantined", "raw/good": "loaded"}
    (error_class, fix, method, counts), = warehouse.query(
        "SELECT error_class, fix, method, TO_JSON_STRING(row_counts) FROM processing_log WHERE raw_object = 'raw/bad'")
    assert error_class == "WarehouseRejected" and method == "dailyRollUp"
    assert "quarantine/steps_daily/raw_bad.ndjson" in fix and "--reprocess" in fix
    assert json.loads(counts) == {"steps_daily": 1}


def test_the_ndjson_writer_writes_null_for_nan_and_infinity_and_counts_them():
    rows = [{"a": 1.5, "b": "NaN"}, {"a": math.nan, "b": {"nested": [math.inf, 2.0, -math.inf]}}]
    body, nulled = ndjson(rows)

    def refuse(token):
        raise AssertionError(f"{token} is not JSON")

    parsed = [json.loads(line, parse_constant=refuse) for line in body.decode().splitlines()]
    assert parsed == [{"a": 1.5, "b": "NaN"}, {"a": None, "b": {"nested": [None, 2.0, None]}}]
    assert nulled == 3


def test_staging_counts_the_values_it_wrote_as_null(warehouse, tmp_path):
    table = table_named("daily_heart_rate_variability")
    row = {c: None for c in table.column_names}
    row.update(participant_id="user1", civil_date="2026-11-01", raw_object="raw/h", parser_version="t",
               fetched_at="2026-11-02T00:00:00Z")
    floats = [c.name for c in table.columns if c.type == "FLOAT64"]
    row[floats[0]] = math.nan
    warehouse.stage(table, [row], "raw/h")
    assert warehouse.nulled == 1
    assert "NaN" not in (tmp_path / "staging" / table.name / "raw_h.ndjson").read_text()
    assert warehouse.flush() == {table.name: 1}


def test_a_refusal_reason_names_where_never_the_value():
    class ConversionError(Exception):
        pass

    text = 'JSON transform error in file "x", in line 3: Failed to cast value to numerical: 99999999999999999999'
    assert refusal_reason(ConversionError(text)) == "ConversionError at line 3"
    bq = "Error while reading data, error message: JSON parsing error in row starting at position 120: " \
         "Could not convert value 'string_value: \"abc\"' to integer. Field: steps; Value: abc"
    assert refusal_reason(ConversionError(bq)) == "ConversionError at field steps, byte 120"


def test_a_quarantined_batch_without_its_raw_object_is_still_recorded_from_its_rows(warehouse, tmp_path):
    ctx = TransformContext(store=LocalRawStore(tmp_path / "raw", "fitbit-raw"), warehouse=warehouse,
                           queue=None, clock=lambda: datetime(2026, 11, 2, 1, tzinfo=timezone.utc))  # type: ignore[arg-type]
    warehouse.stage(STEPS, [_steps("chaos/poison-1", TOO_BIG, "2000-01-01")], "chaos/poison-1")
    assert len(flush_job.flush(ctx).quarantined) == 1
    assert warehouse.query("SELECT participant_id, civil_date, data_type, status FROM processing_log") == [
        ("user1", date(2000, 1, 1), "unknown", "quarantined")]


def test_the_scheduled_flush_asks_for_a_redelivery_when_a_table_is_blocked(warehouse, tmp_path):
    from fitbit.errors import TransientError
    from fitbit.jobs.transform import handle_object
    from fitbit.messages import StoredObject

    ctx = TransformContext(store=LocalRawStore(tmp_path / "raw", "fitbit-raw"), warehouse=warehouse,
                           queue=None, clock=lambda: datetime.now(timezone.utc))  # type: ignore[arg-type]
    warehouse.stage(STEPS, [_steps("raw/a", 1)], "raw/a")
    stray = tmp_path / "staging" / "no_such_table"
    stray.mkdir(parents=True)
    (stray / "x.ndjson").write_text("{}\n")
    with pytest.raises(TransientError, match="no_such_table"):
        handle_object(StoredObject("fitbit-raw", "control/flush-1.json", "1"), ctx)
    assert warehouse.query("SELECT steps FROM steps_daily") == [(1,)], "the other tables were merged first"


def test_a_refused_outcome_row_is_set_aside_without_recording_anything_about_it(warehouse, tmp_path):
    ctx = TransformContext(store=LocalRawStore(tmp_path / "raw", "fitbit-raw"), warehouse=warehouse,
                           queue=None, clock=lambda: datetime.now(timezone.utc))  # type: ignore[arg-type]
    warehouse.stage(PROCESSING_LOG_TABLE, [{**_log_row("raw/x"), "attempt": "not a number"}], "raw/x")
    result = flush_job.flush(ctx)
    assert [(q.table, q.batch_id) for q in result.quarantined] == [("processing_log", "raw/x")]
    assert warehouse.query("SELECT COUNT(*) FROM processing_log") == [(0,)]
    assert (tmp_path / "quarantine" / "processing_log" / "raw_x.ndjson").exists()
