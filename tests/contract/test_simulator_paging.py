"""Pagination: to the end without gaps or repeats, newest first, tokens bound to their parameters."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from simulator.timefmt import parse_rfc3339
from tests.conftest import Api

DAY = 'steps.interval.civil_start_time >= "2026-11-02" AND steps.interval.civil_start_time < "2026-11-03"'


def _pages(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        response = api.get(path, **params, **({"pageToken": token} if token else {}))
        assert response.status_code == 200, response.text
        pages.append(response.json())
        token = pages[-1].get("nextPageToken")
        if not token:
            return pages


def test_paging_to_the_end_returns_every_point_once_newest_first(api: Api) -> None:
    path = "/v4/users/me/dataTypes/steps/dataPoints"
    small = _pages(api, path, filter=DAY, pageSize=97)
    whole = _pages(api, path, filter=DAY, pageSize=10000)
    assert len(whole) == 1 and len(small) > 10
    assert all(len(p["dataPoints"]) == 97 for p in small[:-1])
    flat = [item for p in small for item in p["dataPoints"]]
    assert flat == whole[0]["dataPoints"]
    starts = [parse_rfc3339(i["steps"]["interval"]["startTime"]) for i in flat]
    assert starts == sorted(starts, reverse=True)


def test_one_second_heart_rate_pages_to_the_end_of_half_a_day(sim, api: Api) -> None:
    f = ('heart_rate.sample_time.civil_time >= "2026-11-02T00:00:00" AND '
         'heart_rate.sample_time.civil_time < "2026-11-02T12:00:00"')
    pages = _pages(api, "/v4/users/me/dataTypes/heart-rate/dataPoints", filter=f, pageSize=20000)
    assert len(pages) > 2 and all(len(p["dataPoints"]) == 10000 for p in pages[:-1]), "pageSize is capped at 10000"
    frame = sim.store.frame(sim.cohort.by_label("user1"), date(2026, 11, 2))
    assert sum(len(p["dataPoints"]) for p in pages) == sum(frame.worn[:720]) * 60
    seconds = {p["heartRate"]["sampleTime"]["physicalTime"] for page in pages for p in page["dataPoints"]}
    assert len(seconds) == sum(frame.worn[:720]) * 60, "one sample per second, none repeated"


def test_tokens_are_deterministic_and_bound_to_the_other_parameters(sim, api: Api) -> None:
    path = "/v4/users/me/dataTypes/steps/dataPoints"
    first = api.get(path, filter=DAY, pageSize=50).json()
    again = Api(sim).get(path, filter=DAY, pageSize=50).json()
    assert first == again
    token = first["nextPageToken"]
    other_filter = DAY.replace("2026-11-02", "2026-11-01")
    for params in ({"filter": other_filter, "pageSize": 50}, {"filter": DAY, "pageSize": 51},
                   {"filter": DAY, "pageSize": 50, "dataSourceFamily": "users/me/dataSourceFamilies/all-sources"}):
        response = api.get(path, **params, pageToken=token)
        assert response.status_code == 400
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert api.get(path + ":reconcile", filter=DAY, pageSize=50, pageToken=token).status_code == 400
    assert Api(sim, "user2").get(path, filter=DAY, pageSize=50, pageToken=token).status_code == 400
    assert api.get(path, filter=DAY, pageSize=50, pageToken="garbage!").status_code == 400


@pytest.mark.parametrize(("type_id", "size", "expected"), [
    ("sleep", None, 25), ("sleep", 100, 25), ("exercise", 1000, 25), ("steps", None, 1440), ("steps", 0, 1440),
])
def test_page_sizes_default_and_cap_per_type(sim, type_id: str, size: int | None, expected: int) -> None:
    api = Api(sim, "user1")
    params = {} if size is None else {"pageSize": size}
    page = api.get(f"/v4/users/me/dataTypes/{type_id}/dataPoints", **params).json()
    assert len(page["dataPoints"]) <= expected
    if "nextPageToken" in page:
        assert len(page["dataPoints"]) == expected


def test_a_negative_page_size_is_rejected_and_empty_answers_are_empty_objects(api: Api) -> None:
    assert api.get("/v4/users/me/dataTypes/steps/dataPoints", pageSize=-1).status_code == 400
    outside = 'steps.interval.civil_start_time >= "2025-01-01" AND steps.interval.civil_start_time < "2025-01-02"'
    assert api.get("/v4/users/me/dataTypes/steps/dataPoints", filter=outside).json() == {}
    assert api.get("/v4/users/me/dataTypes/hydration-log/dataPoints").json() == {}
    body = {"range": {"startTime": "2025-01-01T00:00:00Z", "endTime": "2025-01-02T00:00:00Z"}, "windowSize": "60s"}
    assert api.post("/v4/users/me/dataTypes/steps/dataPoints:rollUp", body).json() == {}


def test_rollups_page_with_tokens_in_the_body(api: Api) -> None:
    body: dict[str, Any] = {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"},
                            "windowSize": "60s", "pageSize": 500}
    windows: list[dict[str, Any]] = []
    while True:
        page = api.post("/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp", body).json()
        windows += page["rollupDataPoints"]
        if "nextPageToken" not in page:
            break
        body["pageToken"] = page["nextPageToken"]
    whole = api.post("/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp",
                     {**body, "pageSize": 10000, "pageToken": ""}).json()["rollupDataPoints"]
    assert windows == whole
    changed = api.post("/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp",
                       {**body, "windowSize": "120s", "pageToken": page.get("nextPageToken") or "x"})
    assert changed.status_code == 400
