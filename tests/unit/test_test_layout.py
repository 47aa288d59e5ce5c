"""The test tiers share one import namespace (no packages): two test files with one basename cannot both be
collected in one pytest session (``import file mismatch``), which only shows when every tier runs together,
as in ``make test`` on CI."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def test_no_two_test_files_share_a_basename_across_tiers():
    names = Counter(path.name for path in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []
