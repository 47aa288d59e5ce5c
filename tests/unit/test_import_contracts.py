"""The import contracts fail on planted violations: a cycle hidden in a function, a package that imports its
own child back, a google.cloud import in the domain, and the domain importing the plumbing.

Each test writes a small tree of packages, then runs import-linter in process on the repository's own
contract types (tools/import_contracts.py) and on the same built-in types pyproject.toml uses.
"""

from __future__ import annotations

import logging
import sys
import textwrap
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from tools.import_contracts import imported_names, shortest_cycle, strongly_connected

CONFIG = """
[importlinter]
root_packages =
    dom
    plumb
include_external_packages = true
contract_types =
    acyclic_modules: tools.import_contracts.AcyclicModulesContract
    forbidden_external: tools.import_contracts.ForbiddenExternalContract

[importlinter:contract:layers]
name = layers
type = layers
layers =
    plumb
    dom

[importlinter:contract:cycles]
name = cycles
type = acyclic_modules
packages =
    dom
    plumb

[importlinter:contract:cloud]
name = cloud
type = forbidden_external
source_modules =
    dom
forbidden_modules =
    google.cloud
"""


def lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
         files: dict[str, str]) -> tuple[int, str]:
    for name, text in {"dom/__init__.py": "", "plumb/__init__.py": "", **files}.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (tmp_path / ".importlinter").write_text(CONFIG)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    monkeypatch.chdir(tmp_path)
    for name in [m for m in sys.modules if m.split(".")[0] in ("dom", "plumb")]:
        monkeypatch.delitem(sys.modules, name)
    # import-linter's CLI calls logging.config.dictConfig, which disables every logger it does not name (the
    # project's among them): restore them, or a later test in this worker sees no log records at all.
    loggers = [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    disabled = [lg.disabled for lg in loggers]
    try:
        status = lint_imports(config_filename=str(tmp_path / ".importlinter"), no_cache=True, no_logo=True)
    finally:
        for lg, was in zip(loggers, disabled):
            lg.disabled = was
    return status, capsys.readouterr().out


CLEAN = {
    "dom/model.py": "import google.auth\n",
    "dom/rules.py": "from dom.model import x\n",
    "plumb/store.py": "from google.cloud import storage\nimport dom.rules\n",
}


def test_a_clean_tree_keeps_every_contract(tmp_path, monkeypatch, capsys) -> None:
    status, out = lint(tmp_path, monkeypatch, capsys, CLEAN)
    assert status == 0, out
    assert "3 kept, 0 broken" in out


def test_a_cycle_hidden_inside_a_function_is_reported_with_its_lines(tmp_path, monkeypatch, capsys) -> None:
    status, out = lint(tmp_path, monkeypatch, capsys, {
        **CLEAN, "dom/model.py": "def late():\n    from dom.rules import y\n    return y\n"})
    assert status == 1
    assert "Import cycle among dom.model, dom.rules:" in out
    assert "dom.model -> dom.rules (l.2)" in out and "dom.rules -> dom.model (l.1)" in out


def test_a_package_importing_its_own_child_back_is_a_cycle(tmp_path, monkeypatch, capsys) -> None:
    status, out = lint(tmp_path, monkeypatch, capsys, {
        **CLEAN, "dom/__init__.py": "from dom.rules import x\n", "dom/rules.py": "import dom\n"})
    assert status == 1
    assert "Import cycle among dom, dom.rules:" in out


def test_the_domain_importing_google_cloud_breaks_the_contract_but_google_auth_does_not(
        tmp_path, monkeypatch, capsys) -> None:
    status, out = lint(tmp_path, monkeypatch, capsys, {
        **CLEAN, "dom/rules.py": "import google.auth\n\ndef f():\n    from google.cloud import bigquery\n"})
    assert status == 1
    assert "cloud BROKEN" in out and "dom.rules (l.4): from google.cloud import bigquery" in out
    assert "2 kept, 1 broken" in out


def test_the_domain_importing_the_plumbing_breaks_the_layers(tmp_path, monkeypatch, capsys) -> None:
    status, out = lint(tmp_path, monkeypatch, capsys, {**CLEAN, "dom/rules.py": "import plumb\n"})
    assert status == 1
    assert "layers BROKEN" in out and "dom.rules -> plumb" in out


@pytest.mark.parametrize(("line", "names"), [
    ("from google.cloud import storage, bigquery as bq", ["google.cloud.storage", "google.cloud.bigquery"]),
    ("from google import cloud", ["google.cloud"]),
    ("    import google.cloud.storage as gcs, json", ["google.cloud.storage", "json"]),
    ("from google.cloud import (", ["google.cloud"]),
    ("x = 1", []),
])
def test_imported_names_read_every_spelling_of_an_import(line: str, names: list[str]) -> None:
    assert imported_names(line) == names


def test_components_and_a_shortest_cycle_are_found() -> None:
    edges = {"a": ["b"], "b": ["c", "d"], "c": ["a"], "d": ["e"], "e": ["d"], "f": ["a"]}
    assert strongly_connected(sorted(edges), edges) == [["a", "b", "c"], ["d", "e"]]
    assert shortest_cycle("a", {"a", "b", "c"}, edges) == ["a", "b", "c", "a"]
    assert strongly_connected(["x", "y"], {"x": ["y"], "y": []}) == []
