"""Repository-root pytest setup: import paths and an isolated environment for every test.

Tests must not pick up a developer's cloud settings (GOOGLE_CLOUD_PROJECT, emulator hosts, our own
FITBIT_* variables): an autouse fixture removes them, as functions-framework's test suite does.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_AMBIENT = ("FITBIT_", "HEALTH_API_", "OAUTH_", "GCP_", "GOOGLE_CLOUD_PROJECT", "GOOGLE_APPLICATION_CREDENTIALS",
            "PUBSUB_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "BIGQUERY_EMULATOR_HOST", "RAW_BUCKET", "BQ_DATASET",
            "SECRETS_BACKEND", "WEBHOOK_")


@pytest.fixture(autouse=True)
def _isolate_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_AMBIENT) and name != "REQUIRE_EMULATORS":
            monkeypatch.delenv(name, raising=False)

# pytester runs an inner pytest session in process: tests/unit/test_purity_guard.py uses it to prove the
# unit tier's guard fails a test that opens a socket or starts a process.
pytest_plugins = ("pytester",)
