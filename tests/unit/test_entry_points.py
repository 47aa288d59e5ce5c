"""Both Cloud Functions exist, stay thin, register as CloudEvent functions and do no I/O at import."""

import json
from pathlib import Path

import functions_framework
import pytest

from helper import compose

ROOT = Path(__file__).resolve().parents[2]
TARGETS = {"extract": ROOT / "functions/extract/main.py", "transform_load": ROOT / "functions/transform_load/main.py"}


@pytest.mark.parametrize("target", TARGETS)
def test_entry_points_stay_thin(target):
    assert len(TARGETS[target].read_text().splitlines()) < 50


@pytest.mark.parametrize("target", TARGETS)
def test_entry_points_register_as_cloudevent_functions_without_io_at_import(target):
    compose._adapters.cache_clear()
    app = functions_framework.create_app(target, str(TARGETS[target]), "cloudevent")
    assert app is not None
    assert compose._adapters.cache_info().currsize == 0, "importing the function built adapters"


def test_transform_load_acknowledges_events_from_other_buckets(tmp_path, monkeypatch):
    monkeypatch.setenv("FITBIT_STATE_DIR", str(tmp_path))
    client = functions_framework.create_app("transform_load", str(TARGETS["transform_load"]), "cloudevent").test_client()
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "//storage.googleapis.com/projects/_/buckets/x",
               "ce-type": "google.cloud.storage.object.v1.finalized", "Content-Type": "application/json"}
    response = client.post("/", data=json.dumps({"bucket": "someone-else", "name": "raw/a.json"}), headers=headers)
    assert response.status_code == 200
    assert not (tmp_path / "raw").exists()
