"""The day ledger: each object's outcome per civil day, folded by the day_ledger view into one state per cell,
so that a day the API answered with nothing (no-data) never looks like a day nobody fetched (pending/absent)."""

from datetime import date, datetime, timedelta, timezone

from fitbit import ledger
from fitbit.catalogue import DAY_OUTCOMES_TABLE
from fitbit.messages import Unit
from helper.warehouse import DuckDbWarehouse

T0 = datetime(2026, 11, 6, 10, tzinfo=timezone.utc)
D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def _unit(data_type="steps", start=D1, end=date(2026, 11, 4), method="reconcile"):
    return Unit("user1", data_type, method, start, end, "daily")


def test_a_units_window_covers_each_civil_day_up_to_its_exclusive_end():
    assert ledger.unit_days(_unit()) == [D1, D2, D3]
    assert ledger.unit_days(_unit(end=None)) == [D1]
    assert ledger.unit_days(_unit(start=None, end=None)) == []


def test_an_answer_counts_its_rows_per_day_and_a_day_without_rows_is_empty():
    rows = [{"civil_date": "2026-11-01"}, {"civil_date": "2026-11-01"}, {"civil_date": "2026-11-03"}]
    out = ledger.outcome_rows(_unit(), "raw/o1", "loaded", rows, None, T0)
    assert [(r["civil_date"], r["outcome"], r["rows"]) for r in out] == [
        ("2026-11-01", "loaded", 2), ("2026-11-02", "empty", 0), ("2026-11-03", "loaded", 1)]


def test_a_failure_marks_every_day_of_the_window_with_its_error_class():
    out = ledger.outcome_rows(_unit(), "errors/x", "failed", [], "ReconsentNeeded", T0)
    assert {(r["outcome"], r["error_class"]) for r in out} == {("failed", "ReconsentNeeded")} and len(out) == 3


def test_account_reads_are_not_ledgered():
    account = Unit("user1", "paired-devices", "list", D1, D2, "daily")
    assert ledger.planned_rows([account], "control/plan-x", T0) == []
    assert ledger.outcome_rows(account, "raw/a", "loaded", [{"civil_date": "2026-11-01"}], None, T0) == []


def _ledger(tmp_path, batches):
    warehouse = DuckDbWarehouse(tmp_path / "w.duckdb", "fitbit", tmp_path / "staging")
    for name, rows in batches:
        warehouse.stage(DAY_OUTCOMES_TABLE, rows, name)
    warehouse.flush()
    got = warehouse.query("SELECT data_type, civil_date, state, error_class, refetch_pending FROM day_ledger "
                          "ORDER BY 1, 2")
    warehouse.close()
    return {(t, d.isoformat()): (s, e, p) for t, d, s, e, p in got}


def test_the_view_tells_complete_no_data_failed_partial_and_pending_apart(tmp_path):
    later = T0 + timedelta(hours=1)
    steps = _unit()
    sleep = _unit("sleep", method="list")
    hr = _unit("heart-rate", method="list")
    state = _ledger(tmp_path, [
        ("control/plan-a", ledger.planned_rows([steps, sleep, hr, _unit("weight", method="list")], "control/plan-a", T0)),
        ("raw/steps", ledger.outcome_rows(steps, "raw/steps", "loaded", [{"civil_date": "2026-11-01"}], None, T0)),
        ("raw/sleep", ledger.outcome_rows(sleep, "raw/sleep", "loaded", [{"civil_date": "2026-11-02"}], None, T0)),
        ("errors/sleep-p2", ledger.outcome_rows(sleep, "errors/sleep-p2", "failed", [], "ServerError", later)),
        ("errors/hr", ledger.outcome_rows(hr, "errors/hr", "failed", [], "ScopeMissing", T0)),
    ])
    assert state[("steps", "2026-11-01")] == ("complete", None, False)
    assert state[("steps", "2026-11-02")] == ("no-data", None, False)  # answered, nothing worn
    assert state[("weight", "2026-11-02")] == ("pending", None, False)  # planned, never fetched
    assert state[("heart-rate", "2026-11-03")] == ("failed", "ScopeMissing", False)
    assert state[("sleep", "2026-11-02")] == ("partial", "ServerError", False)  # a later page failed
    assert ("steps", "2026-11-05") not in state  # never planned: absent, not no-data


def test_a_successful_refetch_after_a_failure_makes_the_day_complete_and_a_new_plan_is_flagged(tmp_path):
    steps = _unit(end=D2)
    state = _ledger(tmp_path, [
        ("errors/s", ledger.outcome_rows(steps, "errors/s", "failed", [], "ServerError", T0)),
        ("raw/s", ledger.outcome_rows(steps, "raw/s", "loaded", [{"civil_date": "2026-11-01"}], None,
                                      T0 + timedelta(hours=1))),
        ("control/plan-b", ledger.planned_rows([steps], "control/plan-b", T0 + timedelta(hours=2))),
    ])
    assert state[("steps", "2026-11-01")] == ("complete", None, True)
