"""Settings are typed: real booleans and numbers, and a message that names the bad variable."""

from pathlib import Path

import pytest

from helper.settings import Settings, SettingsError


def test_defaults_need_no_cloud():
    s = Settings.from_env({})
    assert s.runtime == "local" and s.secrets_file == Path(".state/secrets.json")
    assert s.api_base_url == "https://health.googleapis.com/"


def test_false_means_false():
    assert Settings.from_env({"HEART_RATE_SECONDS": "False"}).heart_rate_seconds is False
    assert Settings.from_env({"HEART_RATE_SECONDS": "yes"}).heart_rate_seconds is True


@pytest.mark.parametrize("env, name", [
    ({"HEART_RATE_SECONDS": "maybe"}, "HEART_RATE_SECONDS"),
    ({"REFETCH_DAYS": "three"}, "REFETCH_DAYS"),
    ({"REFETCH_DAYS": "0"}, "REFETCH_DAYS"),
    ({"FITBIT_RUNTIME": "mainframe"}, "FITBIT_RUNTIME"),
    ({"FITBIT_RUNTIME": "gcp"}, "GCP_PROJECT"),
    ({"HEALTH_API_BASE_URL": "localhost:8090"}, "HEALTH_API_BASE_URL"),
    ({"SLEEP_REFETCH_DELAY_S": "-1"}, "SLEEP_REFETCH_DELAY_S"),
])
def test_bad_values_name_the_variable(env, name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_urls_get_a_trailing_slash_and_gcp_reads_the_project():
    s = Settings.from_env({"FITBIT_RUNTIME": "gcp", "GOOGLE_CLOUD_PROJECT": "p1", "HEALTH_API_BASE_URL": "http://x:1"})
    assert s.gcp_project == "p1" and s.api_base_url == "http://x:1/"


@pytest.mark.parametrize("env", [{}, {"FITBIT_STATE_DIR": "/tmp/x", "OAUTH_BASE_URL": "http://127.0.0.1:1/",
                                     "SLEEP_REFETCH_DELAY_S": "0.1", "HEART_RATE_SECONDS": "true"},
                                 {"FITBIT_RUNTIME": "gcp", "GCP_PROJECT": "p", "BIGQUERY_EMULATOR_HOST": "http://h:9"},
                                 {"FITBIT_RUNTIME": "gcp", "GCP_PROJECT": "p", "SECRETS_BACKEND": "file"}])
def test_settings_survive_a_round_trip_through_the_environment(env):
    settings = Settings.from_env(env)
    assert Settings.from_env(settings.to_env()) == settings
