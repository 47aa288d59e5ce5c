"""The local secret store keeps its parsed file only while the file is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from helper.secrets import LocalSecretStore


def test_a_write_by_another_store_on_the_same_file_is_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secrets.json"
    reader, writer = LocalSecretStore(path), LocalSecretStore(path)
    writer.put("a", "1")
    assert reader.get("a") == "1"
    writer.put("a", "2")
    writer.put("b", "3")
    assert (reader.get("a"), reader.names()) == ("2", ["a", "b"])


def test_the_file_stays_the_indented_sorted_json_object_it_was(tmp_path: Path) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put("z", 'quote " and é')
    store.put("a", "x")
    text = (tmp_path / "secrets.json").read_text(encoding="utf-8")
    assert text == json.dumps({"a": "x", "z": 'quote " and é'}, indent=2, sort_keys=True)


def test_a_delete_whose_write_fails_leaves_the_name_readable(tmp_path: Path, monkeypatch) -> None:
    store = LocalSecretStore(tmp_path / "secrets.json")
    store.put_many({"a": "1", "b": "2"})
    assert store.get("a") == "1"  # parsed and kept

    def full_disk(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("helper.secrets.local_file.os.replace", full_disk)
    try:
        store.delete("a")
    except OSError:
        pass
    monkeypatch.undo()
    assert (store.get("a"), store.names()) == ("1", ["a", "b"]), "the kept parse must not lose a name the file holds"
    assert store.delete("a") and LocalSecretStore(tmp_path / "secrets.json").names() == ["b"]
