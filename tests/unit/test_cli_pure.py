"""The fitbit-pipeline command's pure parts: a day's state over its data types, pseudonyms, run triggers, plans."""

import argparse
import io
import time
from types import SimpleNamespace
from datetime import UTC, date, datetime

import pytest

from fitbit.messages import Unit
from tools.cli.common import CliError, Context, civil_date, participant_list
from tools.cli.export import pseudonym
from tools.cli.run import _progress, describe_plan, trigger_for
from tools.local_runtime import RunStats
from tools.cli.status import day_state


def test_a_day_is_complete_only_when_every_type_answered_and_one_had_data():
    assert day_state({"complete", "no-data"}) == "complete"
    assert day_state({"no-data"}) == "no-data"
    assert day_state({"complete", "failed"}) == "partial"
    assert day_state({"failed", "no-data"}) == "failed"
    assert day_state({"complete", "pending"}) == "pending"
    assert day_state(set()) == "missing"  # never planned: not fetched, which is not no-data


def test_pseudonyms_are_stable_per_key_and_differ_between_keys_and_participants():
    key = b"k" * 32
    assert pseudonym(key, "user3") == pseudonym(key, "user3")
    assert pseudonym(key, "user3") != pseudonym(key, "user4")
    assert pseudonym(key, "user3") != pseudonym(b"x" * 32, "user3")
    assert "user3" not in pseudonym(key, "user3")


def _args(**kw):
    return argparse.Namespace(**{"start": None, "end": None, "participants": None, **kw})


def _ctx(tmp_path):
    return Context(tmp_path, now=datetime(2026, 11, 30, 8, tzinfo=UTC))


def test_the_daily_run_ends_yesterday_and_a_backfill_spans_from_to(tmp_path):
    daily = trigger_for(_args(), _ctx(tmp_path), 3)
    assert (daily.reason, daily.date, daily.days) == ("daily", None, 3)
    backfill = trigger_for(_args(start=date(2026, 10, 1)), _ctx(tmp_path), 3)
    assert (backfill.reason, backfill.date, backfill.days) == ("backfill", date(2026, 11, 29), 60)


@pytest.mark.parametrize("kw, message", [
    ({"start": date(2026, 11, 5), "end": date(2026, 11, 1)}, "after"),
    ({"start": date(2026, 11, 1), "end": date(2026, 11, 30)}, "not over yet"),
    ({"end": date(2026, 11, 1)}, "needs --from"),
])
def test_bad_run_windows_are_usage_errors(tmp_path, kw, message):
    with pytest.raises(CliError, match=message) as caught:
        trigger_for(_args(**kw), _ctx(tmp_path), 3)
    assert caught.value.code == 2


def test_the_plan_counts_requests_per_user_against_the_quota():
    units = [Unit(f"u{i % 2}", "steps", "reconcile", date(2026, 11, 1), date(2026, 11, 2), "daily")
             for i in range(600)]
    text = describe_plan(units, ["u0", "u1"])
    assert "600 units" in text and ">= 60 s at the quota" in text  # 300 per user at 300/min


def test_argument_types_reject_bad_dates_and_ids():
    with pytest.raises(argparse.ArgumentTypeError):
        civil_date("2026-13-01")
    with pytest.raises(argparse.ArgumentTypeError):
        participant_list("user1,bad id")
    assert participant_list("user1, user2") == ["user1", "user2"]


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_is_a_bar_on_a_terminal_and_one_plain_line_otherwise(tmp_path):
    stats = RunStats()
    runtime = SimpleNamespace(stats=stats)
    terminal, log = _Terminal(), io.StringIO()
    with _progress(runtime, 10, Context(tmp_path, out=terminal)):
        stats.delivered, stats.deferred = 7, 2
        time.sleep(0.5)
    with _progress(runtime, 10, Context(tmp_path, out=log)):
        pass
    assert "deliveries" in terminal.getvalue() and "7/22" in terminal.getvalue() and "deferred 2" in terminal.getvalue()
    assert log.getvalue() == "fetching and loading...\n"


@pytest.mark.parametrize("command, instead", [
    (["run"], "gcloud scheduler jobs run fitbit-daily-run"),
    (["run", "--from", "2026-11-01"], "RunTrigger published to the units topic"),
    (["schedule"], "Cloud Scheduler jobs that `python scripts/provision.py` creates"),
    (["authorise", "p1"], "scripts/authorise.py --participant ID --gcp-project PROJECT"),
])
def test_commands_that_only_run_locally_say_what_to_do_on_gcp_and_exit_2(command, instead, tmp_path, monkeypatch):
    from tools.cli.main import main

    monkeypatch.setenv("GCP_PROJECT", "demo-project")
    out, err = io.StringIO(), io.StringIO()
    assert main(["--runtime", "gcp", "--state-dir", str(tmp_path / "s"), *command], out=out, err=err) == 2
    assert "does not run with --runtime gcp" in err.getvalue() and instead in err.getvalue()
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("command", [["status"], ["export", "--out", "x"], ["withdraw", "p1", "--yes"], ["doctor"]])
def test_gcp_without_a_project_is_a_configuration_error_naming_the_variable(command, monkeypatch):
    from tools.cli.main import main

    monkeypatch.delenv("GCP_PROJECT", raising=False)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    out, err = io.StringIO(), io.StringIO()
    code = main(["--runtime", "gcp", *command], out=out, err=err)
    assert (code, "GCP_PROJECT" in err.getvalue() + out.getvalue()) == ((1, True) if command == ["doctor"] else (2, True))


def test_run_local_arguments_translate_to_the_one_run_command(monkeypatch):
    from tools.run_local import _parser, command_for

    monkeypatch.setenv("FITBIT_STATE_DIR", "/s")
    backfill = command_for(_parser().parse_args(["--date", "2026-11-05", "--days", "3", "--reason", "backfill"]), 3)
    assert backfill == ["--state-dir", "/s", "run", "--max-wait", "600.0", "--run-id", "backfill-2026-11-05-3d",
                        "--from", "2026-11-03", "--to", "2026-11-05"]
    daily = command_for(_parser().parse_args(["--state-dir", "/t", "--stats-json", "f.json"]), 3)
    assert daily[:6] == ["--state-dir", "/t", "run", "--max-wait", "600.0", "--stats-json"]
    assert daily[7] == "--run-id" and daily[8].startswith("daily-") and daily[8].endswith("-3d") and len(daily) == 9
    assert command_for(_parser().parse_args(["--reprocess", "raw/a", "raw/b"]), 3)[-3:] == ["--reprocess", "raw/a",
                                                                                             "raw/b"]
    assert command_for(_parser().parse_args(["--resume"]), 3)[-1] == "--resume"
    resumed = command_for(_parser().parse_args(["--resume", "--concurrency", "4"]), 3)
    assert resumed[-3:] == ["--concurrency", "4", "--resume"]
