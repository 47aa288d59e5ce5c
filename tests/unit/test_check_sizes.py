"""The size check on planted files: a temporary tree measured through the functions ``make check`` runs.

No git here (the unit tier starts no process): the listing of tracked files is handed in, as the CLI's
``git ls-files`` would hand it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.check_sizes import LIMIT, is_source, line_count, main, oversized


def _plant(root: Path, files: dict[str, int]) -> list[str]:
    """Write each file with the given number of newline-terminated lines; return the paths as git lists them."""
    for path, lines in files.items():
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("".join(f"x = {i}\n" for i in range(lines)))
    return list(files)


def test_a_python_file_over_the_limit_is_reported_with_its_line_count(tmp_path: Path) -> None:
    paths = _plant(tmp_path, {"pkg/big.py": LIMIT + 1, "pkg/limit.py": LIMIT, "pkg/small.py": 3})
    assert oversized(paths, tmp_path) == [("pkg/big.py", LIMIT + 1)]


def test_every_oversized_file_is_listed_in_path_order(tmp_path: Path) -> None:
    paths = _plant(tmp_path, {"z.py": 450, "a/b.sql": 401, "ci.yaml": 999, "m/n.py": 10})
    assert oversized(paths, tmp_path) == [("a/b.sql", 401), ("ci.yaml", 999), ("z.py", 450)]


def test_generated_ddl_and_prose_are_exempt(tmp_path: Path) -> None:
    paths = _plant(tmp_path, {"bigquery_sql/create_tables.sql": 900, "docs/deploy.md": 900,
                              "tests/schema_baselines/2026-11-30.sql": 900,
                              "helper/sql/views/daily.sql": 900, "data.csv": 900})
    assert oversized(paths, tmp_path) == [("helper/sql/views/daily.sql", 900)]


def test_a_tracked_file_deleted_from_the_working_tree_is_skipped(tmp_path: Path) -> None:
    paths = _plant(tmp_path, {"kept.py": 500}) + ["deleted.py"]
    assert oversized(paths, tmp_path) == [("kept.py", 500)]


def test_the_limit_can_be_given(tmp_path: Path) -> None:
    paths = _plant(tmp_path, {"a.py": 11, "b.py": 10})
    assert oversized(paths, tmp_path, limit=10) == [("a.py", 11)]


@pytest.mark.parametrize(("data", "lines"), [(b"", 0), (b"a\n", 1), (b"a", 1), (b"a\nb", 2), (b"\n\n\n", 3),
                                             (b"a\x0cb\r\nc\n", 2)])
def test_lines_are_counted_as_wc_does_plus_an_unterminated_last_line(data: bytes, lines: int) -> None:
    assert line_count(data) == lines


@pytest.mark.parametrize(("path", "measured"), [("fitbit/client.py", True), ("cloudbuild.yaml", True),
                                                ("pyproject.toml", True), ("helper/sql/views/x.sql", True),
                                                ("bigquery_sql/views/x.sql", False), ("README.md", False),
                                                ("Makefile", False), ("requirements.txt", False)])
def test_which_paths_are_source(path: str, measured: bool) -> None:
    assert is_source(path) is measured


def test_the_command_fails_listing_each_file_and_its_count(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    paths = _plant(tmp_path, {"big.py": 512, "also/big.yaml": 401, "fine.py": 400})
    assert main([str(tmp_path)], list_files=lambda root: paths if root == tmp_path else []) == 1
    err = capsys.readouterr().err
    assert "also/big.yaml: 401 lines" in err and "big.py: 512 lines" in err and "fine.py" not in err
    assert "2 source file(s) over 400 lines" in err


def test_the_command_passes_quietly_when_every_file_fits(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    paths = _plant(tmp_path, {"fine.py": LIMIT})
    assert main([str(tmp_path)], list_files=lambda root: paths) == 0
    assert capsys.readouterr() == ("", "")
