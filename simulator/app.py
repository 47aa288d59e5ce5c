"""The simulator core: one pure-ish handler ``handle(method, path_with_query, headers, body)``.

Both transports wrap this: ``server.py`` (a ThreadingHTTPServer on loopback) and ``transport.py``
(a requests adapter, in process). Paths are Google's, so clients change only base URLs:
``/v4/...`` (health.googleapis.com), ``/o/oauth2/v2/auth`` (accounts.google.com), ``/token`` and
``/revoke`` (oauth2.googleapis.com). ``/_admin/...`` is the simulator's own control plane
(``faults``, ``stats``, ``reset``, ``tokens``, ``cohort``). Every documented system parameter is accepted
(``system_params.py``): ``fields`` / ``$fields`` / ``X-Goog-FieldMask`` trim any JSON answer (partial
response), ``prettyPrint=true`` indents it, and ``$alt=json;enum-encoding=int`` (what Google's generated
clients send) answers enums as numbers (``enums.py``).

Order of checks for a data request, as Google's front end does it: route (else HTML 404), bearer
token (401), a grant holding any non-Health scope (403 ``DISALLOWED_OAUTH_SCOPES``), user segment, injected faults (429 / 503), per-user quota (429), account state
(``ACCOUNT_NOT_LINKED``), query parameters, scope (403), then the method itself.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fitbit.catalogue import DATA_TYPES, by_path_id
from simulator import datapoints as dp
from simulator import users
from simulator.cohort import Cohort
from simulator.config import SimConfig
from simulator.control import Control
from simulator.errors import (
    ApiError,
    Response,
    account_not_linked,
    disallowed_scopes,
    error_response,
    html_404,
    invalid_argument,
    json_response,
    rate_limited,
    scope_insufficient,
    unavailable,
)
from simulator import system_params
from simulator.enums import as_numbers, response_schema
from simulator.fields import apply_mask, parse_mask
from simulator.generators import BUILDERS, OTHER_POINT_TYPES, OTHER_ROLLUP_TYPES
from simulator.oauth import OAuthServer, parse_form
from simulator.store import DataStore
from simulator.webhooks import WebhookHub

SCOPE = "https://www.googleapis.com/auth/googlehealth."
SYSTEM_PARAMS = system_params.SYSTEM_PARAMS
METHOD_PARAMS = {"list": {"dataSourceFamily", "filter", "pageSize", "pageToken"},
                 "reconcile": {"dataSourceFamily", "filter", "pageSize", "pageToken"},
                 "exportExerciseTcx": {"partialData"}, "pairedDevices.list": {"pageSize", "pageToken"}}
RPC = {"list": "DataPointsService.ListDataPoints", "reconcile": "DataPointsService.ReconcileDataPoints",
       "rollUp": "DataPointsService.RollUpDataPoints", "dailyRollUp": "DataPointsService.DailyRollUpDataPoints",
       "get": "DataPointsService.GetDataPoint", "exportExerciseTcx": "DataPointsService.ExportExerciseTcx",
       "create": "DataPointsService.CreateDataPoint", "patch": "DataPointsService.UpdateDataPoint",
       "batchDelete": "DataPointsService.BatchDeleteDataPoints", "getIdentity": "HealthProfileService.GetIdentity",
       "getSettings": "HealthProfileService.GetSettings", "getProfile": "HealthProfileService.GetProfile",
       "getIrnProfile": "HealthProfileService.GetIrnProfile",
       "pairedDevices.list": "HealthProfileService.ListPairedDevices",
       "pairedDevices.get": "HealthProfileService.GetPairedDevice"}
_USER = r"^/v4/users/(?P<user>[^/:]+)"
_POINTS = re.compile(_USER + r"/dataTypes/(?P<type>[^/:]+)/dataPoints(?::(?P<verb>[A-Za-z]+))?$")
_POINT = re.compile(_USER + r"/dataTypes/(?P<type>[^/:]+)/dataPoints/(?P<id>[^/:]+)(?::(?P<verb>[A-Za-z]+))?$")
_ACCOUNT = re.compile(_USER + r"/(?P<what>identity|settings|profile|irnProfile)$")
_DEVICES = re.compile(_USER + r"/pairedDevices(?:/(?P<id>[^/:]+))?$")
_COLLECTION_VERBS = {("GET", None): "list", ("POST", None): "create", ("GET", "reconcile"): "reconcile",
                     ("POST", "rollUp"): "rollUp", ("POST", "dailyRollUp"): "dailyRollUp",
                     ("POST", "batchDelete"): "batchDelete"}
_POINT_VERBS = {("GET", None): "get", ("PATCH", None): "patch", ("GET", "exportExerciseTcx"): "exportExerciseTcx"}


def route(method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    """(stats data type, method name, path groups) for an API path, or None (HTML 404)."""
    if m := _POINTS.match(path):
        name = _COLLECTION_VERBS.get((method, m.group("verb")))
        return (m.group("type"), name, m.groupdict()) if name else None
    if m := _POINT.match(path):
        name = _POINT_VERBS.get((method, m.group("verb")))
        return (m.group("type"), name, m.groupdict()) if name else None
    if (m := _ACCOUNT.match(path)) and method == "GET":
        what = m.group("what")
        return what, "get" + what[0].upper() + what[1:], m.groupdict()
    if (m := _DEVICES.match(path)) and method == "GET":
        return "pairedDevices", "pairedDevices.get" if m.group("id") else "pairedDevices.list", m.groupdict()
    return None


class Simulator:
    """A deterministic Google Health API for one seeded cohort."""

    def __init__(self, config: SimConfig | None = None, wall: Callable[[], float] = time.time) -> None:
        self.config = config or SimConfig()
        c = self.config
        self.cohort = Cohort.build(c.users, c.days, c.seed, c.end_date, c.syncs_through_health_connect)
        self.control = Control(wall, c.faults, seed=c.seed)
        self.started = self.control.now()
        self.store = DataStore(c.seed, self.cohort, self.sleep_processed, BUILDERS, c)
        self.oauth = OAuthServer(self.cohort, self.control, c.client_id, c.client_secret)
        self.webhooks = WebhookHub(self)  # subscribers, the handshake, signed notifications (webhooks.py)

    def sleep_processed(self) -> bool:
        return self.control.now() - self.started >= self.config.sleep_processing_seconds

    def token(self, user: str = "user1", scopes: tuple[str, ...] | None = None) -> dict[str, Any]:
        """Mint a grant without the browser dance (tests, benchmarks); same shape as /token."""
        if self.cohort.by_label(user) is None:
            raise KeyError(user)
        return self.oauth.issue(user, tuple(scopes) if scopes else default_scopes())

    def handle(self, method: str, path_with_query: str, headers: Mapping[str, str] | None = None,
               body: bytes = b"") -> Response:
        """Answer one HTTP request: (status, headers, body bytes)."""
        method = method.upper()
        parts = urlsplit(path_with_query)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if method == "POST" and hdrs.get("x-http-method-override"):  # a system parameter, for proxies
            method = hdrs["x-http-method-override"].upper()
        if (hooked := self.webhooks.handle(method, path, query, hdrs, body)) is not None:
            return hooked
        if path.startswith("/_admin/"):
            return self._admin(method, path, body)
        if path == "/o/oauth2/v2/auth" and method == "GET":
            self.control.record_oauth("auth")
            return self.oauth.authorize(query)
        if path == "/token" and method == "POST":
            return self.oauth.token({**query, **parse_form(body)}, hdrs)
        if path == "/revoke" and method == "POST":
            return self.oauth.revoke({**query, **parse_form(body)})
        found = route(method, path) if path.startswith("/v4/") else None
        if found is None:
            return html_404(path)
        pretty = system_params.wants_pretty(query)
        stats_user, status = "-", 500
        try:
            access = self.oauth.authenticate(hdrs, query, "google.devicesandservices.health.v4." + RPC[found[1]])
            stats_user = access.user
            response = self._api(found, access, query, hdrs, body)
        except ApiError as err:
            response = error_response(err, pretty)
        status = response[0]
        self.control.record(stats_user, found[0], found[1], status)
        delay = self.control.delay_s()
        if delay:
            time.sleep(delay)  # this request's server thread only: other connections' requests overlap it
        return response

    def _api(self, found: tuple[str, str, dict[str, str]], access: Any, query: dict[str, str],
             headers: dict[str, str], body: bytes) -> Response:
        type_id, name, groups = found
        rpc = "google.devicesandservices.health.v4." + RPC[name]
        if any(not scope.startswith(SCOPE) for scope in access.scopes):
            raise disallowed_scopes(rpc)
        persona = self.cohort.persona(access.user)
        segment = groups["user"]
        if segment not in ("me", persona.health_user_id):
            raise ApiError(403, "PERMISSION_DENIED", "The caller does not have permission")
        if (burst := self.control.take("rate_limit", persona.label)) is not None:
            self.control.injected_rate_limit()
            raise rate_limited(burst.retry_after_s)
        if self.control.take("unavailable", persona.label) is not None:
            raise unavailable()
        if (refused := self.control.quota(persona.label)) is not None:
            per, limit, wait = refused
            raise rate_limited(wait, per, limit)
        if persona.label in self.control.faults.account_not_linked:
            raise account_not_linked()
        system = system_params.read(query, headers)
        allowed = METHOD_PARAMS.get(name, set()) | SYSTEM_PARAMS
        for key in query:
            if key not in allowed:
                raise invalid_argument(f'Invalid JSON payload received. Unknown name "{key}": Cannot bind query '
                                       f"parameter. Field '{key}' could not be found in request message.")
        alt = system.alt
        if alt not in ("json", "media", "proto") or (alt != "json" and name != "exportExerciseTcx"):
            raise invalid_argument(f"Unsupported alt={alt} for this method.")
        self._check_scope(name, type_id, access.scopes, rpc)
        if name in ("getIdentity", "getSettings", "getProfile", "getIrnProfile", "pairedDevices.list",
                    "pairedDevices.get"):
            result = self._account(name, persona, segment, groups, query)
        else:
            result = self._data(name, type_id, persona, groups, query, body, alt)
            if isinstance(result, tuple):
                return result
        if system.fields:
            result = apply_mask(result, parse_mask(system.fields))
        if system.enums_as_numbers and (schema := response_schema(name)):
            result = as_numbers(result, schema)
        response = json_response(200, result, system.pretty)
        if self.control.take("truncate", persona.label) is not None:
            response = (200, response[1], response[2][: len(response[2]) // 2])
        return response

    def _check_scope(self, name: str, type_id: str, scopes: tuple[str, ...], rpc: str) -> None:
        granted = set(scopes)
        if name in ("getSettings", "pairedDevices.list", "pairedDevices.get"):
            needed = {SCOPE + "settings.readonly"}
        elif name == "getProfile":
            needed = {SCOPE + "profile.readonly"}
        elif name == "getIrnProfile":
            needed = {SCOPE + "irn.readonly"}
        elif name == "getIdentity":
            if not any(s.startswith(SCOPE) for s in granted):
                raise scope_insufficient(rpc)
            return
        elif type_id in {dt.path_id for dt in DATA_TYPES}:
            base = by_path_id(type_id).scope
            needed = {base.replace(".readonly", ".writeonly")} if name in ("create", "patch", "batchDelete") else {base}
            if name == "exportExerciseTcx":
                needed.add(SCOPE + "location.readonly")
        else:
            if not any(s.startswith(SCOPE) and s.endswith(".readonly") for s in granted):
                raise scope_insufficient(rpc)
            return
        if not needed <= granted:
            raise scope_insufficient(rpc)

    def _account(self, name: str, persona: Any, segment: str, groups: dict[str, str],
                 query: dict[str, str]) -> dict[str, Any]:
        if name == "getIdentity":
            return users.identity(persona, segment)
        if name == "getSettings":
            return users.settings(self.cohort, persona, segment)
        if name == "getProfile":
            return users.profile(self.cohort, persona, segment)
        if name == "getIrnProfile":
            return {"name": f"users/{segment}/irnProfile"}  # never enrolled: every boolean is false
        if name == "pairedDevices.get":
            return users.get_device(self.cohort, persona, segment, groups["id"])
        return users.list_devices(self.cohort, persona, segment, query)

    def _data(self, name: str, type_id: str, persona: Any, groups: dict[str, str], query: dict[str, str],
              body: bytes, alt: str) -> dict[str, Any] | Response:
        known = {dt.path_id for dt in DATA_TYPES}
        if type_id not in known and type_id not in OTHER_POINT_TYPES | OTHER_ROLLUP_TYPES:
            raise invalid_argument(f"Invalid data type ID: {type_id}", "INVALID_PARENT_DATA_TYPE_COLLECTION")
        if name in ("create", "patch", "batchDelete"):
            raise ApiError(501, "UNIMPLEMENTED", "The simulator is read-only.")
        call = dp.Call(self.store, persona, type_id, by_path_id(type_id) if type_id in known else None, query,
                       body, self.control.faults.reject_sleep_filters)
        if name in ("list", "reconcile"):
            if type_id not in known and type_id not in OTHER_POINT_TYPES:
                raise invalid_argument(f"Data type {type_id} has no data points.",
                                       "INVALID_PARENT_DATA_TYPE_COLLECTION")
            return dp.list_points(call, reconciled=name == "reconcile")
        if name == "rollUp":
            return dp.rollup(call)
        if name == "dailyRollUp":
            return dp.daily_rollup(call)
        if name == "get":
            return dp.get_point(call, groups["id"])
        tcx = dp.exercise_tcx(call, groups["id"])
        if alt == "media":
            return 200, {"Content-Type": dp.TCX_TYPE}, tcx.encode()
        return {"tcxData": tcx}

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return json_response(400, {"error": "body must be JSON"})
        if path == "/_admin/stats" and method == "GET":
            return json_response(200, self.control.stats())
        if path == "/_admin/faults" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    self.control.apply(data)
                except (ValueError, TypeError) as exc:
                    return json_response(400, {"error": str(exc)})
            return json_response(200, self.control.describe())
        if path == "/_admin/reset" and method == "POST":
            self.control.reset()
            return json_response(200, {})
        if path == "/_admin/tokens" and method == "POST":
            try:
                return json_response(200, self.token(data.get("user", "user1"), data.get("scopes")))
            except KeyError:
                return json_response(400, {"error": f"unknown user {data.get('user')!r}"})
        if path == "/_admin/cohort" and method == "GET":
            return json_response(200, self.describe_cohort())
        return html_404(path)

    def describe_cohort(self) -> dict[str, Any]:
        return {
            "days": [d.isoformat() for d in self.cohort.days],
            "users": [{"user": p.label, "healthUserId": p.health_user_id,
                       "timeZone": users.settings(self.cohort, p, "me")["timeZone"],
                       "zones": [z for _, z in p.zones], "healthConnect": p.health_connect}
                      for p in self.cohort.personas],
        }


def default_scopes() -> tuple[str, ...]:
    """Every read scope the catalogue needs, plus location (TCX) and profile."""
    from fitbit.catalogue import required_scopes

    return tuple(sorted(set(required_scopes()) | {SCOPE + "location.readonly", SCOPE + "profile.readonly"}))
