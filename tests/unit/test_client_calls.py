"""The pure call builders, checked against Google's discovery document (the contract the server enforces)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from fitbit.calls import (
    ApiCall,
    daily_roll_up_call,
    export_tcx_call,
    identity_call,
    list_call,
    paired_devices_call,
    reconcile_call,
    roll_up_call,
    settings_call,
)
from fitbit.catalogue import TypeRead, unit_kinds
from fitbit.messages import Unit
from simulator.discovery import document

DAY = datetime(2026, 11, 21, tzinfo=UTC)


def _methods() -> dict[str, dict[str, Any]]:
    doc = document()
    found: dict[str, dict[str, Any]] = {}

    def walk(resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                found[method["id"]] = method
            walk(resource.get("resources", {}))

    walk(doc["resources"])
    found["$schemas"] = doc["schemas"]
    return found


METHODS = _methods()

ALL_CALLS = [
    list_call("steps", filter='steps.date >= "2026-11-21"', page_size=10, page_token="t",
              data_source_family="google-wearables"),
    reconcile_call("heart-rate", filter=None, page_size=None, page_token="t", data_source_family="all-sources"),
    roll_up_call("heart-rate", start=DAY, end=DAY + timedelta(days=1), window_size="60s", page_size=100,
                 page_token="t", data_source_family="google-sources"),
    daily_roll_up_call("steps", start=date(2026, 11, 15), end=date(2026, 11, 22), page_size=7, page_token="t"),
    export_tcx_call("7394018225563310417", partial_data=True),
    identity_call(),
    settings_call(),
    paired_devices_call("t", page_size=5),
]


@pytest.mark.parametrize("call", ALL_CALLS, ids=lambda c: c.discovery_method)
def test_every_call_matches_its_method_in_the_discovery_document(call: ApiCall) -> None:
    method = METHODS["health." + call.discovery_method]
    assert call.http_method == method["httpMethod"]
    pattern = re.sub(r"\\\{[A-Za-z]+\\\}", "[^/:]+", re.escape(method["flatPath"]))
    assert re.fullmatch(pattern, call.path), (call.path, method["flatPath"])
    system = {"alt"}
    assert {k for k, _ in call.query} <= set(method.get("parameters", {})) | system
    if call.body is not None:
        schema = METHODS["$schemas"][method["request"]["$ref"]]
        assert set(call.body) <= set(schema["properties"])
    else:
        assert "request" not in method


def test_list_puts_filter_page_size_token_and_family_in_the_query() -> None:
    call = list_call("steps", filter="f", page_size=10000, page_token="tok", data_source_family="google-wearables")
    assert call.path == "v4/users/me/dataTypes/steps/dataPoints"
    assert call.query == (("filter", "f"), ("pageSize", "10000"), ("pageToken", "tok"),
                          ("dataSourceFamily", "users/me/dataSourceFamilies/google-wearables"))
    assert call.body is None and call.discovery_method == "users.dataTypes.dataPoints.list"


def test_reconcile_uses_the_colon_method_and_omits_absent_parameters() -> None:
    call = reconcile_call("daily-resting-heart-rate", filter=None, page_size=None)
    assert call.path == "v4/users/me/dataTypes/daily-resting-heart-rate/dataPoints:reconcile"
    assert call.query == ()


def test_a_full_data_source_family_name_is_kept_and_an_unknown_one_refused() -> None:
    full = "users/me/dataSourceFamilies/self-sources"
    assert dict(list_call("steps", filter=None, page_size=None, data_source_family=full).query)[
        "dataSourceFamily"] == full
    with pytest.raises(ValueError, match="data_source_family"):
        list_call("steps", filter=None, page_size=None, data_source_family="fitbit")


@pytest.mark.parametrize("bad", ["heart_rate", "HeartRate", "heart rate", "../x", ""])
def test_data_types_must_be_kebab_case_path_ids(bad: str) -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        list_call(bad, filter=None, page_size=None)


@pytest.mark.parametrize("bad", [0, -1, 10001, True, "100"])
def test_page_sizes_outside_1_to_10000_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="page_size"):
        list_call("steps", filter=None, page_size=bad)  # type: ignore[arg-type]


def test_roll_up_sends_a_utc_range_and_window_in_the_body() -> None:
    berlin = timezone(timedelta(hours=1))
    call = roll_up_call("heart-rate", start=datetime(2026, 11, 21, 1, tzinfo=berlin),
                        end=datetime(2026, 11, 22, 1, tzinfo=berlin), window_size="60s", page_size=1440)
    assert call.http_method == "POST" and call.path.endswith("/heart-rate/dataPoints:rollUp")
    assert call.body == {"range": {"startTime": "2026-11-21T00:00:00Z", "endTime": "2026-11-22T00:00:00Z"},
                         "windowSize": "60s", "pageSize": 1440}


@pytest.mark.parametrize("window", ["0s", "0.5s", "-60s", "60", "1m", ""])
def test_roll_up_refuses_windows_shorter_than_a_second_or_malformed(window: str) -> None:
    with pytest.raises(ValueError, match="window_size"):
        roll_up_call("steps", start=DAY, end=DAY + timedelta(hours=1), window_size=window)


def test_roll_up_refuses_naive_or_inverted_bounds() -> None:
    with pytest.raises(ValueError, match="naive"):
        roll_up_call("steps", start=datetime(2026, 11, 21), end=DAY, window_size="60s")
    with pytest.raises(ValueError, match="after"):
        roll_up_call("steps", start=DAY, end=DAY, window_size="60s")


def test_daily_roll_up_sends_civil_dates_as_plain_integers_with_an_exclusive_end() -> None:
    call = daily_roll_up_call("steps", start=date(2026, 9, 1), end=date(2026, 9, 8))
    assert call.body == {
        "range": {"start": {"date": {"year": 2026, "month": 9, "day": 1}},
                  "end": {"date": {"year": 2026, "month": 9, "day": 8}}},
        "windowSizeDays": 1,
    }
    assert '"month":9' in call.metadata()["body"] and "09" not in call.metadata()["body"]


@pytest.mark.parametrize(
    ("start", "end", "window"),
    [(date(2026, 9, 2), date(2026, 9, 2), 1), (date(2026, 9, 3), date(2026, 9, 2), 1),
     (date(2026, 9, 1), date(2026, 9, 2), 0), (DAY, date(2026, 11, 22), 1)],
    ids=["empty", "inverted", "zero-window", "datetime-start"],
)
def test_daily_roll_up_refuses_empty_inverted_or_mistyped_ranges(start: date, end: date, window: int) -> None:
    with pytest.raises(ValueError):
        daily_roll_up_call("steps", start=start, end=end, window_days=window)


def test_a_tcx_export_accepts_a_bare_id_or_a_full_resource_name() -> None:
    bare = export_tcx_call("7394018225563310417")
    full = export_tcx_call("users/2210458839101187653/dataTypes/exercise/dataPoints/7394018225563310417")
    assert bare.path == full.path == "v4/users/me/dataTypes/exercise/dataPoints/7394018225563310417:exportExerciseTcx"
    with pytest.raises(ValueError):
        export_tcx_call("a/b?c")


def test_tcx_export_asks_for_the_media_form_for_user_me() -> None:
    call = export_tcx_call("users/me/dataTypes/exercise/dataPoints/42")
    assert call.path == "v4/users/me/dataTypes/exercise/dataPoints/42:exportExerciseTcx"
    assert call.query == (("alt", "media"),)


def test_account_calls_address_user_me() -> None:
    assert identity_call().path == "v4/users/me/identity"
    assert settings_call().path == "v4/users/me/settings"
    assert paired_devices_call().path == "v4/users/me/pairedDevices"
    with pytest.raises(ValueError):
        identity_call(user="me/../x")


def test_metadata_describes_a_get_for_the_raw_store() -> None:
    call = list_call("steps", filter='steps.interval.civil_start_time >= "2026-11-21"', page_size=10000,
                     page_token="p2")
    assert call.metadata() == {
        "api_version": "v4",
        "discovery_method": "users.dataTypes.dataPoints.list",
        "http_method": "GET",
        "path": "v4/users/me/dataTypes/steps/dataPoints",
        "filter": 'steps.interval.civil_start_time >= "2026-11-21"',
        "page_token": "p2",
        "page_size": "10000",
        "body": "",
    }


def test_metadata_of_a_post_holds_its_compact_body_page_size_and_token() -> None:
    call = roll_up_call("steps", start=DAY, end=DAY + timedelta(days=1), window_size="3600s", page_size=24,
                        page_token="t9")
    meta = call.metadata()
    assert meta["page_size"] == "24" and meta["page_token"] == "t9" and meta["filter"] == ""
    assert " " not in meta["body"] and json.loads(meta["body"]) == call.body
    assert all(isinstance(v, str) for v in meta.values())


def test_with_page_token_replaces_the_previous_token() -> None:
    call = list_call("steps", filter="f", page_size=5, page_token="a").with_page_token("b")
    assert [v for k, v in call.query if k == "pageToken"] == ["b"]


KINDS = list(unit_kinds().values())


@pytest.mark.parametrize("kind", KINDS, ids=[f"{k.name}-{k.method}" for k in KINDS])
def test_every_unit_kind_builds_the_call_of_its_own_method_that_discovery_accepts(kind: Any) -> None:
    days = kind.read.max_days if isinstance(kind, TypeRead) else 1
    start = date(2026, 11, 1)
    unit = Unit("u", kind.name, kind.method, start, start + timedelta(days=days), "daily", page_token="t",
                data_point="7394018225563310417")
    call = kind.call(unit, "America/New_York")
    test_every_call_matches_its_method_in_the_discovery_document(call)
    assert call.items_key == kind.items_key and call.media == (kind.content_type != "application/json")
