"""The deployable archives: what each one holds (runtime code only), pins, reproducibility, and that the
runtime data the functions read from disk travels inside them.

The archives are also served by the emulator tier from clean venvs (tests/emulator/test_archive_*.py);
these tests are the cheap half: they read the zip files and run stdlib-only code from an unzipped copy.
"""

from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from helper import sql, views
from scripts import create_cloud_function_zip as packaging
from scripts import create_sql_files
from tools.cloud_functions import FUNCTIONS, CloudFunction, function_named

ROOT = Path(__file__).resolve().parents[2]

BY_NAME = {f.name: f for f in FUNCTIONS}
REPO_PINS = packaging.read_pins(ROOT / "requirements.txt")
# Never runtime code: the repository's tooling, the simulator, tests, and modules named like what tools/ holds.
TOOLING_ROOTS = ("tools/", "scripts/", "simulator/", "tests/", "benchmarks/", "functions/", "docs/")
TOOLING_WORDS = ("demo", "report", "provision", "relay", "emulat", "local_runtime", "authorise", "summary")


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    return {f.name: packaging.build_archive(f, out, REPO_PINS) for f in FUNCTIONS}


def _names(archive: Path) -> list[str]:
    with zipfile.ZipFile(archive) as handle:
        return handle.namelist()


def _read(archive: Path, name: str) -> str:
    with zipfile.ZipFile(archive) as handle:
        return handle.read(name).decode()


def _module_of(name: str) -> str:
    path = PurePosixPath(name)
    parts = path.parent.parts if path.name == "__init__.py" else (*path.parent.parts, path.stem)
    return ".".join(parts)


def _imports(source: str, module: str, is_package: bool) -> set[str]:
    """Every module an import statement in ``source`` names (also inside functions: lazy imports ship too)."""
    found, package = set(), module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def import_closure(archive: Path) -> set[str]:
    """The archive's own modules that ``main.py`` imports, directly or not, read from the archive alone."""
    with zipfile.ZipFile(archive) as handle:
        sources = {name: handle.read(name).decode() for name in handle.namelist() if name.endswith(".py")}
    modules = {_module_of(n): n for n in sources if n != "main.py"}
    reached, todo = set(), [("__main__", "main.py")]
    while todo:
        module, name = todo.pop()
        for imported in _imports(sources[name], module, name.endswith("__init__.py")):
            parts = imported.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in modules and modules[prefix] not in reached:
                    reached.add(modules[prefix])
                    todo.append((prefix, modules[prefix]))
    return reached


# --- what ships ----------------------------------------------------------------------------------------


def test_there_is_one_archive_per_function_folder_and_one_declaration_per_archive():
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/main.py")}
    assert set(BY_NAME) == folders
    assert len(FUNCTIONS) == len(BY_NAME)


@pytest.mark.parametrize("name", BY_NAME)
def test_the_archive_has_the_entry_point_at_its_root(archives, name):
    assert _read(archives[name], "main.py") == (ROOT / "functions" / name / "main.py").read_text()


@pytest.mark.parametrize("name", BY_NAME)
def test_the_archive_lists_only_runtime_code_and_the_data_it_reads(archives, name):
    """Every file: the entry point, the pins, a module main.py imports (directly or not), or package data."""
    names = _names(archives[name])
    print(f"\n{name}.zip: " + ", ".join(names))
    tooling = [n for n in names if n.startswith(TOOLING_ROOTS)
               or (n.endswith(".py") and any(w in n for w in TOOLING_WORDS))]
    assert tooling == [], f"tooling in the {name} archive: {tooling}"
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo")) or "/." in n]
    modules = {n for n in names if n.endswith(".py") and n != "main.py"}
    data = {n for n in names if not n.endswith(".py")} - {"requirements.txt"}
    assert modules, "no runtime modules"
    unreached = modules - import_closure(archives[name])
    assert unreached == set(), f"{name} ships modules its entry point never imports: {sorted(unreached)}"
    assert data == {f"helper/sql/{folder}/{stem}.sql" for folder in ("views",) for stem in sql.names(folder)}
    assert {n.split("/")[0] for n in names} == {"main.py", "requirements.txt", *packaging.PACKAGES}


def test_transform_load_ships_the_view_sql_it_creates_its_views_from(archives):
    names = set(_names(archives["transform_load"]))
    assert {f"helper/sql/views/{v}.sql" for v in views.VIEWS} <= names
    for view in views.VIEWS:
        assert _read(archives["transform_load"], f"helper/sql/views/{view}.sql") == sql.read("views", f"{view}.sql")


def test_the_view_sql_is_read_from_the_unzipped_archive_alone(archives, tmp_path):
    """The bug of issue #10: unzipped elsewhere, the views could not be created (the SQL lived outside the
    package). helper.views and helper.sql import only the standard library, so this needs no venv."""
    with zipfile.ZipFile(archives["transform_load"]) as handle:
        handle.extractall(tmp_path / "src")
    probe = ("import sys; sys.path.insert(0, sys.argv[1])\n"
             "from helper import views\n"
             "assert views.__file__.startswith(sys.argv[1]), views.__file__\n"
             "print(len([views.view_sql(v, 'fitbit') for v in views.VIEWS]))\n")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(tmp_path / "src")], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(len(views.VIEWS))


def test_a_file_that_is_neither_code_nor_declared_data_stays_out(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "helper", root / "helper", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "fitbit").mkdir()
    (root / "fitbit" / "__init__.py").write_text("")
    (root / "helper" / "notes.txt").write_text("scratch")
    (root / "helper" / ".secret.json").write_text("{}")
    shipped = {name for name, _ in packaging.package_files(root)}
    assert "helper/notes.txt" not in shipped and "helper/.secret.json" not in shipped
    assert "helper/sql/views/hr_1h.sql" in shipped


# --- pins ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BY_NAME)
def test_the_archive_pins_are_exactly_the_repo_requirements_pins(archives, name):
    pins = {}
    for line in _read(archives[name], "requirements.txt").splitlines():
        if line and not line.startswith("#"):
            dist, _, version = line.partition("==")
            pins[packaging._canonical(dist)] = version
    assert pins, "the archive's requirements.txt pins nothing"
    assert pins == {k: REPO_PINS[k] for k in pins}
    assert set(pins) == {packaging._canonical(r) for r in BY_NAME[name].requires}


@pytest.mark.parametrize("name", BY_NAME)
def test_the_committed_function_requirements_are_the_archive_requirements(archives, name):
    committed = (ROOT / "functions" / name / "requirements.txt").read_text()
    assert committed == _read(archives[name], "requirements.txt")


def test_the_check_mode_passes_on_the_committed_tree(capsys):
    assert packaging.main(["--check"]) == 0


def test_the_check_mode_reports_a_function_whose_pins_drifted(tmp_path):
    for f in FUNCTIONS:
        (tmp_path / "functions" / f.name).mkdir(parents=True)
        (tmp_path / "functions" / f.name / "requirements.txt").write_text(packaging.render_requirements(f, REPO_PINS))
    bumped = dict(REPO_PINS, sqlglot="0.0.1")
    stale = packaging.drifted_requirements(bumped, root=tmp_path)
    assert sorted(p.parent.name for p in stale) == sorted(BY_NAME)


def test_a_requirement_that_is_not_pinned_exactly_is_refused(tmp_path):
    (tmp_path / "requirements.txt").write_text("requests>=2\n")
    with pytest.raises(ValueError, match="not pinned"):
        packaging.read_pins(tmp_path / "requirements.txt")


def test_a_function_needing_an_unpinned_distribution_is_refused():
    function = CloudFunction("extract", "p", "units-topic", requires=("left-pad",), runtime_imports=(), grants=())
    with pytest.raises(KeyError, match="left-pad"):
        packaging.render_requirements(function, REPO_PINS)


def test_the_local_only_dependencies_stay_out_of_the_cloud_archives():
    for function in FUNCTIONS:
        assert not {"duckdb", "pytz"} & {packaging._canonical(r) for r in function.requires}


def test_an_undeclared_function_is_named_with_the_declared_ones():
    with pytest.raises(KeyError, match="extract, transform_load, notify"):
        function_named("withdraw")


def test_building_twice_gives_byte_identical_archives_with_sorted_entries_and_fixed_times(tmp_path):
    function = BY_NAME["extract"]
    first = packaging.build_archive(function, tmp_path / "a", REPO_PINS)
    second = packaging.build_archive(function, tmp_path / "b", REPO_PINS)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()
    with zipfile.ZipFile(first) as handle:
        infos = handle.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {packaging.FIXED_DATE}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


# --- the readable copy of the views in bigquery_sql/ ---------------------------------------------------------


def test_the_readable_views_in_bigquery_sql_are_generated_from_the_shipped_templates():
    rendered = create_sql_files.render()
    for view in views.VIEWS:
        committed = (ROOT / "bigquery_sql" / "views" / f"{view}.sql").read_text()
        assert committed == rendered[f"bigquery_sql/views/{view}.sql"]
        assert committed.endswith(views.readable_sql(view)) and sql.DATASET_PLACEHOLDER in committed
    assert {p.stem for p in (ROOT / "bigquery_sql" / "views").glob("*.sql")} == set(views.VIEWS)


def test_the_sql_check_fails_on_an_edited_copy_and_on_a_view_that_no_longer_exists(tmp_path, capsys):
    shutil.copytree(ROOT / "bigquery_sql", tmp_path / "bigquery_sql")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "data-types.md", tmp_path / "docs" / "data-types.md")
    assert create_sql_files.main(["--check", "--out", str(tmp_path)]) == 0
    copy = tmp_path / "bigquery_sql" / "views" / "hr_1h.sql"
    copy.write_text(copy.read_text().replace("MIN(bpm_min)", "MAX(bpm_min)"))
    (tmp_path / "bigquery_sql" / "views" / "old_view.sql").write_text("-- gone\n")
    assert create_sql_files.main(["--check", "--out", str(tmp_path)]) == 1
    printed = capsys.readouterr().out
    assert "hr_1h.sql" in printed and "old_view.sql is not a view any more" in printed
    assert create_sql_files.main(["--out", str(tmp_path)]) == 0
    assert create_sql_files.main(["--check", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "bigquery_sql" / "views" / "old_view.sql").exists()


def test_the_dataset_placeholder_is_spelled_once():
    spelled = [p.relative_to(ROOT).as_posix() for folder in ("helper", "tools", "scripts")
               for p in (ROOT / folder).rglob("*.py") if '"${dataset}"' in p.read_text()]
    assert spelled == [], f"spell it as helper.sql.DATASET_PLACEHOLDER: {spelled}"
