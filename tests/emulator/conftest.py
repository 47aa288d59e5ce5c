"""Fixtures for the emulator tier: the emulated Google Cloud stack and the served function archives, each
built once per session.

Why skip-or-fail: a developer without Java or the gcloud SDK still gets a green unit and local tier,
with a skip that says what is missing; CI sets REQUIRE_EMULATORS=1, where a missing emulator is a
failure, never a silent skip. The fixture installs the emulators itself (idempotently), because CI
starts from a fresh machine.

Why served archives: the end-to-end test runs the functions from the archives ``gcloud functions deploy``
would receive, each unzipped into an empty folder with a venv built from its own requirements.txt
(tools/served_archive.py). Building both venvs costs about 25 s, once per session; the time is printed
at the end of the run.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from helper.warehouse import BigQueryWarehouse
from tools.cloud_functions import FUNCTIONS
from tools.emulators import EmulatorFailed, EmulatorMissing, Stack, install
from tools.served_archive import ArchiveBuildFailed, ServedArchive, serve_archives

RAW_BUCKET = "fitbit-raw"
ROOT = Path(__file__).resolve().parents[2]
ARCHIVE_TIMINGS: dict[str, float] = {}


def unavailable(reason: str) -> None:
    """Skip with the reason, or fail when REQUIRE_EMULATORS=1 says the emulators must be there."""
    if os.environ.get("REQUIRE_EMULATORS", "0") == "1":
        pytest.fail(f"REQUIRE_EMULATORS=1 but the emulators are unavailable: {reason}", pytrace=False)
    pytest.skip(f"emulators unavailable ({reason}); run `python scripts/emulators.py install`")


@pytest.fixture(scope="session")
def emulator_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Pub/Sub, fake-gcs-server (notifying RAW_BUCKET's new objects on ``gcs-events``) and BigQuery."""
    try:
        install()
    except EmulatorMissing as exc:
        unavailable(str(exc))
    stack = Stack(tmp_path_factory.mktemp("emulators"))
    try:
        stack.start_emulators(notify_bucket=RAW_BUCKET)
    except (EmulatorMissing, EmulatorFailed) as exc:
        stack.close()
        unavailable(str(exc))
    try:
        yield stack
    finally:
        stack.close()


@pytest.fixture
def gcp_env(emulator_stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    """The emulator variables in os.environ for this test (the root conftest removes ambient ones)."""
    for name, value in emulator_stack.env.items():
        monkeypatch.setenv(name, value)
    return emulator_stack


@pytest.fixture(scope="session")
def served_archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ServedArchive]:
    """Every declared function's archive, built as the build step builds it, unzipped and given a clean venv."""
    from scripts import create_cloud_function_zip as packaging

    work = tmp_path_factory.mktemp("archives")
    pins = packaging.read_pins(ROOT / "requirements.txt")
    archives = {f: packaging.build_archive(f, work / "dist", pins) for f in FUNCTIONS}
    started = time.monotonic()
    try:
        served = serve_archives(archives, work)
    except ArchiveBuildFailed as exc:
        unavailable(str(exc))
    ARCHIVE_TIMINGS.update({f"venv {name}": s.build_s for name, s in served.items()})
    ARCHIVE_TIMINGS["venvs, built at the same time"] = time.monotonic() - started
    return served


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ARCHIVE_TIMINGS:
        terminalreporter.write_sep("-", "served archives")
        for what, seconds in ARCHIVE_TIMINGS.items():
            terminalreporter.write_line(f"{what}: {seconds:.1f} s")


@pytest.fixture(scope="module")
def warehouse(emulator_stack):
    """One dataset (its 32 tables cost seconds to create on the emulator) and a staging bucket for this module;
    every test uses raw_object names of its own."""
    suffix = uuid.uuid4().hex[:8]
    emulator_stack.ensure_buckets([f"staging-{suffix}"])
    with emulator_stack.client_env():
        wh = BigQueryWarehouse(emulator_stack.project, f"ds_{suffix}", f"staging-{suffix}",
                               endpoint=emulator_stack.env["BIGQUERY_EMULATOR_HOST"])
        wh._clients()  # built while the emulator variables are set
    wh.ensure_schema()
    return wh
