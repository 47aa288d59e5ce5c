"""Google's system parameters on every method (issue #12, observation 9), and the pipeline's choice of enums.

Google's generated REST clients send ``$alt=json;enum-encoding=int`` on every call; the front end accepts
every documented system parameter (cloud.google.com/apis/docs/system-parameters, checked 2026-11-30), in
its ``$`` spelling and, where one exists, its header. The simulator must answer such a client, enums as
integers included. The pipeline never asks for integer enums: its calls carry no ``$alt`` and no
``enum-encoding``, so names arrive and names are stored.
"""

from __future__ import annotations

from datetime import date

import pytest

from fitbit.catalogue import unit_kinds
from fitbit.client import DEFAULT_BASE_URL, HealthClient
from fitbit.messages import Unit
from simulator import SimConfig, Simulator
from simulator.discovery import schemas
from tests.conftest import Api

SLEEP = "/v4/users/me/dataTypes/sleep/dataPoints"
STEPS = "/v4/users/me/dataTypes/steps/dataPoints"
NIGHT = 'sleep.interval.civil_end_time >= "2026-11-04" AND sleep.interval.civil_end_time < "2026-11-05"'


@pytest.fixture(scope="module")
def api() -> Api:
    return Api(Simulator(SimConfig(users=1, days=3, sleep_processing_seconds=0)))


def _enum_index(schema: str, field: str, value: str) -> int:
    return schemas()[schema]["properties"][field]["enum"].index(value)


def test_enums_come_back_as_integers_when_a_generated_client_asks(api):
    names = api.get(SLEEP, filter=NIGHT).json()["dataPoints"]
    numbers = api.get(SLEEP, filter=NIGHT, **{"$alt": "json;enum-encoding=int"}).json()["dataPoints"]
    assert len(numbers) == len(names) >= 1
    for named, numbered in zip(names, numbers):
        assert numbered["sleep"]["type"] == _enum_index("Sleep", "type", named["sleep"]["type"])
        assert [s["type"] for s in numbered["sleep"]["stages"]] == [
            _enum_index("SleepStage", "type", s["type"]) for s in named["sleep"]["stages"]]
        assert numbered["dataSource"]["platform"] == _enum_index("DataSource", "platform",
                                                                 named["dataSource"]["platform"])
        assert numbered["sleep"]["interval"] == named["sleep"]["interval"]  # only enums change
        assert numbered["name"] == named["name"]


@pytest.mark.parametrize("param", ["$alt", "alt"])
def test_enum_encoding_is_read_from_either_spelling_of_alt(api, param):
    point = api.get(SLEEP, filter=NIGHT, **{param: "json;enum-encoding=int"}).json()["dataPoints"][0]
    assert isinstance(point["sleep"]["type"], int)


@pytest.mark.parametrize(("param", "value"), [
    ("$alt", "json"), ("$.xgafv", "2"), ("$callback", "cb"), ("callback", "cb"), ("$ct", "application/json"),
    ("$fields", "dataPoints"), ("$key", "AIza-test"), ("key", "AIza-test"), ("$prettyPrint", "false"),
    ("quotaUser", "q1"), ("$quotaUser", "q1"), ("$userProject", "p1"), ("$apiVersion", "v4"),
    ("$requestReason", "audit"), ("$outputDefaults", "false"), ("$unique", "1"), ("access_token", None),
    ("oauth_token", None), ("uploadType", "media"), ("upload_protocol", "raw"),
])
def test_every_documented_system_parameter_is_accepted(api, param, value):
    if value is None:  # the access token itself, in the query instead of the header
        value = api.token["access_token"]
    response = api.get(STEPS, pageSize=2, **{param: value})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("param", ["passwd", "password", "notAParameter"])
def test_reserved_and_unknown_parameters_are_still_refused(api, param):
    assert api.get(STEPS, pageSize=2, **{param: "x"}).status_code == 400


def test_dollar_fields_and_the_field_mask_header_give_partial_responses(api):
    mask = "dataPoints(steps(interval/startTime)),nextPageToken"
    by_param = api.get(STEPS, pageSize=2, **{"$fields": mask}).json()
    by_header = api.session.get(api.base_url + STEPS, params={"pageSize": 2}, headers={"X-Goog-FieldMask": mask},
                                timeout=30).json()
    plain = api.get(STEPS, pageSize=2, fields=mask).json()
    assert by_param == by_header == plain and set(plain) == {"dataPoints", "nextPageToken"}
    assert all(set(p["steps"]) == {"interval"} for p in plain["dataPoints"])


def test_a_partial_response_with_integer_enums_trims_and_encodes(api):
    points = api.get(SLEEP, filter=NIGHT, fields="dataPoints(sleep/type)",
                     **{"$alt": "json;enum-encoding=int"}).json()["dataPoints"]
    assert points and all(set(p) == {"sleep"} and isinstance(p["sleep"]["type"], int) for p in points)


def test_the_pipeline_never_asks_for_integer_enums():
    """Decided: string enums only. Every request any unit kind builds, as the client sends it, carries no
    ``$alt`` and no ``enum-encoding`` (``alt=media`` for TCX files is the one ``alt`` it uses)."""
    client = HealthClient(lambda: "t")
    for kind in unit_kinds().values():
        unit = Unit("user1", kind.name, kind.method, date(2026, 11, 1), date(2026, 11, 2), "daily",
                    data_point="123" if kind.per_data_point else None)
        call = kind.call(unit, "Europe/Berlin")
        url = client.url(call)
        assert url.startswith(DEFAULT_BASE_URL)
        assert "enum-encoding" not in url and "%24alt" not in url and "$alt" not in url
        assert {value for name, value in call.query if name == "alt"} <= {"media"}
