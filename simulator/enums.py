"""Enums as numbers (``$alt=json;enum-encoding=int``), read off the discovery document's response schemas.

A JSON answer is walked with its method's response schema; every string in an enum field becomes its
number. Discovery lists a proto enum's values in declaration order, starting with ``*_UNSPECIFIED`` (0),
but does not carry the numbers themselves: the simulator uses the position, which is right for enums
numbered in declaration order without gaps (UNCONFIRMED for this API's protos; it does not matter to the
pipeline, which never asks for numbers). A string the schema does not list is left as it is.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simulator.discovery import document, schemas

# The simulator's method names (app.RPC) and the discovery method whose response they answer with.
_METHOD_IDS = {
    "list": "health.users.dataTypes.dataPoints.list",
    "reconcile": "health.users.dataTypes.dataPoints.reconcile",
    "rollUp": "health.users.dataTypes.dataPoints.rollUp",
    "dailyRollUp": "health.users.dataTypes.dataPoints.dailyRollUp",
    "get": "health.users.dataTypes.dataPoints.get",
    "exportExerciseTcx": "health.users.dataTypes.dataPoints.exportExerciseTcx",
    "getIdentity": "health.users.getIdentity",
    "getSettings": "health.users.getSettings",
    "getProfile": "health.users.getProfile",
    "getIrnProfile": "health.users.getIrnProfile",
    "pairedDevices.list": "health.users.pairedDevices.list",
    "pairedDevices.get": "health.users.pairedDevices.get",
}


@cache
def response_schema(method: str) -> str | None:
    """The discovery response schema of one of the simulator's methods (None: not a JSON object answer)."""
    wanted = _METHOD_IDS.get(method)

    def walk(resources: dict[str, Any]) -> str | None:
        for resource in resources.values():
            for found in resource.get("methods", {}).values():
                if found["id"] == wanted:
                    return found.get("response", {}).get("$ref")
            nested = walk(resource.get("resources", {}))
            if nested:
                return nested
        return None

    return walk(document()["resources"]) if wanted else None


def as_numbers(value: Any, schema: str) -> Any:
    """``value`` (an answer of ``schema``) with every enum string replaced by its number."""
    return _walk(value, {"$ref": schema})


def _walk(value: Any, spec: dict[str, Any]) -> Any:
    if "$ref" in spec:
        spec = schemas()[spec["$ref"]]
    if "enum" in spec and isinstance(value, str):
        values = spec["enum"]
        return values.index(value) if value in values else value
    if isinstance(value, list):
        items = spec.get("items", {})
        return [_walk(item, items) for item in value]
    if isinstance(value, dict):
        props = spec.get("properties", {})
        extra = spec.get("additionalProperties") or {}
        return {key: _walk(item, props.get(key, extra)) for key, item in value.items()}
    return value
