"""The catalogue agrees with Google's discovery document, with itself, and with the generated SQL."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from fitbit.catalogue import (
    CONSENT_LOG_TABLE,
    DATA_TYPES,
    FETCH_KEYS_TABLE,
    FETCH_PAGES_TABLE,
    LOG_TABLES,
    all_tables,
    by_path_id,
    required_scopes,
    table_spec,
    unit_kinds,
)
from fitbit.catalogue.columns import value_column
from fitbit.catalogue.followups import ExportDetail, RereadUntil
from fitbit.catalogue.model import DataType
from simulator.discovery import document, rollup_max_days

ROOT = Path(__file__).resolve().parents[2]
DISCOVERY = document()
SCHEMAS = DISCOVERY["schemas"]
READS = [(dt, r) for dt in DATA_TYPES for r in dt.reads]
ROLLUP_SCHEMA = {"rollUp": "RollupDataPoint", "dailyRollUp": "DailyRollupDataPoint"}


def _resolve(schema_name: str, path: str) -> dict:
    """Walk a column path through the discovery schemas; fail on any step Google does not define."""
    prop: dict = {"$ref": schema_name}
    for step in path.split("."):
        match = re.match(r"^(\w+)(\[(\w+)=(\w+)\])?$", step)
        key, _, field, value = match.groups()
        schema = SCHEMAS[prop["$ref"]]
        assert key in schema.get("properties", {}), f"{schema_name}: {key!r} is not in {prop['$ref']}"
        prop = schema["properties"][key]
        if field:
            assert prop.get("type") == "array", f"{key} is not an array"
            prop = prop["items"]
            element = SCHEMAS[prop["$ref"]]["properties"][field]
            assert value in element.get("enum", []), f"{value} is not a {field} value"
    return prop


def test_there_are_at_least_the_23_required_types():
    assert len(DATA_TYPES) >= 23


@pytest.mark.parametrize("dt", DATA_TYPES, ids=lambda d: d.path_id)
def test_the_three_spellings_agree_with_discovery(dt):
    data_point = SCHEMAS["DataPoint"]["properties"]
    rollup = SCHEMAS["RollupDataPoint"]["properties"]
    assert dt.json_key in data_point or (not dt.has_data_point_schema and dt.json_key in rollup)
    assert dt.filter_id == dt.path_id.replace("-", "_")
    assert dt.filter_member.startswith(dt.filter_id + ".")


@pytest.mark.parametrize(("dt", "read"), READS, ids=lambda x: getattr(x, "path_id", getattr(x, "table", "")))
def test_every_column_path_exists_in_the_discovery_schema(dt, read):
    if read.method in ROLLUP_SCHEMA:
        base = _resolve(ROLLUP_SCHEMA[read.method], dt.json_key)["$ref"]
    else:
        base = SCHEMAS["DataPoint"]["properties"][dt.json_key]["$ref"]
    for column in read.columns:
        leaf = _resolve(base, column.path)
        if column.type == "INT64" and column.conversion == "auto":
            assert leaf.get("format") in ("int64", "int32"), f"{column.name}: {leaf}"
        if column.type == "FLOAT64" and column.conversion == "auto":
            assert leaf.get("format") == "double", f"{column.name}: {leaf}"
        if column.conversion == "duration_s":
            assert leaf.get("format") == "google-duration"


@pytest.mark.parametrize(("dt", "read"), READS, ids=lambda x: getattr(x, "path_id", getattr(x, "table", "")))
def test_every_read_method_exists_for_the_collection(dt, read):
    methods = DISCOVERY["resources"]["users"]["resources"]["dataTypes"]["resources"]["dataPoints"]["methods"]
    assert read.method in methods


def test_rollup_caps_follow_the_api_limits():
    with pytest.raises(ValueError, match="exceeds the API cap of 14"):
        replace(by_path_id("heart-rate"), reads=(replace(by_path_id("heart-rate").reads[0], max_days=15),))


@pytest.mark.parametrize("dt", DATA_TYPES, ids=lambda d: d.path_id)
def test_each_entry_declares_the_rollup_range_cap_discovery_states_for_it(dt):
    assert dt.rollup_max_days == rollup_max_days(dt.path_id)


def test_follow_ups_build_units_of_kinds_the_catalogue_declares():
    kinds = unit_kinds()
    targets = [f.target for dt in DATA_TYPES for f in dt.follow_ups if isinstance(f, ExportDetail)]
    assert targets, "the exercise entry exports its GPS track"
    for target in targets:
        assert kinds[(target.name, target.method)] is target
        assert target.scope in required_scopes()


def test_a_follow_up_must_read_columns_its_type_has():
    sleep = by_path_id("sleep")
    with pytest.raises(ValueError, match="follow-up"):
        replace(sleep, follow_ups=(RereadUntil("finished", "re-read until finished"),))


def test_every_unit_kind_lands_in_a_table_of_its_own():
    tables = [kind.table.name for kind in unit_kinds().values()]
    assert len(tables) == len(set(tables))
    bookkeeping = {*LOG_TABLES, FETCH_PAGES_TABLE, FETCH_KEYS_TABLE}  # outcomes, ledger, consent; deletion tracking
    assert {kind.table for kind in unit_kinds().values()} | bookkeeping == set(all_tables())


def test_sessions_cannot_page_past_25():
    sleep = by_path_id("sleep")
    with pytest.raises(ValueError, match="sessions page at most 25"):
        replace(sleep, reads=(replace(sleep.reads[0], page_size=26),))


def test_an_entry_with_a_bad_spelling_is_rejected_at_construction():
    with pytest.raises(ValueError, match="kebab-case"):
        DataType("Heart_Rate", "sample", by_path_id("heart-rate").scope, by_path_id("heart-rate").reads, "x")


def test_a_key_column_must_exist():
    with pytest.raises(ValueError, match="key columns"):
        replace(by_path_id("steps"), reads=(replace(by_path_id("steps").reads[0], key=("participant_id", "nope")),))


def test_absence_defaults_only_for_numbers_and_booleans():
    with pytest.raises(ValueError, match="only numeric and boolean"):
        value_column("x", "STRING", "a", "d", zero_if_absent=True)


@pytest.mark.parametrize("table", all_tables(), ids=lambda t: t.name)
def test_every_table_is_partitioned_by_civil_date_and_clustered_by_participant(table):
    assert table.partition_field == "civil_date"
    assert table.cluster_fields == ("participant_id",)
    assert {"participant_id", "civil_date", "raw_object"} <= set(table.column_names)
    if table is not CONSENT_LOG_TABLE:  # an audit row is no parser's output
        assert "parser_version" in table.column_names


def test_time_columns_follow_the_record_type():
    steps = table_spec("steps", "reconcile").column_names
    assert {"start_time", "civil_start_time", "start_utc_offset_s"} <= set(steps)
    assert {"sample_time", "civil_time", "utc_offset_s"} <= set(table_spec("weight", "list").column_names)
    assert "start_time" not in table_spec("daily-resting-heart-rate", "reconcile").column_names
    assert "offset_source" in table_spec("heart-rate", "rollUp").column_names


def test_requested_scopes_are_exactly_what_the_catalogue_needs():
    prefix = "https://www.googleapis.com/auth/googlehealth."
    assert required_scopes() == tuple(prefix + s for s in (
        "activity_and_fitness.readonly", "health_metrics_and_measurements.readonly", "location.readonly",
        "settings.readonly", "sleep.readonly"))
    discovery_scopes = set(DISCOVERY["auth"]["oauth2"]["scopes"])
    assert set(required_scopes()) <= discovery_scopes
