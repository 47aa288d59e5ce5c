"""The committed bigquery_sql/ and docs/data-types.md are what the catalogue generates (`make sql`)."""

import pytest

from scripts import create_sql_files


def test_committed_sql_matches_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    status = create_sql_files.main(["--check"])
    assert status == 0, capsys.readouterr().out
