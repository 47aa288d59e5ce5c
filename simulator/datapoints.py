"""The data-point methods: list, reconcile, get, exportExerciseTcx, rollUp, dailyRollUp.

Validation follows discovery 20261030: page sizes 1440/10000 (sessions 25/25; dailyRollUp 90, or 14
for the types its ``pageSize`` description names); rollup ranges at most 14 days for the types the
``range`` description names, 90 otherwise (both read off the document: ``simulator.discovery``);
``windowSize`` >= 1 s
(``INVALID_ROLLUP_WINDOW``); ``dataSourceFamily`` is rejected on ``sleep`` lists; types without a
DataPoint schema (``total-calories``) cannot be listed. API types the catalogue does not model answer
with no data. Request bodies are parsed like Google's JSON parser: unknown fields, octal numbers and
malformed JSON are 400 "Invalid JSON payload received".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fitbit.calls import PAGE_SIZE_MAX
from fitbit.catalogue import DataType
from simulator import discovery
from simulator import query as q
from simulator.cohort import Persona
from simulator.errors import ApiError, invalid_argument
from simulator.filters import parse_filter
from simulator.generators import GENERATORS, OTHER_ROLLUP_TYPES
from simulator.rollups import daily_roll_up, roll_up
from simulator.spec import RollupSpec
from simulator.store import DataStore, DayData
from simulator.tcx import export_tcx
from simulator.timefmt import parse_duration, parse_rfc3339

TCX_TYPE = "application/vnd.garmin.tcx+xml"
DEFAULT_PAGE = 1440
SESSION_PAGE = 25


@dataclass(frozen=True)
class Call:
    """One authenticated data request, as the handlers see it."""

    store: DataStore
    persona: Persona
    path_id: str
    data_type: DataType | None  # None for API types outside the catalogue
    params: dict[str, str]
    body: bytes
    reject_sleep_filters: bool


def _unsupported(path_id: str, method: str) -> ApiError:
    return invalid_argument(f"Data type {path_id} does not support {method}.", "INVALID_PARENT_DATA_TYPE_COLLECTION")


Items = Callable[[int, int], tuple[list[dict[str, Any]], bool]]  # (offset, size) -> (items, more follow)


def _paged(key: str, items_of: Items, default: int, maximum: int, raw_size: Any, token: str,
           fingerprint: dict[str, Any]) -> dict[str, Any]:
    size = q.page_size(raw_size, default, maximum)
    offset = q.read_token(token, fingerprint) if token else 0
    items, more = items_of(offset, size)
    out: dict[str, Any] = {}
    if items:
        out[key] = items
    if more:
        out["nextPageToken"] = q.make_token(offset + len(items), fingerprint)
    return out


def list_points(call: Call, reconciled: bool) -> dict[str, Any]:
    dt, p = call.data_type, call.persona
    method = "reconcile" if reconciled else "list"
    family = call.params.get("dataSourceFamily", "")
    if dt is None:
        q.parse_family(family, p)
        return {}
    if not dt.has_data_point_schema:
        raise invalid_argument(f"Data type {dt.path_id} has no data points; read it with rollUp or dailyRollUp.",
                               "INVALID_PARENT_DATA_TYPE_COLLECTION")
    if family and dt.path_id == "sleep" and not reconciled:
        raise invalid_argument("Filtering by data source family is not supported for sleep; use reconcile.",
                               "INVALID_DATA_POINT_DATA_SOURCE_FAMILY")
    sources = q.parse_family(family, p)
    tf = parse_filter(call.params.get("filter", ""), dt, call.reject_sleep_filters)
    session = dt.record_type == "session"
    fingerprint = {"user": p.label, "type": dt.path_id, "method": method,
                   **{k: call.params.get(k, "") for k in ("filter", "dataSourceFamily", "pageSize")}}

    if not call.params.get("pageToken"):  # a new fetch: deletions the participant made since apply now
        call.store.quirks.fetch_started(p, dt.path_id)
    served = call.store.quirks.served

    def items_of(offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
        chunks = q.select(call.store, p, dt, tf, reconciled, sources)
        page, more = q.page(chunks, offset, size)
        for s, i in page:
            served(p, dt.path_id, s, i)
        return [q.render(p, dt, s, i, reconciled) for s, i in page], more

    return _paged("dataPoints", items_of, SESSION_PAGE if session else DEFAULT_PAGE,
                  SESSION_PAGE if session else PAGE_SIZE_MAX,
                  call.params.get("pageSize"), call.params.get("pageToken", ""), fingerprint)


def _find(call: Call, point_id: str) -> tuple[Any, int] | None:
    for day in call.store.cohort.days:
        series = call.store.series(call.persona, call.path_id, day)
        for i in range(series.n):
            if series.point_id(i) == point_id and i not in series.hidden:
                return series, i
    return None


def get_point(call: Call, point_id: str) -> dict[str, Any]:
    dt = call.data_type
    if dt is None or not dt.identifiable:
        raise _unsupported(call.path_id, "get")
    found = _find(call, point_id)
    if found is None:
        raise ApiError(404, "NOT_FOUND", f"Data point {point_id} was not found.")
    return q.render(call.persona, dt, found[0], found[1], reconciled=False)


def exercise_tcx(call: Call, point_id: str) -> str:
    if call.path_id != "exercise":
        raise _unsupported(call.path_id, "exportExerciseTcx")
    found = _find(call, point_id)
    if found is None:
        raise ApiError(404, "NOT_FOUND", f"Exercise {point_id} was not found.")
    series, i = found
    dd = DayData(call.store, call.persona, series.day)
    workout = next(w for w in dd.plan.workouts if w.point_id == point_id)
    return export_tcx(dd, workout, call.params.get("partialData", "false").lower() == "true")


_OCTAL = re.compile(r'[:\[,]\s*-?0[0-9]')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def parse_body(body: bytes, allowed: set[str]) -> dict[str, Any]:
    text = body.decode("utf-8", "replace").strip() or "{}"
    if _OCTAL.search(_STRING.sub('""', text)):
        raise invalid_argument("Invalid JSON payload received. Octal/hex numbers are not valid JSON values.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid_argument(f"Invalid JSON payload received. {exc.msg} at position {exc.pos}.") from exc
    if not isinstance(data, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    for key in data:
        if key not in allowed:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
    return data


@dataclass(frozen=True)
class _Rollup:
    """A rollup request's modelled type (None: an API type the simulator leaves empty) and its limits."""

    data_type: DataType | None
    spec: RollupSpec | None
    sources: frozenset[int]
    max_days: int


def _rollup_setup(call: Call, method: str, data: dict[str, Any]) -> _Rollup:
    dt = call.data_type
    spec = GENERATORS[dt.path_id].rollup if dt is not None else None
    if spec is None:
        if call.path_id in OTHER_ROLLUP_TYPES:
            return _Rollup(None, None, frozenset(), discovery.rollup_max_days(call.path_id))
        raise _unsupported(call.path_id, method)
    sources = q.parse_family(str(data.get("dataSourceFamily", "")), call.persona)
    return _Rollup(dt, spec, sources, discovery.rollup_max_days(call.path_id))


def _fingerprint(call: Call, method: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"user": call.persona.label, "type": call.path_id, "method": method,
            "body": {k: v for k, v in data.items() if k != "pageToken"}}


def rollup(call: Call) -> dict[str, Any]:
    data = parse_body(call.body, {"range", "windowSize", "pageSize", "pageToken", "dataSourceFamily"})
    rng = data.get("range")
    if not isinstance(rng, dict) or not rng.get("startTime") or not rng.get("endTime"):
        raise invalid_argument("range.startTime and range.endTime are required.")
    start, end = parse_rfc3339(str(rng["startTime"])), parse_rfc3339(str(rng["endTime"]))
    if start is None or end is None:
        raise invalid_argument("range times must be RFC 3339 timestamps.")
    window = parse_duration(data.get("windowSize", ""))
    if window is None or window < 1:
        raise invalid_argument("windowSize must be at least 1s.", "INVALID_ROLLUP_WINDOW")
    if window != int(window):
        raise invalid_argument("windowSize must be whole seconds (simulator limitation).", "INVALID_ROLLUP_WINDOW")
    if end <= start:
        raise invalid_argument("range.endTime must be after range.startTime.", "INVALID_TIME_RANGE")
    setup = _rollup_setup(call, "rollUp", data)
    if setup.data_type is not None and end - start > setup.max_days * 86400:
        raise invalid_argument(f"The maximum range for {call.path_id} is {setup.max_days} days.", "INVALID_TIME_RANGE")

    def items_of(offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
        if setup.data_type is None or setup.spec is None:
            return [], False
        windows = roll_up(call.store, call.persona, setup.data_type, setup.spec, start, end, int(window),
                          setup.sources)
        return windows[offset:offset + size], offset + size < len(windows)

    return _paged("rollupDataPoints", items_of, DEFAULT_PAGE, PAGE_SIZE_MAX, data.get("pageSize"),
                  str(data.get("pageToken", "")), _fingerprint(call, "rollUp", data))


def _civil_date(value: Any, which: str) -> date:
    if not isinstance(value, dict) or not isinstance(value.get("date"), dict):
        raise invalid_argument(f"range.{which}.date is required.")
    d = value["date"]
    try:
        day = date(int(d["year"]), int(d["month"]), int(d["day"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid_argument(f"range.{which}.date is not a valid date.") from exc
    clock = value.get("time") or {}
    if not isinstance(clock, dict) or any(clock.get(k) for k in ("hours", "minutes", "seconds", "nanos")):
        raise invalid_argument(f"range.{which} must be at midnight: the start time must be aligned with the "
                               "aggregation window.")
    return day


def daily_rollup(call: Call) -> dict[str, Any]:
    data = parse_body(call.body, {"range", "windowSizeDays", "pageSize", "pageToken", "dataSourceFamily"})
    rng = data.get("range")
    if not isinstance(rng, dict):
        raise invalid_argument("range is required.")
    first, last = _civil_date(rng.get("start"), "start"), _civil_date(rng.get("end"), "end")
    days = data.get("windowSizeDays", 1)
    if not isinstance(days, int) or days < 1:
        raise invalid_argument("windowSizeDays must be a positive number of days.", "INVALID_ROLLUP_WINDOW")
    if last < first:
        raise invalid_argument("range.end must not be before range.start.", "INVALID_TIME_RANGE")
    end = last if last > first else first + timedelta(days=1)  # start == end: that one day
    setup = _rollup_setup(call, "dailyRollUp", data)
    if setup.data_type is not None and (end - first).days > setup.max_days:
        raise invalid_argument(f"The maximum range for {call.path_id} is {setup.max_days} days.", "INVALID_TIME_RANGE")
    limit = discovery.daily_rollup_page_max(call.path_id)

    def items_of(offset: int, size: int) -> tuple[list[dict[str, Any]], bool]:
        if setup.data_type is None or setup.spec is None:
            return [], False
        windows = daily_roll_up(call.store, call.persona, setup.data_type, setup.spec, first, end, days,
                                setup.sources)
        return windows[offset:offset + size], offset + size < len(windows)

    return _paged("rollupDataPoints", items_of, limit, limit, data.get("pageSize"),
                  str(data.get("pageToken", "")), _fingerprint(call, "dailyRollUp", data))
