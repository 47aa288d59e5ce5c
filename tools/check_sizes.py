"""No source file longer than 400 lines (issue #16): ``make check`` runs ``python -m tools.check_sizes``.

A file past 400 lines has, in this repository, always held two or three things; the check keeps the seams
visible. It reads the files git tracks (``git ls-files``), so build outputs, virtual environments and
untracked scratch files are never measured.

What counts as source: Python, SQL, YAML, TOML and shell files. Exempt: ``bigquery_sql/``, the DDL
generated from the catalogue (``make sql``; a test fails on drift), whose length follows the catalogue,
and ``tests/schema_baselines/``, frozen copies of that generated DDL as a release left it (the schema
migration tests apply them; never edited, so never split).
Prose (``*.md``) is not source: a guide reads better whole than split at a line count.

A line is what ``wc -l`` counts, plus a last line without its newline.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

LIMIT = 400
SOURCE_SUFFIXES = frozenset({".py", ".sql", ".yaml", ".yml", ".toml", ".sh"})
EXEMPT_DIRS = ("bigquery_sql/", "tests/schema_baselines/")
ROOT = Path(__file__).resolve().parents[1]


def is_source(path: str) -> bool:
    """Whether a repository-relative path (``/``-separated, as git prints it) is measured."""
    return Path(path).suffix in SOURCE_SUFFIXES and not path.startswith(EXEMPT_DIRS)


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def oversized(paths: Iterable[str], root: Path, limit: int = LIMIT) -> list[tuple[str, int]]:
    """Each measured path under ``root`` longer than ``limit`` lines, with its count, in path order.

    Paths that are not source (``is_source``) are skipped, and so are paths with no file behind them (git lists
    a tracked file deleted in the working tree until the deletion is staged).
    """
    found = []
    for path in sorted(set(paths)):
        file = root / path
        if is_source(path) and file.is_file():
            count = line_count(file.read_bytes())
            if count > limit:
                found.append((path, count))
    return found


def tracked_files(root: Path) -> list[str]:
    """The files git tracks under ``root``, relative to it."""
    listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True, capture_output=True).stdout
    return [p for p in listed.decode().split("\0") if p]


def main(argv: list[str] | None = None, list_files: Callable[[Path], list[str]] = tracked_files) -> int:
    """Print each file over the limit and return 1, or return 0 when there is none."""
    root = Path(argv[0]) if argv else ROOT
    found = oversized(list_files(root), root)
    for path, count in found:
        print(f"{path}: {count} lines (limit {LIMIT})", file=sys.stderr)
    if found:
        print(f"{len(found)} source file(s) over {LIMIT} lines: split each along its seams (tools/check_sizes.py)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
