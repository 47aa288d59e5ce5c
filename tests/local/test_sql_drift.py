"""The drift check fails once the catalogue changes: run in a subprocess, so the changed catalogue cannot leak
into other tests' catalogue caches. (That the committed files match is checked in tests/unit/test_generated_sql.py.)
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


CHANGED_CATALOGUE = """
import sys
from dataclasses import replace
sys.path.insert(0, ".")
import fitbit.catalogue as catalogue
from fitbit.catalogue import entries
steps = entries.DATA_TYPES[0]
column = replace(steps.reads[0].columns[0], description="Steps, as a changed catalogue describes them")
entries.DATA_TYPES = (replace(steps, reads=(replace(steps.reads[0], columns=(column,)), *steps.reads[1:])),
                      *entries.DATA_TYPES[1:])
catalogue.DATA_TYPES = entries.DATA_TYPES
for cached in (catalogue._index, catalogue.unit_kinds, catalogue.table_spec, catalogue.all_tables):
    cached.cache_clear()
sys.argv = ["create_sql_files.py", "--check"]
import runpy
runpy.run_path("scripts/create_sql_files.py", run_name="__main__")
"""


def test_sql_check_fails_after_a_catalogue_change_until_regenerated():
    result = subprocess.run([sys.executable, "-c", CHANGED_CATALOGUE], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "create_tables.sql out of date" in result.stdout
    assert "+  steps INT64 OPTIONS(description='Steps, as a changed catalogue describes them')" in result.stdout
