"""`make report` (scripts/report.py): reads the embedded warehouse's views and writes the report, or says why not."""

from __future__ import annotations

from pathlib import Path

from fitbit.catalogue import all_tables
from helper.warehouse import DuckDbWarehouse
from scripts import report as report_script


def test_make_report_reads_the_warehouse_views_and_prints_the_path_it_wrote(tmp_path: Path, capsys):
    state = tmp_path / "state"
    warehouse = DuckDbWarehouse(state / "warehouse.duckdb", "fitbit", state / "staging")
    tables = {t.name: t for t in all_tables()}
    lineage = {"raw_object": "raw/x", "fetched_at": "2026-11-06T00:00:00Z"}
    warehouse.stage(tables["steps_daily"], [{**lineage, "participant_id": "user7", "civil_date": "2026-11-02",
                                             "steps": 12345}], "b1")
    warehouse.flush()
    warehouse.close()
    assert report_script.main(["--state-dir", str(state)]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"report: {(state / 'report.html').resolve()}"
    html = (state / "report.html").read_text()
    assert "user7 2026-11-02: 12,345" in html


def test_make_report_without_a_warehouse_says_to_run_the_demo_first(tmp_path: Path, capsys):
    assert report_script.main(["--state-dir", str(tmp_path / "missing")]) == 2
    assert "run `make demo` first" in capsys.readouterr().err
