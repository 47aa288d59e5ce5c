"""``fitbit-pipeline --runtime gcp`` on the emulated Google Cloud stack, after a small run of the pipeline there.

The run: a 2-participant x 3-day backfill through Pub/Sub, the functions (served by functions-framework from
the source tree), fake-gcs-server and local-bigquery, then a flush. The command then reads its settings
from the environment as the functions do (``FITBIT_RUNTIME=gcp``, ``GCP_PROJECT``, the emulator hosts);
grants are in a 0600 file (``SECRETS_BACKEND=file``): Secret Manager has no emulator (``SecretManagerStore``,
delete included, is tested over its REST API in tests/local/test_secret_manager.py).

Checked through the official clients, never through the command: status lists both participants with their
ledgers; a Parquet export from BigQuery is readable by DuckDB; withdraw leaves 0 rows of the participant in
every BigQuery table, no raw object, staged row or webhook claim of theirs in any bucket, writes one
consent_log row, and a second withdraw changes nothing.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import duckdb
import pytest

from fitbit.catalogue import CONSENT_LOG_TABLE, all_tables, table_named
from fitbit.messages import RunTrigger
from fitbit.webhooks.dedup import CLAIMS_PREFIX, StoreClaims
from helper.storage import GcsRawStore
from tools import demo
from tools.cli.main import main
from tools.emulated_gcp import GcpPipeline, function_env
from tools.emulators import Stack

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

USERS, DAYS = 2, 3
END = demo.DEFAULT_END_DATE
PARTICIPANTS = ["user1", "user2"]
WITHDRAWN = "user2"


@pytest.fixture(scope="module")
def gcp(tmp_path_factory):
    """A stack of its own (the session's keeps push subscriptions to functions that have stopped), one run."""
    root = tmp_path_factory.mktemp("cli-gcp")
    state = demo.fresh_state_dir(root / "state")
    with Stack(root / "emulators") as stack:
        stack.start_emulators(notify_bucket="fitbit-raw")
        pipeline = GcpPipeline(stack, {})
        pipeline.prepare()
        with demo.simulator_process(USERS, DAYS, end_date=END, extra_args=("--sleep-processing-seconds", "0")) as sim:
            demo.enrol(state, sim.base_url, PARTICIPANTS)
            pipeline.function_env = function_env(state, sim.base_url, stack.project, SLEEP_REFETCH_DELAY_S="1")
            pipeline.start()
            pipeline.publish([RunTrigger(END, DAYS, "backfill", run_id="cli-history")])
            pipeline.wait_idle()
            pipeline.flush("cli")
        for name in ("relay", "transform_load", "extract"):
            pipeline.stop(name)
        env = {**pipeline.function_env, **stack.env}
        for gone in ("HEALTH_API_BASE_URL", "OAUTH_BASE_URL"):  # the simulator has stopped
            env.pop(gone)
        yield {"pipeline": pipeline, "stack": stack, "state": state, "env": env}


@pytest.fixture
def environ(gcp, monkeypatch):
    for name, value in gcp["env"].items():
        monkeypatch.setenv(name, value)
    return gcp


def run_main(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--runtime", "gcp", *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _count(gcp, sql: str) -> int:
    return int(gcp["pipeline"].warehouse().query(sql)[0][0])


def _totals(gcp) -> dict[str, int]:
    """Rows per table, in one query."""
    sql = " UNION ALL ".join(f"SELECT '{t.name}', COUNT(*) FROM {t.name}" for t in all_tables())
    return dict(gcp["pipeline"].warehouse().query(sql))


def test_status_json_lists_both_participants_with_their_ledgers_from_bigquery(environ):
    code, out, err = run_main("--state-dir", str(environ["state"]), "status", "--json", "--as-of", str(END),
                              "--days", str(DAYS + 2))
    assert code == 0, err
    body = json.loads(out)
    assert body["runtime"] == "gcp" and body["dataset"] == "fitbit"
    assert [p["participant"] for p in body["participants"]] == PARTICIPANTS
    for p in body["participants"]:
        assert {c["civil_date"] for c in p["ledger"]} == {str(END - timedelta(days=i)) for i in range(DAYS)}
        assert p["days"]["missing"] == 2 and p["grant"]["state"] == "ok" and p["queue"] is None
        assert {c["state"] for c in p["ledger"]} <= {"complete", "no-data", "partial", "failed", "pending"}
    assert "complete" in {c["state"] for p in body["participants"] for c in p["ledger"]}


def test_a_parquet_export_from_bigquery_writes_one_file_per_table_that_duckdb_reads(environ, tmp_path):
    out_dir = tmp_path / "export"
    code, out, err = run_main("export", "--format", "parquet", "--out", str(out_dir),
                              "--tables", "daily_summary,steps_daily,processing_log,day_ledger")
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["daily_summary.parquet", "day_ledger.parquet",
                                                         "processing_log.parquet", "steps_daily.parquet"]
    db = duckdb.connect()
    for name in ("steps_daily", "processing_log"):
        exported = db.execute(f"SELECT COUNT(*) FROM '{out_dir}/{name}.parquet'").fetchone()[0]
        assert exported == _count(environ, f"SELECT COUNT(*) FROM {name}") > 0
    total, people, first = db.execute(f"SELECT SUM(steps), COUNT(DISTINCT participant_id), MIN(civil_date) "
                                      f"FROM '{out_dir}/steps_daily.parquet'").fetchone()
    assert total == _count(environ, "SELECT SUM(steps) FROM steps_daily") and people == USERS
    assert str(first) == str(END - timedelta(days=DAYS - 1))  # a DATE, not text
    assert f"steps_daily: {_count(environ, 'SELECT COUNT(*) FROM steps_daily')} rows" in out


def test_withdraw_purges_bigquery_and_every_bucket_writes_one_audit_row_and_is_idempotent(environ):
    stack, pipeline = environ["stack"], environ["pipeline"]
    warehouse = pipeline.warehouse()
    with stack.client_env():
        raw = GcsRawStore("fitbit-raw", stack.project)
        claims = GcsRawStore("fitbit-raw-claims", stack.project)
        StoreClaims(claims).claim_many([f"{WITHDRAWN}/steps/{END}/w1", f"user1/steps/{END}/w1"])
        warehouse.stage(table_named("steps_daily"), [{"participant_id": WITHDRAWN, "civil_date": str(END), "steps": 1,
                        "raw_object": f"raw/{WITHDRAWN}/staged.json", "parser_version": "t",
                        "fetched_at": "2026-11-06T00:00:00Z", "loaded_at": "2026-11-06T00:00:00Z"}],
                        f"raw/{WITHDRAWN}/staged.json")
        assert list(raw.list_objects(f"raw/{WITHDRAWN}/"))
    assert _count(environ, f"SELECT COUNT(*) FROM steps_daily WHERE participant_id = '{WITHDRAWN}'") > 0
    code, out, err = run_main("--state-dir", str(environ["state"]), "withdraw", WITHDRAWN, "--yes")
    assert code == 0, err
    assert "grant unreachable" in out and "myaccount.google.com" in err  # the simulator is gone: by hand
    counts = json.loads(out.split("; ", 2)[2])
    assert counts["secret_deleted"] is True and counts["claims"] == 1 and counts["staged_rows"] == 1
    assert counts["raw_objects"] > 0 and counts["rows"]["steps_daily"] > 0
    for table in all_tables():
        if table is not CONSENT_LOG_TABLE:
            assert _count(environ, f"SELECT COUNT(*) FROM {table.name} WHERE participant_id = '{WITHDRAWN}'") == 0
    assert _count(environ, "SELECT COUNT(*) FROM steps_daily WHERE participant_id = 'user1'") > 0
    with stack.client_env():
        for prefix in (f"raw/{WITHDRAWN}/", f"errors/{WITHDRAWN}/"):
            assert list(raw.list_objects(prefix)) == []
        assert list(claims.list_objects(f"{CLAIMS_PREFIX}{WITHDRAWN}/")) == []
        assert len(list(claims.list_objects(f"{CLAIMS_PREFIX}user1/"))) == 1
    assert "participant-user2" not in json.loads((environ["state"] / "secrets.json").read_text())
    log = warehouse.query(f"SELECT action, revocation FROM consent_log WHERE participant_id = '{WITHDRAWN}'")
    assert log == [("withdraw", "unreachable")]
    before = _totals(environ)
    again = run_main("--state-dir", str(environ["state"]), "withdraw", WITHDRAWN, "--yes")
    assert again[0] == 0 and "nothing to change" in again[1], again[2]
    assert _totals(environ) == before


def test_doctor_checks_the_dataset_and_the_bucket(environ):
    code, out, _ = run_main("--state-dir", str(environ["state"]), "--api-base-url", "http://127.0.0.1:9/", "doctor")
    assert code == 1  # the API (the stopped simulator) is unreachable
    assert "ok    schema:" in out and "ok    bucket: gs://fitbit-raw answers" in out and "fail  api:" in out
    assert "disk:" not in out and "state-dir:" not in out


@pytest.mark.parametrize("argv, message", [
    (["withdraw", "nobody", "--yes"], "unknown participant nobody"),
    (["status", "--participants", "nobody"], "unknown participant"),
    (["export", "--out", "X", "--from", "2026-11-05", "--to", "2026-11-01"], "after"),
    (["export", "--out", "X", "--tables", "nothing"], "unknown table or view"),
])
def test_bad_input_on_gcp_is_exit_2_and_changes_nothing(environ, argv, message):
    before = _totals(environ)
    code, _, err = run_main("--state-dir", str(environ["state"]), *argv)
    assert code == 2 and message in err
    assert _totals(environ) == before
