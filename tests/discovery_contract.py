"""The Google Health API contract, read from the discovery document, for tests to check against.

The document (``health.v4.json``) ships inside google-api-python-client's discovery cache; the
simulator's reader (``simulator.discovery``) finds it through the installed package. Two tools:

- ``validate(instance, "ListDataPointsResponse")`` -> list of violations: unknown fields, wrong JSON
  types, int64 not sent as a string, enum values outside the schema, malformed ``google-datetime``
  (RFC 3339 UTC ``Z``) and ``google-duration`` (``"3600s"``) strings. ``assert_valid`` raises.
- ``match_request("GET", "/v4/users/me/dataTypes/steps/dataPoints?filter=...")`` -> the discovery
  method (id, schemas) the request maps to, checking verb, path template (``flatPath``) and every
  query parameter (method parameters plus the global ones). Raises ``ContractError`` otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from simulator.discovery import document, schemas

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
_DURATION = re.compile(r"^-?\d+(\.\d{1,9})?s$")
_INT = re.compile(r"^-?\d+$")
_UINT = re.compile(r"^\d+$")
_INT32 = (-(2**31), 2**31 - 1)


class ContractError(AssertionError):
    """A response or request that the discovery contract does not allow."""


discovery = document  # the bundled health.v4.json, loaded once by the simulator's reader


def _type_errors(value: Any, spec: dict[str, Any], where: str) -> list[str]:
    if "$ref" in spec:
        return validate(value, spec["$ref"], path=where)
    kind, fmt = spec.get("type"), spec.get("format")
    if kind == "any":
        return []
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string ({fmt or 'string'}), got {type(value).__name__} {value!r}"]
        if fmt in ("int64",) and not _INT.match(value):
            return [f"{where}: int64 string expected, got {value!r}"]
        if fmt in ("uint64",) and not _UINT.match(value):
            return [f"{where}: uint64 string expected, got {value!r}"]
        if fmt == "google-datetime" and not _DATETIME.match(value):
            return [f"{where}: RFC 3339 UTC timestamp expected, got {value!r}"]
        if fmt == "google-duration" and not _DURATION.match(value):
            return [f"{where}: duration like '3600s' expected, got {value!r}"]
        if "enum" in spec and value not in spec["enum"]:
            return [f"{where}: {value!r} is not one of the enum values"]
        return []
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{where}: expected an integer, got {type(value).__name__} {value!r}"]
        if fmt == "int32" and not _INT32[0] <= value <= _INT32[1]:
            return [f"{where}: {value} outside int32"]
        return []
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if value not in ("NaN", "Infinity", "-Infinity"):
                return [f"{where}: expected a number, got {type(value).__name__} {value!r}"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean, got {value!r}"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected an array, got {type(value).__name__}"]
        errors: list[str] = []
        for i, item in enumerate(value):
            errors += _type_errors(item, spec.get("items", {"type": "any"}), f"{where}[{i}]")
        return errors
    if kind == "object":
        return _object_errors(value, spec, where)
    return [f"{where}: unsupported schema type {kind!r}"]


def _object_errors(value: Any, spec: dict[str, Any], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {type(value).__name__}"]
    props = spec.get("properties")
    extra = spec.get("additionalProperties")
    errors: list[str] = []
    for key, item in value.items():
        if props is not None and key in props:
            errors += _type_errors(item, props[key], f"{where}.{key}")
        elif extra is not None:
            errors += _type_errors(item, extra, f"{where}.{key}")
        elif props is not None or extra is None:
            errors.append(f"{where}: unknown field {key!r}")
    return errors


def validate(instance: Any, schema: str, *, path: str = "$") -> list[str]:
    """Violations of discovery schema ``schema`` by a decoded JSON value (empty list: valid)."""
    spec = schemas().get(schema)
    if spec is None:
        raise KeyError(f"no schema {schema!r} in the discovery document")
    return _object_errors(instance, spec, path) if spec.get("type") == "object" else _type_errors(instance, spec, path)


def assert_valid(instance: Any, schema: str) -> None:
    errors = validate(instance, schema)
    if errors:
        shown = "\n  ".join(errors[:20])
        raise ContractError(f"{len(errors)} violation(s) of {schema}:\n  {shown}")


@dataclass(frozen=True)
class MethodMatch:
    id: str
    http_method: str
    path_params: dict[str, str]
    query: dict[str, str]
    request: str | None
    response: str | None
    media_download: bool


@cache
def methods() -> tuple[dict[str, Any], ...]:
    """Every method in the discovery document (flattened across nested resources)."""
    out: list[dict[str, Any]] = []

    def walk(resources: dict[str, Any]) -> None:
        for resource in resources.values():
            out.extend(resource.get("methods", {}).values())
            walk(resource.get("resources", {}))

    walk(discovery()["resources"])
    return tuple(out)


@cache
def _template(flat_path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", flat_path)
    regex = "".join(f"(?P<{p[1:-1]}>[^/:]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^/{regex}$")


def _check_param(name: str, value: str, spec: dict[str, Any]) -> None:
    kind = spec.get("type")
    if kind == "integer" and not _INT.match(value):
        raise ContractError(f"query parameter {name}={value!r} is not an integer")
    if kind == "boolean" and value not in ("true", "false"):
        raise ContractError(f"query parameter {name}={value!r} is not a boolean")
    if "enum" in spec and value not in spec["enum"]:
        raise ContractError(f"query parameter {name}={value!r} is not one of {spec['enum']}")


def match_request(http_method: str, url: str, body: Any = None) -> MethodMatch:
    """The discovery method a request maps to (path template, verb, query parameters, body)."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    globals_ = discovery()["parameters"]
    for method in methods():
        m = _template(method["flatPath"]).match(path)
        if not m or method["httpMethod"] != http_method.upper():
            continue
        params = method.get("parameters", {})
        for name, value in query.items():
            spec = params.get(name) if params.get(name, {}).get("location") == "query" else globals_.get(name)
            if spec is None:
                raise ContractError(f"{method['id']} has no query parameter {name!r}")
            _check_param(name, value, spec)
        request = method.get("request", {}).get("$ref")
        if body is not None and request:
            assert_valid(body, request)
        return MethodMatch(method["id"], method["httpMethod"], m.groupdict(), query, request,
                           method.get("response", {}).get("$ref"), bool(method.get("supportsMediaDownload")))
    raise ContractError(f"no discovery method matches {http_method} {path}")
