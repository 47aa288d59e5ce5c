"""The Google Health API v4 client: pure call builders, one-request ``execute`` and bounded paging.

Why this shape: an ``ApiCall`` describes one request completely and without secrets, so the extract
step can store it beside the raw bytes (``ApiCall.metadata``) and a unit can be replayed. ``execute``
sends exactly one request (plus one after a 401 with a fresh token) and maps every failure onto
``fitbit.errors``; retrying is the platform's job, paging is ``pages``'s.

API facts (discovery revision 20261030 bundled with google-api-python-client, checked 2026-11-23;
team spec §1, §4):

- base ``https://health.googleapis.com/``, paths ``v4/users/{user}/...``, ``{user}`` is ``me``;
- ``list`` / ``:reconcile`` are GET with ``filter``, ``pageSize``, ``pageToken``, ``dataSourceFamily``;
  ``:rollUp`` / ``:dailyRollUp`` are POST with ``range``, window, ``pageSize``, ``pageToken`` in the body;
- items sit in ``dataPoints``, ``rollupDataPoints`` or ``pairedDevices``; an empty page may be ``{}``
  and may still carry a ``nextPageToken`` (``""`` or absent when done);
- ``dailyRollUp`` dates are ``{"year", "month", "day"}`` JSON integers (leading zeros are a 400); the
  discovery document calls the range closed-open, which is what our exclusive ``end`` sends;
- ``exportExerciseTcx`` needs ``alt=media`` to return TCX XML, and only accepts the user ``me``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, urlencode

import requests

from fitbit.catalogue import DataType
from fitbit.errors import BadRequest, NetworkError, TransientError, UnexpectedResponse
from fitbit.filters import civil_range, physical_range
from fitbit.http_errors import error_for_response, read_envelope

__all__ = [
    "API_VERSION", "DEFAULT_BASE_URL", "ApiCall", "HealthClient", "Page", "daily_roll_up_call", "export_tcx_call",
    "get_call", "identity_call", "list_call", "paired_devices_call", "reconcile_call", "roll_up_call", "settings_call",
]

API_VERSION = "v4"
DEFAULT_BASE_URL = "https://health.googleapis.com/"
DATA_SOURCE_FAMILIES = ("all-sources", "google-wearables", "google-sources", "self-sources")
PAGE_SIZE_MAX = 10000

_DP = "users.dataTypes.dataPoints."
# Which array of the response envelope holds the items, by discovery method.
ITEMS_KEYS: Mapping[str, str] = {
    _DP + "list": "dataPoints",
    _DP + "reconcile": "dataPoints",
    _DP + "rollUp": "rollupDataPoints",
    _DP + "dailyRollUp": "rollupDataPoints",
    "users.pairedDevices.list": "pairedDevices",
}
_USER = re.compile(r"^[A-Za-z0-9-]{1,63}$")
_TYPE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_POINT_ID = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_DURATION = re.compile(r"^[0-9]+(\.[0-9]{1,9})?s$")


@dataclass(frozen=True)
class ApiCall:
    """One HTTP request, fully described and free of secrets (the token is added by ``execute``)."""

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


@dataclass(frozen=True)
class Page:
    """One response: the bytes as received (for the raw store) and their validated reading."""

    call: ApiCall
    status: int
    body: bytes = field(repr=False)
    data: Mapping[str, Any] = field(repr=False)
    items: list[Any] = field(repr=False)
    next_page_token: str | None
    fetched_at: datetime


# --- pure call builders -------------------------------------------------------------------------


def _type_id(data_type: DataType | str) -> str:
    path_id = data_type.path_id if isinstance(data_type, DataType) else data_type
    if not isinstance(path_id, str) or not _TYPE.match(path_id):
        raise ValueError(f"data type {path_id!r} must be a kebab-case path id such as 'heart-rate'")
    return path_id


def _user(user: str) -> str:
    if not _USER.match(user):
        raise ValueError(f"user {user!r} must be 'me' or a healthUserId ([A-Za-z0-9-], 1-63 chars)")
    return user


def _collection(data_type: DataType | str, user: str) -> str:
    return f"{API_VERSION}/users/{_user(user)}/dataTypes/{_type_id(data_type)}/dataPoints"


def _page_size(page_size: int | None) -> str | None:
    if page_size is None:
        return None
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= PAGE_SIZE_MAX:
        raise ValueError(f"page_size must be an int in 1..{PAGE_SIZE_MAX}, got {page_size!r}")
    return str(page_size)


def _family(family: str | None, user: str) -> str | None:
    """Expand a short family id to the full resource name the API requires (short ids are a 400)."""
    if family is None:
        return None
    short = family.rsplit("/", 1)[-1]
    if short not in DATA_SOURCE_FAMILIES or (family != short and not family.startswith("users/")):
        raise ValueError(f"data_source_family {family!r} must be one of {DATA_SOURCE_FAMILIES}")
    return family if family != short else f"users/{user}/dataSourceFamilies/{short}"


def _read_call(method: str, suffix: str, data_type: DataType | str, *, filter: str | None, page_size: int | None,
               page_token: str | None, data_source_family: str | None, user: str) -> ApiCall:
    query = [
        ("filter", filter),
        ("pageSize", _page_size(page_size)),
        ("pageToken", page_token or None),
        ("dataSourceFamily", _family(data_source_family, user)),
    ]
    return ApiCall("GET", _collection(data_type, user) + suffix,
                   tuple((k, v) for k, v in query if v is not None), None, _DP + method)


def list_call(data_type: DataType | str, *, filter: str | None, page_size: int | None, page_token: str | None = None,
              data_source_family: str | None = None, user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.list``: raw points from every source, with provenance."""
    return _read_call("list", "", data_type, filter=filter, page_size=page_size, page_token=page_token,
                      data_source_family=data_source_family, user=user)


def reconcile_call(data_type: DataType | str, *, filter: str | None, page_size: int | None,
                   page_token: str | None = None, data_source_family: str | None = None,
                   user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.reconcile``: the de-duplicated stream the app shows."""
    return _read_call("reconcile", ":reconcile", data_type, filter=filter, page_size=page_size,
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


def roll_up_call(data_type: DataType | str, *, start: datetime, end: datetime, window_size: str,
                 page_size: int | None = None, page_token: str | None = None,
                 data_source_family: str | None = None, user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.rollUp``: aggregates over UTC windows of ``window_size`` in ``[start, end)``.

    Raises:
        ValueError: naive or inverted bounds, or a window that is not a Duration of at least ``"1s"``.
    """
    low, high = physical_range(start, end)
    if not isinstance(window_size, str) or not _DURATION.match(window_size) or float(window_size[:-1]) < 1:
        raise ValueError(f"window_size {window_size!r} must be a Duration of at least '1s', e.g. '60s'")
    body = _rollup_body({"startTime": low, "endTime": high}, ("windowSize", window_size), page_size, page_token,
                        data_source_family, user)
    return ApiCall("POST", _collection(data_type, user) + ":rollUp", (), body, _DP + "rollUp")


def _civil(day: date) -> dict[str, Any]:
    return {"date": {"year": day.year, "month": day.month, "day": day.day}}


def daily_roll_up_call(data_type: DataType | str, *, start: date, end: date, window_days: int = 1,
                       page_size: int | None = None, page_token: str | None = None,
                       data_source_family: str | None = None, user: str = "me") -> ApiCall:
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
    return ApiCall("POST", _collection(data_type, user) + ":dailyRollUp", (), body, _DP + "dailyRollUp")


def _point_id(data_point_id: str) -> str:
    """Accept a bare id or a full resource name (``users/.../dataPoints/{id}``); return the id."""
    point = data_point_id.rsplit("/dataPoints/", 1)[-1] if "/" in data_point_id else data_point_id
    if not _POINT_ID.match(point):
        raise ValueError(f"data point id {data_point_id!r} is not a valid id or resource name")
    return point


def get_call(data_type: DataType | str, data_point_id: str, *, user: str = "me") -> ApiCall:
    """``users.dataTypes.dataPoints.get`` for identifiable types (sleep, exercise, weight...)."""
    path = f"{_collection(data_type, user)}/{_point_id(data_point_id)}"
    return ApiCall("GET", path, (), None, _DP + "get")


def export_tcx_call(data_point_id: str, *, partial_data: bool = False) -> ApiCall:
    """``exportExerciseTcx`` with ``alt=media`` (TCX XML); only ``users/me`` is accepted by the API."""
    path = f"{_collection('exercise', 'me')}/{_point_id(data_point_id)}:exportExerciseTcx"
    query = (("alt", "media"),) + ((("partialData", "true"),) if partial_data else ())
    return ApiCall("GET", path, query, None, _DP + "exportExerciseTcx")


def identity_call(*, user: str = "me") -> ApiCall:
    return ApiCall("GET", f"{API_VERSION}/users/{_user(user)}/identity", (), None, "users.getIdentity")


def settings_call(*, user: str = "me") -> ApiCall:
    return ApiCall("GET", f"{API_VERSION}/users/{_user(user)}/settings", (), None, "users.getSettings")


def paired_devices_call(page_token: str | None = None, *, page_size: int | None = None, user: str = "me") -> ApiCall:
    if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int)
                                  or not 1 <= page_size <= 100):
        raise ValueError(f"paired devices page_size must be an int in 1..100, got {page_size!r}")
    query = [("pageSize", None if page_size is None else str(page_size)), ("pageToken", page_token or None)]
    return ApiCall("GET", f"{API_VERSION}/users/{_user(user)}/pairedDevices",
                   tuple((k, v) for k, v in query if v is not None), None, "users.pairedDevices.list")


# --- the client ---------------------------------------------------------------------------------

_NETWORK_FAILURES = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


class HealthClient:
    """Sends ``ApiCall``s over an injectable ``requests.Session``.

    ``access_token`` is called before each request. When it also has an ``invalidate()`` method (as
    ``fitbit.oauth.TokenSource`` does), a 401 invalidates the cached token first so the second call
    really refreshes.
    """

    def __init__(self, access_token: Callable[[], str], *, base_url: str = DEFAULT_BASE_URL,
                 session: requests.Session | None = None, timeout_s: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url {base_url!r} must be an http(s) URL")
        self._token = access_token
        self._base = base_url if base_url.endswith("/") else base_url + "/"
        self._session = session if session is not None else requests.Session()
        self._timeout_s = timeout_s
        self._clock = clock

    def url(self, call: ApiCall) -> str:
        """The full URL of ``call``; spaces in the filter are sent as ``%20``, as in Google's examples."""
        query = urlencode(call.query, quote_via=quote) if call.query else ""
        return self._base + quote(call.path, safe="/:") + (f"?{query}" if query else "")

    def _what(self, call: ApiCall) -> str:
        return f"{call.discovery_method or call.http_method} {call.path.split('/dataPoints', 1)[0]}"

    def _send(self, call: ApiCall, token: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "*/*" if call.media else "application/json"}
        data = None
        if call.body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(call.body, separators=(",", ":")).encode()
        try:
            response = self._session.request(
                call.http_method, self.url(call), data=data, headers=headers, timeout=self._timeout_s,
                allow_redirects=False,
            )
            _ = response.content  # read the whole body now, so a broken stream fails here
        except _NETWORK_FAILURES as exc:
            raise NetworkError(f"{self._what(call)}: {type(exc).__name__} talking to the API") from None
        except requests.RequestException as exc:
            raise BadRequest(f"{self._what(call)}: the request could not be sent ({type(exc).__name__})") from None
        return response

    def execute(self, call: ApiCall) -> Page:
        """Send ``call`` once and read the answer.

        Raises:
            TransientError: ``RateLimited``, ``ServerError``, ``NetworkError`` (also for a 2xx body that
                is truncated or not JSON).
            TerminalError: see ``fitbit.http_errors``; ``UnexpectedResponse`` when the envelope's shape
                is wrong.
        """
        response = self._send(call, self._token())
        if response.status_code == 401:
            invalidate = getattr(self._token, "invalidate", None)
            if callable(invalidate):
                invalidate()
            response = self._send(call, self._token())
        if not 200 <= response.status_code < 300:
            raise error_for_response(response.status_code, response.headers, response.content,
                                     what=self._what(call))
        return self._page(call, response)

    def _page(self, call: ApiCall, response: requests.Response) -> Page:
        raw, status = response.content, response.status_code
        if call.media or (status == 204 and not raw):
            return Page(call, status, raw, {}, [], None, datetime.now(UTC))
        data, items, token = read_envelope(status, response.headers.get("Content-Type"), raw,
                                           items_key=call.items_key, what=self._what(call))
        return Page(call, status, raw, data, items, token, datetime.now(UTC))

    def pages(self, call: ApiCall, *, max_pages: int = 100, max_seconds: float = 300.0) -> Iterator[Page]:
        """Yield every page of ``call``, following ``nextPageToken`` (empty pages with a token included).

        Raises:
            TransientError: more pages remain after ``max_pages`` pages or ``max_seconds`` seconds.
            UnexpectedResponse: the API hands back the token of the page just read (it would loop forever).
        """
        started = self._clock()
        count = 0
        while True:
            page = self.execute(call)
            count += 1
            yield page
            token = page.next_page_token
            if token is None:
                return
            if token == call.param("pageToken"):
                raise UnexpectedResponse(f"{self._what(call)}: the API returned the same page token again")
            elapsed = self._clock() - started
            if count >= max_pages or elapsed >= max_seconds:
                raise TransientError(
                    f"{self._what(call)}: stopped with more pages to read after {count} pages and "
                    f"{elapsed:.0f} s (bounds: {max_pages} pages, {max_seconds:.0f} s)"
                )
            call = call.with_page_token(token)

    # --- conveniences: the builders above, paged or unwrapped --------------------------------

    def list(self, data_type: DataType | str, *, filter: str | None = None, page_size: int | None = None,
             **kwargs: Any) -> Iterator[Page]:
        """Pages of ``list_call``."""
        return self.pages(list_call(data_type, filter=filter, page_size=page_size, **kwargs))

    def reconcile(self, data_type: DataType | str, *, filter: str | None = None, page_size: int | None = None,
                  **kwargs: Any) -> Iterator[Page]:
        """Pages of ``reconcile_call``."""
        return self.pages(reconcile_call(data_type, filter=filter, page_size=page_size, **kwargs))

    def roll_up(self, data_type: DataType | str, *, start: datetime, end: datetime, window_size: str,
                **kwargs: Any) -> Iterator[Page]:
        """Pages of ``roll_up_call``."""
        return self.pages(roll_up_call(data_type, start=start, end=end, window_size=window_size, **kwargs))

    def daily_roll_up(self, data_type: DataType | str, *, start: date, end: date, **kwargs: Any) -> Iterator[Page]:
        """Pages of ``daily_roll_up_call``."""
        return self.pages(daily_roll_up_call(data_type, start=start, end=end, **kwargs))

    def get(self, data_type: DataType | str, data_point_id: str) -> Mapping[str, Any]:
        return self.execute(get_call(data_type, data_point_id)).data

    def identity(self) -> Mapping[str, Any]:
        """``users.getIdentity``; guarantees a non-empty string ``healthUserId``."""
        data = self.execute(identity_call()).data
        if not isinstance(data.get("healthUserId"), str) or not data["healthUserId"]:
            raise UnexpectedResponse("users.getIdentity: the answer has no healthUserId")
        return data

    def settings(self) -> Mapping[str, Any]:
        return self.execute(settings_call()).data

    def paired_devices(self) -> list[Mapping[str, Any]]:
        return [device for page in self.pages(paired_devices_call()) for device in page.items]

    def export_tcx(self, data_point_id: str, *, partial_data: bool = False) -> bytes:
        return self.execute(export_tcx_call(data_point_id, partial_data=partial_data)).body
