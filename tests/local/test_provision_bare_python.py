"""Cloud Build's post-deploy step runs provisioning with gcloud's bundled python3 and no site-packages, maybe
without a tz database: checked in subprocesses started with ``python -S`` (so not in the unit tier)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


# --- the time zone without a tz database (the post-deploy image may have none) -------------------------------


def _dry_run(python: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    probe = ("import sys; sys.argv = ['provision', '--project', 'demo-project', '--phase', 'post-deploy', "
             f"'--dry-run', *{list(extra)!r}]\n"
             "import runpy; runpy.run_path('scripts/provision.py', run_name='__main__')")
    return subprocess.run([python, "-S", "-c", probe], cwd=ROOT, capture_output=True, text=True, env=env)


def test_the_plan_and_the_post_deploy_phase_load_without_any_third_party_package():
    """Cloud Build runs the post-deploy phase with gcloud's bundled Python and nothing installed."""
    done = _dry_run(sys.executable)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trigger-subscription" in done.stdout and "fitbit-extract" in done.stdout


def test_the_post_deploy_phase_runs_where_there_is_no_tz_database_and_a_bad_zone_is_still_refused(tmp_path):
    no_tz = {"PYTHONTZPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    check = subprocess.run([sys.executable, "-S", "-c", "import zoneinfo; zoneinfo.ZoneInfo('UTC')"],
                           env=no_tz, capture_output=True, text=True)
    assert check.returncode != 0, "the probe must really have no tz database"
    done = _dry_run(sys.executable, "--time-zone", "Europe/London", env=no_tz)
    assert done.returncode == 0, done.stderr[-2000:]
    refused = _dry_run(sys.executable, "--time-zone", "not a zone", env=no_tz)
    assert refused.returncode == 2 and "time_zone" in refused.stderr


def _gcloud_python() -> str | None:
    """The Python bundled with the gcloud on this machine (what the post-deploy step runs on), if any."""
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        return None
    for root in (Path(gcloud).resolve().parent.parent, Path("/usr/lib/google-cloud-sdk")):
        python = root / "platform" / "bundledpythonunix" / "bin" / "python3"
        if python.is_file():
            return str(python)
    return None


@pytest.mark.skipif(_gcloud_python() is None, reason="no gcloud with a bundled Python on this machine")
def test_the_post_deploy_phase_runs_on_the_python_bundled_with_gcloud(tmp_path):
    done = _dry_run(_gcloud_python(), "--time-zone", "Europe/London", env={"PYTHONTZPATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
