"""Fixtures for the emulator tier: the emulated Google Cloud stack, started once per session.

Why skip-or-fail: a developer without Java or the gcloud SDK still gets a green unit and local tier,
with a skip that says what is missing; CI sets REQUIRE_EMULATORS=1, where a missing emulator is a
failure, never a silent skip. The fixture installs the emulators itself (idempotently), because CI
starts from a fresh machine.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from tools.emulators import EmulatorFailed, EmulatorMissing, Stack, install

RAW_BUCKET = "fitbit-raw"


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
