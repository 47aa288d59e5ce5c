"""Each archive on its own: unzipped into an empty folder, in a venv built from its requirements.txt alone.

The end-to-end run through the served archives is tests/emulator/test_archive_pipeline.py; these are the
narrower checks that say which part broke when it does: the entry point loads under functions-framework,
the lazily imported clients resolve, everything is imported from the archive and nothing from the
repository, and transform_load creates the tables and views on the BigQuery emulator and loads rows.
"""

from __future__ import annotations

import json
import uuid

import pytest

from fitbit.catalogue import all_tables
from helper import views
from tools.cloud_functions import FUNCTIONS

pytestmark = [pytest.mark.emulator, pytest.mark.slow]


@pytest.mark.parametrize("name", [f.name for f in FUNCTIONS])
def test_each_archive_loads_its_target_with_functions_framework_from_its_own_files(served_archives, name):
    archive = served_archives[name]
    probe = (
        "import importlib, json, functions_framework\n"
        f"app = functions_framework.create_app({archive.function.target!r}, 'main.py', "
        f"{archive.function.signature_type!r})\n"
        f"for module in {archive.function.runtime_imports!r}: importlib.import_module(module)\n"
        "import fitbit, helper, helper.views, helper.warehouse\n"
        "print(json.dumps([fitbit.__file__, helper.__file__, helper.views.__file__, helper.warehouse.__file__]))\n"
    )
    done = archive.run(probe)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded_from = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(p.startswith(str(archive.source)) for p in loaded_from), loaded_from


@pytest.mark.parametrize("name", [f.name for f in FUNCTIONS])
def test_the_archive_venv_holds_what_requirements_txt_pins_and_no_repository_package(served_archives, name):
    archive = served_archives[name]
    done = archive.run("import importlib.util, json\n"
                       "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in "
                       "('tools', 'simulator', 'scripts', 'duckdb', 'pytest')}))")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip()) == {m: False for m in ("tools", "simulator", "scripts", "duckdb", "pytest")}
    pins = {line.split("==")[0].lower() for line in (archive.source / "requirements.txt").read_text().splitlines()
            if "==" in line}
    check = archive.run("import importlib.metadata as md, json\n"
                        f"print(json.dumps({{n: md.version(n) for n in {sorted(pins)!r}}}))")
    assert check.returncode == 0, check.stderr[-2000:]
    installed = json.loads(check.stdout.strip())
    assert {f"{n}=={v}" for n, v in installed.items()} == {
        line.lower() for line in (archive.source / "requirements.txt").read_text().splitlines() if "==" in line}


def test_the_archived_transform_load_creates_the_schema_and_views_on_bigquery_and_loads_rows(served_archives,
                                                                                              emulator_stack):
    """From the built archive alone, in a clean venv: the warehouse adapter transform_load composes creates
    every table and view in an empty dataset, from the SQL inside the archive, and loads a staged batch."""
    archive, dataset, bucket = served_archives["transform_load"], f"archive_{uuid.uuid4().hex[:8]}", \
        f"archive-staging-{uuid.uuid4().hex[:8]}"
    emulator_stack.ensure_buckets([bucket])
    code = (
        "import json, sys\n"
        "from helper.warehouse import BigQueryWarehouse\n"
        "from fitbit.catalogue import PROCESSING_LOG_TABLE\n"
        f"w = BigQueryWarehouse({emulator_stack.project!r}, {dataset!r}, {bucket!r}, "
        f"endpoint={emulator_stack.env['BIGQUERY_EMULATOR_HOST']!r})\n"
        "w.ensure_schema()\n"
        "row = {'participant_id': 'p1', 'civil_date': '2026-11-05', 'raw_object': 'raw/archive-test', "
        "'data_type': 'steps', 'method': 'list', 'status': 'loaded', 'error_class': None, 'fix': None, "
        "'row_counts': {'steps_daily': 1}, 'attempt': 0, 'parser_version': '1', 'processed_at': '2026-11-05T10:00:00Z'}\n"
        "w.stage(PROCESSING_LOG_TABLE, [row], 'raw/archive-test')\n"
        "print(json.dumps(w.flush()))\n"
    )
    done = archive.run(code, env=emulator_stack.env, timeout_s=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"processing_log": 1}
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    bq = bigquery.Client(project=emulator_stack.project, credentials=AnonymousCredentials(),
                         client_options=ClientOptions(api_endpoint=emulator_stack.env["BIGQUERY_EMULATOR_HOST"]))
    listed = {t.table_id: t.table_type for t in bq.list_tables(dataset)}
    assert {t.name for t in all_tables()} <= {n for n, kind in listed.items() if kind == "TABLE"}
    assert views.bigquery_versions(bq, dataset) == {v: views.version_of(views.view_sql(v, dataset))
                                                    for v in views.VIEWS}
    rows = list(bq.query(f"SELECT raw_object, status FROM `{dataset}.processing_log`").result())
    assert [tuple(r.values()) for r in rows] == [("raw/archive-test", "loaded")]
