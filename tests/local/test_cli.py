"""The fitbit-pipeline command end to end: a run on the simulator through the installed console script, then
every subcommand on the state dir it left, with the simulator stopped (what `make demo` leaves behind).

The run itself is `fitbit-pipeline run --from/--to` in a subprocess (the console script pyproject.toml
declares); the read-only and purging commands run in process through ``main`` on a copy of the state dir,
so each test sees the same starting point.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from fitbit.catalogue import CONSENT_LOG_TABLE, all_tables
from tools import demo
from tools.cli.main import main

pytestmark = pytest.mark.slow

USERS, DAYS = 5, 3
END = demo.DEFAULT_END_DATE
START = END - timedelta(days=DAYS - 1)
PARTICIPANTS = [f"user{i}" for i in range(1, USERS + 1)]
EXE = Path(sys.executable).with_name("fitbit-pipeline")


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *argv], capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A state dir made by the console script's `run` on the simulator; user5 stopped collection (revoked live)."""
    state = demo.fresh_state_dir(tmp_path_factory.mktemp("cli") / "state")
    with demo.simulator_process(USERS, DAYS, end_date=END) as sim:
        demo.enrol(state, sim.base_url, PARTICIPANTS)
        urls = ("--state-dir", str(state), "--api-base-url", sim.base_url, "--oauth-base-url", sim.base_url)
        planned = cli(*urls, "run", "--from", str(START), "--to", str(END), "--plan")
        ran = cli(*urls, "run", "--from", str(START), "--to", str(END),
                  env={"SLEEP_REFETCH_DELAY_S": str(demo.SLEEP_PROCESSING_S)})
        doctor = cli(*urls, "doctor")
        stopped = cli(*urls, "withdraw", "user5", "--keep-data", "--yes")
    return state, planned, ran, stopped, doctor


@pytest.fixture
def state(pristine, tmp_path):
    copy = tmp_path / "state"
    shutil.copytree(pristine[0], copy)
    return copy


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _rows(state: Path, sql: str) -> list[tuple]:
    db = duckdb.connect(str(state / "warehouse.duckdb"), read_only=True)
    try:
        db.execute('SET schema = "fitbit"')
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_the_console_script_plans_runs_and_revokes_on_the_simulator(pristine):
    _, planned, ran, stopped, _ = pristine
    assert planned.returncode == 0 and "units" in planned.stdout and "at the quota" in planned.stdout
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert "fetching and loading" in ran.stdout and "run:" in ran.stdout  # not a terminal: plain lines
    assert stopped.returncode == 0 and "stop-collection; grant revoked" in stopped.stdout


def test_status_json_lists_every_participant_with_a_ledger_that_tells_no_data_from_pending(state):
    code, out, _ = run_main("--state-dir", str(state), "status", "--json", "--as-of", str(END), "--days", "5")
    body = json.loads(out)
    assert code == 0
    assert [p["participant"] for p in body["participants"]] == PARTICIPANTS
    for p in body["participants"]:
        days = {c["civil_date"] for c in p["ledger"]}
        assert days == {str(START + timedelta(days=i)) for i in range(DAYS)}
        assert p["days"]["missing"] == 5 - DAYS  # the two days before the backfill: never fetched
        for cell in p["ledger"]:
            assert cell["state"] in ("complete", "partial", "no-data", "failed", "pending")
            assert (cell["last_attempt_at"] is None) == (cell["state"] == "pending")
    states = {c["state"] for p in body["participants"] for c in p["ledger"]}
    assert {"complete", "no-data"} <= states
    grants = {p["participant"]: p["grant"]["state"] for p in body["participants"]}
    assert grants["user5"] == "none" and grants["user1"] == "ok"


def test_status_prints_one_line_per_participant(state):
    code, out, _ = run_main("--state-dir", str(state), "status", "--as-of", str(END))
    assert code == 0 and len([line for line in out.splitlines() if line.startswith("user")]) == USERS
    assert "last complete day 2026-11-0" in out


def test_parquet_export_writes_one_file_per_table_that_duckdb_reads(state, tmp_path):
    out_dir = tmp_path / "export"
    code, out, err = run_main("--state-dir", str(state), "export", "--format", "parquet", "--out", str(out_dir))
    assert code == 0, err
    files = sorted(p.stem for p in out_dir.glob("*.parquet"))
    assert set(files) >= {t.name for t in all_tables() if t is not CONSENT_LOG_TABLE}
    db = duckdb.connect()
    steps = db.execute(f"SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM '{out_dir}/daily_summary.parquet'")
    total, people = steps.fetchone()
    assert total > 0 and people == USERS


def test_pseudonymised_csv_export_is_stable_and_names_nobody(state, tmp_path, monkeypatch):
    monkeypatch.setenv("FITBIT_STUDY_KEY", "a-study-key-of-32-bytes-at-least!")
    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        code, _, err = run_main("--state-dir", str(state), "export", "--out", str(folder), "--pseudonymise",
                                "--participants", "user1,user2", "--from", str(END), "--to", str(END),
                                "--tables", "processing_log,daily_summary")
        assert code == 0, err
    text = (first / "processing_log.csv").read_text()
    assert text == (second / "processing_log.csv").read_text()
    assert "user1" not in text and "raw_object" not in text.splitlines()[0]
    ids = {row[0] for row in duckdb.connect().execute(
        f"SELECT DISTINCT participant_id FROM read_csv('{first}/daily_summary.csv')").fetchall()}
    assert len(ids) == 2 and all(i.startswith("p_") for i in ids)


def test_withdraw_purges_every_table_and_raw_object_and_a_second_run_changes_nothing(state):
    assert _rows(state, "SELECT COUNT(*) FROM steps_daily WHERE participant_id = 'user3'")[0][0] > 0
    code, out, err = run_main("--state-dir", str(state), "withdraw", "user3", "--yes")
    assert code == 0, err
    assert "grant unreachable" in out and "myaccount.google.com" in err  # the simulator is gone: by hand
    for table in all_tables():
        if table is not CONSENT_LOG_TABLE:
            assert _rows(state, f"SELECT COUNT(*) FROM {table.name} WHERE participant_id = 'user3'") == [(0,)]
    assert not list((state / "raw").glob("*/raw/user3")) and not list((state / "raw").glob("*/errors/user3"))
    assert not [p for p in (state / "raw" / "objects").rglob("*") if p.is_file() and b'"user3"' in p.read_bytes()]
    assert "participant-user3" not in json.loads((state / "secrets.json").read_text())
    log = _rows(state, "SELECT action, revocation, counts FROM consent_log WHERE participant_id = 'user3'")
    assert len(log) == 1 and log[0][:2] == ("withdraw", "unreachable")
    assert json.loads(log[0][2])["rows"]["steps_daily"] > 0
    before = {t.name: _rows(state, f"SELECT COUNT(*) FROM {t.name}") for t in all_tables()}
    again = run_main("--state-dir", str(state), "withdraw", "user3", "--yes")
    assert again[0] == 0 and "nothing to change" in again[1]
    assert {t.name: _rows(state, f"SELECT COUNT(*) FROM {t.name}") for t in all_tables()} == before


def test_report_and_schedule_write_what_they_say(state):
    code, out, _ = run_main("--state-dir", str(state), "report")
    assert code == 0 and (state / "report.html").stat().st_size > 1000
    code, out, _ = run_main("--state-dir", str(state), "schedule", "--at", "06:45")
    assert code == 0 and f"45 6 * * * {EXE}" in out and "OnCalendar=*-*-* 06:45:00" in out


def test_doctor_passes_on_a_healthy_setup_with_every_grant_refreshed(pristine):
    doctor = pristine[4]
    assert doctor.returncode == 0, doctor.stdout
    for participant in PARTICIPANTS:
        assert f"ok    grant:{participant}: refresh works" in doctor.stdout
        assert f"time-zone:{participant}:" in doctor.stdout
    assert "ok    api:" in doctor.stdout and "clock:" in doctor.stdout and "ok    schema:" in doctor.stdout


def test_doctor_reports_each_check_and_fails_when_the_api_is_gone(state):
    code, out, _ = run_main("--state-dir", str(state), "--api-base-url", "http://127.0.0.1:9/", "doctor")
    assert code == 1
    assert "fail  api:" in out and "ok    schema:" in out and "ok    oauth-client" in out and "disk:" in out


@pytest.mark.parametrize("argv, message", [
    (["status", "--participants", "nobody"], "unknown participant"),
    (["withdraw", "nobody", "--yes"], "unknown participant"),
    (["export", "--out", "X", "--participants", "nobody"], "unknown participant"),
    (["run", "--from", "2026-11-05", "--to", "2026-11-01"], "after"),
    (["export", "--out", "X", "--from", "2026-11-05", "--to", "2026-11-01"], "after"),
    (["run", "--from", "2026-13-01"], "not a date"),
    (["run", "--resume", "--concurrency", "0"], "at least 1"),
    (["withdraw", "bad id", "--yes"], "must be 1-200 characters"),
    (["schedule", "--at", "25:00"], "HH:MM"),
    (["export", "--out", "X", "--pseudonymise"], "study key"),
])
def test_bad_input_is_exit_2_with_a_message_and_changes_nothing(state, argv, message, capsys, monkeypatch):
    monkeypatch.delenv("FITBIT_STUDY_KEY", raising=False)
    before = sorted((p, p.stat().st_size) for p in state.rglob("*") if p.is_file())
    code, out, err = run_main("--state-dir", str(state), *argv)
    assert code == 2
    assert message in err + capsys.readouterr().err
    assert sorted((p, p.stat().st_size) for p in state.rglob("*") if p.is_file()) == before


@pytest.mark.parametrize("command", ["status", "run", "export --out X", "withdraw user1 --yes", "report", "doctor"])
def test_a_missing_state_dir_is_exit_2_and_is_not_created(tmp_path, command):
    missing = tmp_path / "nowhere"
    code, _, err = run_main("--state-dir", str(missing), *command.split())
    assert code == 2 and "no state dir" in err and not missing.exists()


def test_every_subcommand_has_help():
    for command in ("authorise", "run", "status", "doctor", "report", "export", "withdraw", "schedule"):
        done = cli(command, "--help")
        assert done.returncode == 0 and "usage: fitbit-pipeline" in done.stdout


def test_authorise_without_an_oauth_client_says_how_to_get_one(tmp_path):
    code, _, err = run_main("--state-dir", str(tmp_path / "s"), "authorise", "me")
    assert code == 2 and "Desktop OAuth client" in err and "--client-secrets" in err


def test_a_revoked_grant_makes_run_exit_3_and_status_name_the_command(tmp_path):
    state = demo.fresh_state_dir(tmp_path / "state")
    with demo.simulator_process(2, 1, end_date=END) as sim:
        demo.enrol(state, sim.base_url, ["user1", "user2"])
        grant = json.loads(json.loads((state / "secrets.json").read_text())["participant-user2"])
        requests.post(sim.base_url + "revoke", data={"token": grant["refresh_token"]}, timeout=10).raise_for_status()
        urls = ("--state-dir", str(state), "--api-base-url", sim.base_url, "--oauth-base-url", sim.base_url)
        ran = cli(*urls, "run", "--from", str(END), "--to", str(END), env={"SLEEP_REFETCH_DELAY_S": "1"})
    assert ran.returncode == 3, ran.stdout + ran.stderr[-2000:]
    assert "failed: ReconsentNeeded" in ran.stdout
    code, out, _ = run_main("--state-dir", str(state), "status", "--as-of", str(END), "--days", "1")
    assert code == 3
    assert "user2: grant re-consent needed: fitbit-pipeline authorise user2" in out
    assert "user1: grant ok" in out and "1 failed" in out.split("user2:")[1]
