"""The contract tooling itself, and the seams between the simulator, the catalogue and discovery."""

from __future__ import annotations

import copy
import re

import pytest

from fitbit.catalogue import DATA_TYPES
from simulator import discovery as sim_discovery
from simulator import oauth
from simulator.generators import GENERATORS, OTHER_POINT_TYPES, OTHER_ROLLUP_TYPES
from tests.discovery_contract import ContractError, assert_valid, discovery, match_request, schemas, validate

GOOD_POINT = {
    "dataSource": {"recordingMethod": "PASSIVELY_MEASURED", "platform": "FITBIT",
                   "device": {"displayName": "Charge 6", "formFactor": "FITNESS_BAND"}},
    "heartRate": {
        "sampleTime": {"physicalTime": "2026-11-21T03:02:15Z", "utcOffset": "3600s",
                       "civilTime": {"date": {"year": 2026, "month": 11, "day": 21},
                                     "time": {"hours": 4, "minutes": 2, "seconds": 15}}},
        "beatsPerMinute": "52",
        "metadata": {"motionContext": "SEDENTARY", "sensorLocation": "WRIST"},
    },
}


def test_the_discovery_document_is_the_bundled_health_v4_revision() -> None:
    doc = discovery()
    assert doc["name"] == "health" and doc["version"] == "v4"
    assert doc["revision"] >= "20261030"


def test_a_well_formed_point_validates() -> None:
    assert validate({"dataPoints": [GOOD_POINT], "nextPageToken": "abc"}, "ListDataPointsResponse") == []


@pytest.mark.parametrize(("mutate", "fragment"), [
    (lambda p: p["heartRate"].__setitem__("beatsPerMinute", 52), "expected a string"),
    (lambda p: p["heartRate"].__setitem__("beatsPerMinute", "52.5"), "int64 string"),
    (lambda p: p["heartRate"].__setitem__("heartbeat", "52"), "unknown field 'heartbeat'"),
    (lambda p: p.__setitem__("extra", 1), "unknown field 'extra'"),
    (lambda p: p["heartRate"]["metadata"].__setitem__("sensorLocation", "ANKLE"), "not one of the enum"),
    (lambda p: p["heartRate"]["sampleTime"].__setitem__("utcOffset", "3600"), "duration"),
    (lambda p: p["heartRate"]["sampleTime"].__setitem__("physicalTime", "2026-11-21 03:02:15"), "RFC 3339"),
    (lambda p: p["heartRate"]["sampleTime"]["civilTime"]["date"].__setitem__("day", "21"), "expected an integer"),
    (lambda p: p["dataSource"].__setitem__("device", []), "expected an object"),
])
def test_a_deliberately_broken_field_fails_validation(mutate, fragment: str) -> None:  # type: ignore[no-untyped-def]
    point = copy.deepcopy(GOOD_POINT)
    mutate(point)
    errors = validate({"dataPoints": [point]}, "ListDataPointsResponse")
    assert any(fragment in e for e in errors), errors
    with pytest.raises(ContractError):
        assert_valid({"dataPoints": [point]}, "ListDataPointsResponse")


def test_reconciled_points_may_not_carry_a_data_source() -> None:
    assert validate({"dataPoints": [GOOD_POINT]}, "ReconcileDataPointsResponse") == [
        "$.dataPoints[0]: unknown field 'dataSource'"]


def test_requests_map_to_discovery_methods_by_verb_path_and_parameters() -> None:
    base = "/v4/users/me/dataTypes/steps/dataPoints"
    assert match_request("GET", base + "?pageSize=10&filter=x").id == "health.users.dataTypes.dataPoints.list"
    assert match_request("GET", base + ":reconcile").id == "health.users.dataTypes.dataPoints.reconcile"
    assert match_request("POST", base + ":rollUp", {"windowSize": "60s"}).id.endswith("dataPoints.rollUp")
    assert match_request("GET", "/v4/users/me/dataTypes/exercise/dataPoints/1:exportExerciseTcx?alt=media").id \
        .endswith("exportExerciseTcx")
    assert match_request("GET", "/v4/users/me/dataTypes/exercise/dataPoints/1").id.endswith("dataPoints.get")
    assert match_request("GET", "/v4/users/me/identity").id == "health.users.getIdentity"
    for method, url in [("GET", base + ":rollUp"), ("GET", base + "?colour=red"), ("GET", base + "?pageSize=x"),
                        ("GET", "/v4/users/me/dataTypes/steps/points"), ("DELETE", "/v4/users/me/identity")]:
        with pytest.raises(ContractError):
            match_request(method, url)
    with pytest.raises(ContractError):
        match_request("POST", base + ":rollUp", {"windowSize": 60})


def test_every_catalogue_type_has_a_generator() -> None:
    missing = [dt.path_id for dt in DATA_TYPES if dt.path_id not in GENERATORS]
    assert not missing, f"catalogue types without a simulator generator: {missing}"
    assert set(GENERATORS) == {dt.path_id for dt in DATA_TYPES}


def test_catalogue_spellings_exist_in_the_discovery_unions() -> None:
    point_keys = set(schemas()["DataPoint"]["properties"])
    rollup_keys = set(schemas()["RollupDataPoint"]["properties"])
    for dt in DATA_TYPES:
        assert dt.json_key in (point_keys if dt.has_data_point_schema else rollup_keys), dt.path_id
        assert dt.filter_id == dt.path_id.replace("-", "_")


def test_rollup_capable_types_match_the_discovery_rollup_union() -> None:
    rollup_keys = set(schemas()["RollupDataPoint"]["properties"]) - {"startTime", "endTime"}
    daily_keys = set(schemas()["DailyRollupDataPoint"]["properties"])
    for dt in DATA_TYPES:
        capable = GENERATORS[dt.path_id].rollup is not None
        assert capable == (dt.json_key in rollup_keys), dt.path_id
        assert capable == (dt.json_key in daily_keys), dt.path_id
        for read in dt.reads:
            if read.method in ("rollUp", "dailyRollUp"):
                assert capable, f"{dt.path_id} reads {read.method} but the simulator cannot roll it up"


def test_the_simulator_reads_the_rollup_limits_off_the_discovery_document() -> None:
    range_text = schemas()["RollUpDataPointsRequest"]["properties"]["range"]["description"]
    named = {name for name in re.findall(r"`([a-z-]+)`", range_text)}
    assert named and all(sim_discovery.rollup_max_days(name) == 14 for name in named)
    assert sim_discovery.rollup_max_days("steps") == 90 and "steps" not in named
    assert sim_discovery.daily_rollup_page_max("heart-rate") == 14
    assert sim_discovery.daily_rollup_page_max("steps") == 90


def test_a_reworded_discovery_fact_stops_the_simulator_instead_of_a_guess(monkeypatch) -> None:
    reworded = copy.deepcopy(discovery())
    reworded["schemas"]["RollUpDataPointsRequest"]["properties"]["range"]["description"] = "Closed-open range."
    monkeypatch.setattr(sim_discovery, "document", lambda: reworded)
    sim_discovery._range_caps.cache_clear()
    try:
        with pytest.raises(sim_discovery.DiscoveryFactMissing, match="rollup range caps"):
            sim_discovery.rollup_max_days("steps")
    finally:
        sim_discovery._range_caps.cache_clear()


def test_every_api_type_outside_the_catalogue_answers_empty_and_an_unknown_type_is_refused(api) -> None:
    catalogue = {dt.path_id for dt in DATA_TYPES}
    assert OTHER_POINT_TYPES and not OTHER_POINT_TYPES & catalogue and not OTHER_ROLLUP_TYPES & catalogue
    for type_id in sorted(OTHER_POINT_TYPES):
        response = api.get(f"/v4/users/me/dataTypes/{type_id}/dataPoints")
        assert (response.status_code, response.json()) == (200, {}), type_id
    window = {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "windowSize": "3600s"}
    for type_id in sorted(OTHER_ROLLUP_TYPES):
        response = api.post(f"/v4/users/me/dataTypes/{type_id}/dataPoints:rollUp", window)
        assert (response.status_code, response.json()) == (200, {}), type_id
    refused = api.get("/v4/users/me/dataTypes/telepathy/dataPoints")
    assert refused.status_code == 400 and "INVALID_PARENT_DATA_TYPE_COLLECTION" in refused.text


def test_the_oauth_stand_in_knows_every_discovery_scope() -> None:
    scopes = set(discovery()["auth"]["oauth2"]["scopes"]) - {"https://www.googleapis.com/auth/cloud-platform"}
    assert scopes <= oauth.KNOWN_SCOPES
    for dt in DATA_TYPES:
        assert dt.scope in scopes
