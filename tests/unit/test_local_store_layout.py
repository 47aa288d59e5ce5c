"""The local raw store's cheaper writes (issue #14) keep its guarantees: metadata names are one-to-one and
keep the participant's folder (withdrawal purges it), metadata of the old mirrored layout is still read,
a folder removed behind the store's back is recreated, and concurrent creates of one name store it once."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helper.storage import TEMPORARY, LocalRawStore, metadata_file

NAMES = ["raw/user1/steps/2026-11-05/list/2026-11-05_2026-11-06/page-0000-ab12.json", "control/plan-run-1.json",
         "errors/malformed/abc.json", "errors/user1/x/y.json", "a.json", "raw/u1/a/b", "raw/u1/a%2Fb",
         "raw/u1/a%252Fb", "raw/u1/a/b/c", "raw/u1/a%2Fb/c", "raw/u1/" + "x/" * 120 + "y", "raw/u1/" + "z" * 230]


def test_metadata_files_are_one_to_one_and_under_the_participant_folder() -> None:
    files = [metadata_file(n) for n in NAMES]
    assert len(set(files)) == len(NAMES)
    for name, file in zip(NAMES, files):
        parts = name.split("/")
        assert file.split("/")[: min(2, len(parts) - 1)] == parts[: min(2, len(parts) - 1)]
        assert all(len(part) <= 255 for part in file.split("/"))


def test_metadata_reads_back_for_every_name_and_the_participant_tree_holds_it(tmp_path: Path) -> None:
    store = LocalRawStore(tmp_path, "raw")
    names = [n for n in NAMES if not n.endswith("/c")]  # an object cannot also be a folder of objects
    for i, name in enumerate(names):
        assert store.create(name, b"%d" % i, {"n": str(i)}, "application/json")
    for i, name in enumerate(names):
        blob = store.read(name)
        assert (blob.body, blob.metadata) == (b"%d" % i, {"n": str(i)})
    shutil.rmtree(tmp_path / "metadata" / "raw" / "user1")  # what withdrawal's purge removes
    with pytest.raises(FileNotFoundError):
        store.read(NAMES[0])


def test_metadata_in_the_old_mirrored_layout_is_still_read(tmp_path: Path) -> None:
    name = NAMES[0]
    old = tmp_path / "metadata" / (name + ".json")
    old.parent.mkdir(parents=True)
    old.write_text('{"contentType": "application/json", "participant": "user1"}')
    body = tmp_path / "objects" / name
    body.parent.mkdir(parents=True)
    body.write_bytes(b"{}")
    store = LocalRawStore(tmp_path, "raw")
    assert store.read(name).metadata == {"participant": "user1"}
    assert store.create(name, b"{}", {}, "application/json") is False


def test_a_folder_removed_behind_the_stores_back_is_created_again(tmp_path: Path) -> None:
    store = LocalRawStore(tmp_path, "raw")
    assert store.create("raw/user1/steps/a/page-1.json", b"1", {}, "application/json")
    shutil.rmtree(tmp_path / "objects" / "raw")
    shutil.rmtree(tmp_path / "metadata" / "raw")
    assert store.create("raw/user1/steps/a/page-2.json", b"2", {"k": "v"}, "application/json")
    assert store.read("raw/user1/steps/a/page-2.json").metadata == {"k": "v"}
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TEMPORARY)]


def test_concurrent_creates_store_each_name_once_with_unique_generations(tmp_path: Path) -> None:
    events = []
    store = LocalRawStore(tmp_path, "raw", on_finalize=lambda obj, size, at: events.append(obj))
    names = [f"raw/user{i % 5}/steps/d{i % 3}/page-{i % 40:04d}.json" for i in range(200)]
    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(lambda n: store.create(n, n.encode(), {}, "application/json"), names))
    assert sum(created) == len(set(names)) == len(events)
    assert len({e.generation for e in events}) == len(events)
    assert sorted(e.name for e in events) == sorted(set(names))
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(TEMPORARY)]
    assert {o.name for o in store.list_objects("raw/")} == set(names)
