"""Pure builders of Google Health API v4 requests: an ``ApiCall`` describes one request completely.

Why pure: an ``ApiCall`` holds no secret (the token is added by ``fitbit.client.HealthClient``), so the
extract step can store it beside the raw bytes (``ApiCall.metadata``) and a unit can be replayed. The
builders validate their inputs and raise ``ValueError`` with the reason, so a bad request is caught
before it is spent. They know the API, not the catalogue: data types are addressed by their kebab-case
path id.

API facts (discovery revision 20261030 bundled with google-api-python-client, checked 2026-11-23;
team spec §1, §4):

- base ``https://health.googleapis.com/``, paths ``v4/users/{user}/...``, ``{user}`` is ``me``;
- ``list`` / ``:reconcile`` are GET with ``filter``, ``pageSize``, ``pageToken``, ``dataSourceFamily``;
  ``:rollUp`` / ``:dailyRollUp`` are POST with ``range``, window, ``pageSize``, ``pageToken`` in the body;
- page sizes are at most 10000 (``PAGE_SIZE_MAX``); paired devices at most 100;
- items sit in ``dataPoints``, ``rollupDataPoints`` or ``pairedDevices`` (``ITEMS_KEYS``);
- ``dailyRollUp`` dates are ``{"year", "month", "day"}`` JSON integers (leading zeros are a 400); the
  discovery document calls the range closed-open, which is what our exclusive ``end`` sends;
- ``exportExerciseTcx`` needs ``alt=media`` to return TCX XML, and only accepts the user ``me``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from fitbit.ids import data_point_id_problem
from fitbit.timefmt import civil_range, physical_range

__all__ = [
    "API_VERSION", "ITEMS_KEYS", "KEBAB_CASE", "PAGE_SIZE_MAX", "ApiCall", "daily_roll_up_call", "export_tcx_call",
    "identity_call", "list_call", "paired_devices_call", "reconcile_call", "roll_up_call",
    "settings_call",
]

API_VERSION = "v4"
DATA_SOURCE_FAMILIES = ("all-sources", "google-wearables", "google-sources", "self-sources")
PAGE_SIZE_MAX = 10000
PAIRED_DEVICES_PAGE_MAX = 100
# A data type's path id: kebab-case, as the API spells it in URLs ("heart-rate").
KEBAB_CASE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

DATA_POINTS = "users.dataTypes.dataPoints."
PAIRED_DEVICES = "users.pairedDevices.list"
# Which array of the response envelope holds the items, by discovery method.
ITEMS_KEYS: Mapping[str, str] = {
    DATA_POINTS + "list": "dataPoints",
    DATA_POINTS + "reconcile": "dataPoints",
    DATA_POINTS + "rollUp": "rollupDataPoints",
    DATA_POINTS + "dailyRollUp": "rollupDataPoints",
    PAIRED_DEVICES: "pairedDevices",
}
_USER = re.compile(r"^[A-Za-z0-9-]{1,63}$")
_DURATION = re.compile(r"^[0-9]+(\.[0-9]{1,9})?s$")


@dataclass(frozen=True)
class ApiCall:
    """One HTTP request, fully described and free of secrets (the token is added when it is sent)."""

    http_method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: Mapping[str, Any] | None = None
    discovery_method: str = ""

    @property
    def media(self) -> bool:
        """True when the response is a file (``alt=media``), not a JSON envelope."""
        return ("alt", "media") in self.query

    @property
    def items_key(self) -> str | None:
        """The envelope array holding this call's items; None when the answer is one object or a file."""
        return ITEMS_KEYS.get(self.discovery_method)

    def param(self, name: str) -> str:
        """A query parameter or top-level body field as a string; ``""`` when absent."""
        for key, value in self.query:
            if key == name:
                return value
        if self.body is not None and name in self.body:
            return str(self.body[name])
        return ""

    def with_page_token(self, token: str) -> ApiCall:
        """The same call asking for the page ``token`` names (query for GET, body for POST)."""
        if self.http_method == "POST":
            return replace(self, body={**(self.body or {}), "pageToken": token})
        kept = tuple((k, v) for k, v in self.query if k != "pageToken")
        return replace(self, query=(*kept, ("pageToken", token)))

    def metadata(self) -> dict[str, str]:
        """String metadata for the raw store (GCS custom metadata); never holds a secret."""
        body = json.dumps(self.body, separators=(",", ":"), sort_keys=True) if self.body is not None else ""
        return {
            "api_version": self.path.split("/", 1)[0],
            "discovery_method": self.discovery_method,
            "http_method": self.http_method,
            "path": self.path,
            "filter": self.param("filter"),
            "page_token": self.param("pageToken"),
            "page_size": self.param("pageSize"),
            "body": body,
        }


def items_key(discovery_method: str) -> str | None:
    """The envelope array of a discovery method's answer (``dataPoints``, ...); None for single objects."""
    return ITEMS_KEYS.get(discovery_method)


def _type_id(path_id: str) -> str:
    if not isinstance(path_id, str) or not KEBAB_CASE.match(path_id):
        raise ValueError(f"data type {path_id!r} must be a kebab-case path id such as 'heart-rate'")
    return path_id


def _user(user: str) -> str:
    if not _USER.match(user):
        raise ValueError(f"user {user!r} must be 'me' or a healthUserId ([A-Za-z0-9-], 1-63 chars)")
    return user


def _collection(path_id: str, user: str) -> str:
    return f"{API_VERSION}/users/{_user(user)}/dataTypes/{_type_id(path_id)}/dataPoints"


def _page_size(page_size: int | None, maximum: int = PAGE_SIZE_MAX) -> str | None:
    if page_size is None:
        return None
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise ValueError(f"page_size must be an int in 1..{maximum}, got {page_size!r}")
    return str(page_size)


def _family(family: str | None, user: str) -> str | None:
    """Expand a short family id to the full resource name the API requires (short ids are a 400)."""
    if family is None:
        return None
    short = family.rsplit("/", 1)[-1]
    if short not in DATA_SOURCE_FAMILIES or (family != short and not family.startswith("users/")):
        raise ValueError(f"data_source_family {family!r} must be one of {DATA_SOURCE_FAMILIES}")
    return family if family != short else f"users/{user}/dataSourceFamilies/{short}"


def _query(*pairs: tuple[str, str | None]) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in pairs if v is not None)


def _read_call(method: str, suffix: str, path_id: str, *, filter: str | None, page_size: int | None,
               page_token: str | None, data_source_family: str | None, user: str) -> ApiCall:
    query = _query(("filter", filter), ("pageSize", _page_size(page_size)), ("pageToken", page_token or None),
                   ("dataSourceFamily", _family(data_source_family, user)))
    return ApiCall("GET", _collection(path_id, user) + suffix, query, None, DATA_POINTS + method)


def list_call(path_id: str, *, filter: str | None, page_size: int | None, page_token: str | None = None,
              data_source_family: str | None = None, user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.list``: raw points from every source, with provenance."""
    return _read_call("list", "", path_id, filter=filter, page_size=page_size, page_token=page_token,
                      data_source_family=data_source_family, user=user)


def reconcile_call(path_id: str, *, filter: str | None, page_size: int | None, page_token: str | None = None,
                   data_source_family: str | None = None, user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.reconcile``: the de-duplicated stream the app shows."""
    return _read_call("reconcile", ":reconcile", path_id, filter=filter, page_size=page_size,
                      page_token=page_token, data_source_family=data_source_family, user=user)


def _rollup_body(rng: dict[str, Any], window: tuple[str, Any], page_size: int | None, page_token: str | None,
                 family: str | None, user: str) -> dict[str, Any]:
    body: dict[str, Any] = {"range": rng, window[0]: window[1]}
    if page_size is not None:
        body["pageSize"] = int(_page_size(page_size) or 0)
    if page_token:
        body["pageToken"] = page_token
    if family is not None:
        body["dataSourceFamily"] = _family(family, user)
    return body


def roll_up_call(path_id: str, *, start: datetime, end: datetime, window_size: str, page_size: int | None = None,
                 page_token: str | None = None, data_source_family: str | None = None,
                 user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.rollUp``: aggregates over UTC windows of ``window_size`` in ``[start, end)``.

    Raises:
        ValueError: naive or inverted bounds, or a window that is not a Duration of at least ``"1s"``.
    """
    low, high = physical_range(start, end)
    if not isinstance(window_size, str) or not _DURATION.match(window_size) or float(window_size[:-1]) < 1:
        raise ValueError(f"window_size {window_size!r} must be a Duration of at least '1s', e.g. '60s'")
    body = _rollup_body({"startTime": low, "endTime": high}, ("windowSize", window_size), page_size, page_token,
                        data_source_family, user)
    return ApiCall("POST", _collection(path_id, user) + ":rollUp", (), body, DATA_POINTS + "rollUp")


def _civil(day: date) -> dict[str, Any]:
    return {"date": {"year": day.year, "month": day.month, "day": day.day}}


def daily_roll_up_call(path_id: str, *, start: date, end: date, window_days: int = 1, page_size: int | None = None,
                       page_token: str | None = None, data_source_family: str | None = None,
                       user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.dailyRollUp``: aggregates per civil day(s) over ``[start, end)``.

    ``end`` is exclusive (as the discovery document defines the range). Key the returned windows by
    their own ``civilStartTime``, never by position: the live end semantics are unconfirmed.

    Raises:
        ValueError: bounds that are not plain dates, ``end`` not after ``start``, or ``window_days < 1``.
    """
    civil_range(start, end)
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ValueError(f"window_days must be a positive int, got {window_days!r}")
    body = _rollup_body({"start": _civil(start), "end": _civil(end)}, ("windowSizeDays", window_days),
                        page_size, page_token, data_source_family, user)
    return ApiCall("POST", _collection(path_id, user) + ":dailyRollUp", (), body, DATA_POINTS + "dailyRollUp")


def _point_id(data_point_id: str) -> str:
    """Accept a bare id or a full resource name (``users/.../dataPoints/{id}``); return the id."""
    point = data_point_id.rsplit("/dataPoints/", 1)[-1] if "/" in data_point_id else data_point_id
    if data_point_id_problem(point) is not None:
        raise ValueError(f"data point id {data_point_id!r} is not a valid id or resource name")
    return point


def export_tcx_call(data_point_id: str, *, partial_data: bool = False) -> ApiCall:
    """``exportExerciseTcx`` with ``alt=media`` (TCX XML); only ``users/me`` is accepted by the API."""
    path = f"{_collection('exercise', 'me')}/{_point_id(data_point_id)}:exportExerciseTcx"
    query = _query(("alt", "media"), ("partialData", "true" if partial_data else None))
    return ApiCall("GET", path, query, None, DATA_POINTS + "exportExerciseTcx")


def identity_call(*, user: str = "me") -> ApiCall:
    return ApiCall("GET", f"{API_VERSION}/users/{_user(user)}/identity", (), None, "users.getIdentity")


def settings_call(*, user: str = "me") -> ApiCall:
    return ApiCall("GET", f"{API_VERSION}/users/{_user(user)}/settings", (), None, "users.getSettings")


def paired_devices_call(page_token: str | None = None, *, page_size: int | None = None, user: str = "me") -> ApiCall:
    query = _query(("pageSize", _page_size(page_size, PAIRED_DEVICES_PAGE_MAX)), ("pageToken", page_token or None))
    return ApiCall("GET", f"{API_VERSION}/users/{_user(user)}/pairedDevices", query, None, PAIRED_DEVICES)
