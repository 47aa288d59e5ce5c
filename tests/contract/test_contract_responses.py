"""Every simulator answer validates against the discovery schemas, generated from the catalogue.

For each catalogue type and each read the API offers for it (list / reconcile when it has a
DataPoint schema, rollUp / dailyRollUp when it is a rollup union member, get when identifiable,
exportExerciseTcx for exercise), every participant's answers must validate, and every request the
client sent must map to a discovery method with only parameters that method declares.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from typing import Any

import pytest

from fitbit.catalogue import DATA_TYPES, DataType
from fitbit.catalogue.followups import ExportDetail
from simulator import default_scopes
from simulator.generators import GENERATORS
from tests.conftest import Api
from tests.discovery_contract import assert_valid, match_request

USERS = ("user1", "user2", "user3", "user4", "user5")
DAY = date(2026, 11, 1)  # US DST change; the traveller flies back from Tokyo that morning
PREFIX = "health.users.dataTypes.dataPoints."


def methods_for(dt: DataType) -> list[str]:
    out = []
    if dt.has_data_point_schema:
        out += ["list", "reconcile"]
    if GENERATORS[dt.path_id].rollup is not None:
        out += ["rollUp", "dailyRollUp"]
    if dt.identifiable:
        out.append("get")
    out += [f.target.method for f in dt.follow_ups if isinstance(f, ExportDetail)]  # exportExerciseTcx
    return out


CASES = [pytest.param(dt, m, id=f"{dt.path_id}-{m}") for dt in DATA_TYPES for m in methods_for(dt)]


def _checked(api: Api, response: Any, method_id: str, schema: str | None, body: Any = None) -> dict[str, Any]:
    request = response.request
    match = match_request(request.method, request.path_url, body)
    assert match.id == method_id
    assert response.status_code == 200, response.text[:500]
    if schema is None:
        return {}
    data = response.json()
    assert_valid(data, schema)
    assert match.response == schema
    return data


def _read(api: Api, dt: DataType, method: str) -> None:
    suffix = ":reconcile" if method == "reconcile" else ""
    member = dt.filter_member
    nxt = (DAY + timedelta(days=1)).isoformat()
    params = {"filter": f'{member} >= "{DAY.isoformat()}" AND {member} < "{nxt}"'}
    schema = "ReconcileDataPointsResponse" if method == "reconcile" else "ListDataPointsResponse"
    path = f"/v4/users/me/dataTypes/{dt.path_id}/dataPoints{suffix}"
    data = _checked(api, api.get(path, **params), PREFIX + method, schema)
    if token := data.get("nextPageToken"):
        _checked(api, api.get(path, **params, pageToken=token), PREFIX + method, schema)
    unfiltered = _checked(api, api.get(path, pageSize=5), PREFIX + method, schema)
    if not GENERATORS[dt.path_id].occasional:
        assert unfiltered.get("dataPoints"), f"{dt.path_id}: no data in the whole window"


def _roll_up(api: Api, dt: DataType) -> None:
    body = {"range": {"startTime": f"{DAY.isoformat()}T00:00:00Z",
                      "endTime": f"{(DAY + timedelta(days=1)).isoformat()}T00:00:00Z"}, "windowSize": "3600s"}
    path = f"/v4/users/me/dataTypes/{dt.path_id}/dataPoints:rollUp"
    _checked(api, api.post(path, body), PREFIX + "rollUp", "RollUpDataPointsResponse", body)


def _daily(api: Api, dt: DataType) -> None:
    def civil(d: date) -> dict[str, Any]:
        return {"date": {"year": d.year, "month": d.month, "day": d.day}}

    body = {"range": {"start": civil(DAY - timedelta(days=6)), "end": civil(DAY + timedelta(days=1))},
            "windowSizeDays": 1}
    path = f"/v4/users/me/dataTypes/{dt.path_id}/dataPoints:dailyRollUp"
    data = _checked(api, api.post(path, body), PREFIX + "dailyRollUp", "DailyRollUpDataPointsResponse", body)
    if not GENERATORS[dt.path_id].occasional:
        assert data.get("rollupDataPoints"), f"{dt.path_id}: a week without a daily rollup"


def _first_point_id(api: Api, dt: DataType, **params: Any) -> str | None:
    for item in api.get(f"/v4/users/me/dataTypes/{dt.path_id}/dataPoints", **params).json().get("dataPoints", []):
        if dt.path_id != "exercise" or item["exercise"].get("exerciseMetadata", {}).get("hasGps"):
            return item["name"].rsplit("/", 1)[-1]
    return None


@pytest.mark.parametrize(("dt", "method"), CASES)
@pytest.mark.parametrize("user", USERS)
def test_every_answer_validates_against_discovery(sim, user: str, dt: DataType, method: str) -> None:
    api = Api(sim, user)
    if method in ("list", "reconcile"):
        _read(api, dt, method)
    elif method == "rollUp":
        _roll_up(api, dt)
    elif method == "dailyRollUp":
        _daily(api, dt)
    elif method == "get":
        point = _first_point_id(api, dt)
        assert point
        _checked(api, api.get(f"/v4/users/me/dataTypes/{dt.path_id}/dataPoints/{point}"), PREFIX + "get", "DataPoint")
    else:
        point = _first_point_id(api, dt, pageSize=25)
        if point is None:
            pytest.skip(f"{user} has no GPS session on the first page")
        path = f"/v4/users/me/dataTypes/exercise/dataPoints/{point}:exportExerciseTcx"
        data = _checked(api, api.get(path), PREFIX + "exportExerciseTcx", "ExportExerciseTcxResponse")
        media = api.get(path, alt="media")
        _checked(api, media, PREFIX + "exportExerciseTcx", None)
        assert media.headers["Content-Type"] == "application/vnd.garmin.tcx+xml"
        assert media.content.decode() == data["tcxData"]
        ns = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
        points = ET.fromstring(media.content).findall(".//t:Trackpoint", ns)
        assert points and points[0].find("t:Position/t:LatitudeDegrees", ns) is not None


@pytest.mark.parametrize("dt", [dt for dt in DATA_TYPES if dt.has_data_point_schema], ids=lambda d: d.path_id)
def test_every_type_has_points_for_some_participant_even_an_occasional_one(sim, dt: DataType) -> None:
    found = [user for user in USERS
             if Api(sim, user).get(f"/v4/users/me/dataTypes/{dt.path_id}/dataPoints", pageSize=1).json()]
    assert found, f"{dt.path_id}: nobody in the cohort has a single point"


def test_the_catalogue_reads_are_a_subset_of_what_the_contract_tests_cover() -> None:
    for dt in DATA_TYPES:
        assert {r.method for r in dt.reads} <= set(methods_for(dt)), dt.path_id


@pytest.mark.parametrize(("path", "method_id", "schema"), [
    ("/v4/users/me/identity", "health.users.getIdentity", "Identity"),
    ("/v4/users/me/settings", "health.users.getSettings", "Settings"),
    ("/v4/users/me/profile", "health.users.getProfile", "Profile"),
    ("/v4/users/me/pairedDevices", "health.users.pairedDevices.list", "ListPairedDevicesResponse"),
    ("/v4/users/me/irnProfile", "health.users.getIrnProfile", "IrnProfile"),
])
@pytest.mark.parametrize("user", USERS)
def test_account_answers_validate_against_discovery(sim, user: str, path: str, method_id: str, schema: str) -> None:
    api = Api(sim, user, (*default_scopes(), "https://www.googleapis.com/auth/googlehealth.irn.readonly"))
    data = _checked(api, api.get(path), method_id, schema)
    if schema == "ListPairedDevicesResponse":
        device = data["pairedDevices"][0]["name"].rsplit("/", 1)[-1]
        _checked(api, api.get(f"{path}/{device}"), "health.users.pairedDevices.get", "PairedDevice")


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/v4/users/me/dataTypes/steps/dataPoints?filter=steps.interval.start_time%20%3E%20%22x%22", None, 400),
    ("GET", "/v4/users/me/dataTypes/total-calories/dataPoints", None, 400),
    ("POST", "/v4/users/me/dataTypes/steps/dataPoints:rollUp",
     {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "windowSize": "0.5s"}, 400),
    ("GET", "/v4/users/me/dataTypes/sleep/dataPoints/0000", None, 404),
    ("GET", "/v4/users/123/identity", None, 403),
])
def test_error_bodies_are_google_status_envelopes(api: Api, method: str, path: str, body: Any, status: int) -> None:
    response = api.session.request(method, api.base_url + path, json=body)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"error"}
    # Google's JSON error format is google.rpc.Status plus the canonical code name in "status".
    error = dict(data["error"])
    assert error.pop("status") in ("INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED")
    assert_valid(error, "Status")
    assert error["code"] == status
    for detail in error.get("details", []):
        assert detail["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" and detail["reason"]
