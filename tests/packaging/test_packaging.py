"""The deployable archives: layout, pins, reproducibility, and that each one runs on its own."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts import create_cloud_function_zip as packaging

ROOT = Path(__file__).resolve().parents[2]

FUNCTIONS = {f.name: f for f in packaging.FUNCTIONS}
REPO_PINS = packaging.read_pins(ROOT / "requirements.txt")


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    return {name: packaging.build_archive(f, out, REPO_PINS) for name, f in FUNCTIONS.items()}


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as handle:
        return handle.namelist()


def _read(archive: Path, name: str) -> str:
    with zipfile.ZipFile(archive) as handle:
        return handle.read(name).decode()


def test_there_is_one_archive_per_function_folder():
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    assert set(FUNCTIONS) == folders


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_archive_has_the_entry_point_at_its_root(archives, name):
    assert _read(archives[name], "main.py") == (ROOT / "functions" / name / "main.py").read_text()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_archive_carries_the_shared_packages_without_the_simulator_tests_or_caches(archives, name):
    names = _names(archives[name])
    assert {"fitbit/__init__.py", "fitbit/catalogue/__init__.py", "helper/compose.py"} <= set(names)
    assert not [n for n in names if n.startswith("simulator/")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/tests/" in n]
    expected = {n for n, _ in packaging.package_files()} | {"main.py", "requirements.txt"}
    assert set(names) == expected


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_archive_pins_are_exactly_the_repo_requirements_pins(archives, name):
    pins = {}
    for line in _read(archives[name], "requirements.txt").splitlines():
        if line and not line.startswith("#"):
            dist, _, version = line.partition("==")
            pins[packaging._canonical(dist)] = version
    assert pins, "the archive's requirements.txt pins nothing"
    assert pins == {k: REPO_PINS[k] for k in pins}
    assert set(pins) == {packaging._canonical(r) for r in FUNCTIONS[name].requires}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_committed_function_requirements_are_the_archive_requirements(archives, name):
    committed = (ROOT / "functions" / name / "requirements.txt").read_text()
    assert committed == _read(archives[name], "requirements.txt")


def test_the_check_mode_passes_on_the_committed_tree(capsys):
    assert packaging.main(["--check"]) == 0


def test_the_check_mode_reports_a_function_whose_pins_drifted(tmp_path):
    (tmp_path / "functions" / "extract").mkdir(parents=True)
    (tmp_path / "functions" / "transform_load").mkdir(parents=True)
    for f in packaging.FUNCTIONS:
        (tmp_path / "functions" / f.name / "requirements.txt").write_text(packaging.render_requirements(f, REPO_PINS))
    bumped = dict(REPO_PINS, sqlglot="0.0.1")
    stale = packaging.drifted_requirements(bumped, root=tmp_path)
    assert sorted(p.parent.name for p in stale) == ["extract", "transform_load"]


def test_a_requirement_that_is_not_pinned_exactly_is_refused(tmp_path):
    (tmp_path / "requirements.txt").write_text("requests>=2\n")
    with pytest.raises(ValueError, match="not pinned"):
        packaging.read_pins(tmp_path / "requirements.txt")


def test_a_function_needing_an_unpinned_distribution_is_refused():
    function = packaging.CloudFunction("extract", requires=("left-pad",), runtime_imports=())
    with pytest.raises(KeyError, match="left-pad"):
        packaging.render_requirements(function, REPO_PINS)


def test_the_local_only_dependencies_stay_out_of_the_cloud_archives():
    for function in packaging.FUNCTIONS:
        assert not {"duckdb", "pytz"} & {packaging._canonical(r) for r in function.requires}


def test_building_twice_gives_byte_identical_archives_with_sorted_entries_and_fixed_times(tmp_path):
    function = FUNCTIONS["extract"]
    first = packaging.build_archive(function, tmp_path / "a", REPO_PINS)
    second = packaging.build_archive(function, tmp_path / "b", REPO_PINS)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with zipfile.ZipFile(first) as handle:
        infos = handle.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {packaging.FIXED_DATE}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def _clean_env() -> dict[str, str]:
    """The caller's environment minus anything that would let the archive see the repo's packages."""
    return {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}}


@pytest.mark.slow
@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_archive_installs_in_a_clean_venv_and_loads_its_target_with_functions_framework(archives, name,
                                                                                             tmp_path):
    source, venv = tmp_path / "src", tmp_path / "venv"
    with zipfile.ZipFile(archives[name]) as handle:
        handle.extractall(source)
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
                             cwd=source, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    function = FUNCTIONS[name]
    probe = (
        "import importlib, functions_framework\n"
        f"app = functions_framework.create_app({function.target!r}, 'main.py', 'cloudevent')\n"
        f"for module in {function.runtime_imports!r}: importlib.import_module(module)\n"
        "import fitbit, helper\n"
        "print(fitbit.__file__, helper.__file__, app.name)\n"
    )
    run = subprocess.run([str(python), "-I", "-c", probe], cwd=source, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    loaded_from = run.stdout.split()
    assert all(Path(p).is_relative_to(source) for p in loaded_from[:2]), loaded_from
