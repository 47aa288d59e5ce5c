"""Cloud Build's post-deploy step runs provisioning with the Cloud SDK image's bare python3: no site-packages."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_plan_and_the_post_deploy_phase_load_without_any_third_party_package():
    """Cloud Build runs the post-deploy phase with the Cloud SDK image's bare python3."""
    probe = ("import sys; sys.argv = ['provision', '--project', 'demo-project', '--dry-run']\n"
             "import runpy; runpy.run_path('scripts/provision.py', run_name='__main__')")
    done = subprocess.run([sys.executable, "-S", "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fitbit-daily-run" in done.stdout
