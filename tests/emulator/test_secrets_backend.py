"""SECRETS_BACKEND: grants in a 0600 file on the gcp runtime, for the emulated stack only.

Secret Manager has no emulator, so the emulated stack keeps grants where the embedded default does;
SecretManagerStore itself is covered against a fake of its REST transport in tests/local/test_secret_manager.py.
"""

from __future__ import annotations

import pytest

from helper.compose import adapters
from helper.secrets import LocalSecretStore, SecretManagerStore
from helper.settings import Settings, SettingsError

GCP = {"FITBIT_RUNTIME": "gcp", "GCP_PROJECT": "demo-project"}


def test_the_gcp_runtime_reads_grants_from_secret_manager_by_default():
    settings = Settings.from_env(GCP)
    assert settings.secrets_backend == "secret-manager"
    assert isinstance(adapters(settings).secrets, SecretManagerStore)


def test_the_emulated_stack_can_keep_grants_in_the_local_file(tmp_path):
    settings = Settings.from_env({**GCP, "SECRETS_BACKEND": "file", "FITBIT_STATE_DIR": str(tmp_path)})
    store = adapters(settings).secrets
    assert isinstance(store, LocalSecretStore) and store.path == tmp_path / "secrets.json"


def test_an_unknown_secrets_backend_names_the_variable():
    with pytest.raises(SettingsError, match="SECRETS_BACKEND"):
        Settings.from_env({**GCP, "SECRETS_BACKEND": "vault"})
