"""Work messages: the typed, versioned requests the pipeline passes itself, decoded and validated in one place.

Why one module: a malformed message must become a terminal error (recorded, acknowledged), never a
bare exception that Pub/Sub redelivers forever. Every message is JSON with ``schema`` and ``version``
so that old messages still in a queue after a deploy are recognised rather than misread.

Message kinds (schema ``fitbit-pipeline``, version 1):
- ``run``: "run the day for everyone enrolled" — the scheduler's trigger. Fans out into units for the
  civil days [date - days + 1, date]; ``days`` is the sliding re-fetch window (late syncs, sleep still
  processing) or a backfill length.
- ``unit``: one request's worth of work (participant, data type, method, window, page).
- ``flush``: merge the staged rows into the warehouse tables (hourly, and when a local run drains).

- ``StoredObject``: the raw-store object a storage event names (what transform_load works on).

The envelopes that carry these (Pub/Sub and storage CloudEvents) are plumbing: ``helper/cloudevents.py``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any, Literal, Mapping

from fitbit.catalogue import unit_kind
from fitbit.errors import MalformedMessage
from fitbit.ids import data_point_id_problem, participant_id_problem, run_id_problem
from fitbit.timefmt import utc_text
from fitbit.unit import REASONS, Reason, Unit

__all__ = ["FlushTrigger", "Message", "RunTrigger", "StoredObject", "Unit", "decode", "decode_unit", "encode",
           "json_default"]

SCHEMA = "fitbit-pipeline"
VERSION = 1

MAX_DAYS_PER_RUN = 366


@dataclass(frozen=True)
class RunTrigger:
    """Run the civil days [date - days + 1, date] for every enrolled participant (or the listed ones)."""

    date: date | None = None
    days: int = 3
    reason: Reason = "daily"
    participants: tuple[str, ...] = ()
    run_id: str = ""
    kind: Literal["run"] = "run"


@dataclass(frozen=True)
class FlushTrigger:
    run_id: str = ""
    kind: Literal["flush"] = "flush"


Message = RunTrigger | FlushTrigger | Unit


def encode(message: Message) -> bytes:
    body = {"schema": SCHEMA, "version": VERSION, **asdict(message)}
    return json.dumps(body, default=json_default, separators=(",", ":"), sort_keys=True).encode()


def json_default(value: object) -> str:
    """JSON for dates and instants (UTC, ``Z``); the one spelling every message and envelope uses."""
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(data: bytes) -> Message:
    """Decode a work message; anything not produced by this pipeline raises MalformedMessage."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage(f"message is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(body, dict):
        raise MalformedMessage("message is not a JSON object")
    if body.get("schema") != SCHEMA:
        raise MalformedMessage(f"unknown message schema {body.get('schema')!r}")
    if body.get("version") != VERSION:
        raise MalformedMessage(f"unsupported message version {body.get('version')!r} (this build reads {VERSION})")
    kind = body.get("kind")
    fields = {k: v for k, v in body.items() if k not in ("schema", "version")}
    if kind == "run":
        return _decode_run(fields)
    if kind == "flush":
        _only(fields, {"kind", "run_id"})
        return FlushTrigger(run_id=_run_id(fields))
    if kind == "unit":
        return _decode_unit(fields)
    raise MalformedMessage(f"unknown message kind {kind!r}")


def decode_unit(data: bytes) -> Unit:
    """Decode a message that must be a unit (what a raw object's metadata carries)."""
    message = decode(data)
    if not isinstance(message, Unit):
        raise MalformedMessage(f"expected a unit message, got a {message.kind} message")
    return message


def _decode_run(f: Mapping[str, Any]) -> RunTrigger:
    _only(f, {"kind", "date", "days", "reason", "participants", "run_id"})
    days = f.get("days", 3)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS_PER_RUN:
        raise MalformedMessage(f"run.days must be an integer 1..{MAX_DAYS_PER_RUN}")
    participants = f.get("participants", [])
    if not isinstance(participants, list):
        raise MalformedMessage("run.participants must be a list of participant ids")
    for participant in participants:
        _check(participant_id_problem(participant), "run.participants")
    return RunTrigger(
        date=_date(f.get("date"), "date", optional=True),
        days=days,
        reason=_reason(f.get("reason", "daily")),
        participants=tuple(participants),
        run_id=_run_id(f),
    )


def _decode_unit(f: Mapping[str, Any]) -> Unit:
    _only(f, {"kind", "participant", "data_type", "method", "start", "end", "reason", "page", "page_token",
              "attempt", "not_before", "data_point", "run_id", "fetch_id"})
    data_type = _text(f, "data_type")
    method = _text(f, "method")
    try:
        kind = unit_kind(data_type, method)
    except KeyError as exc:
        raise MalformedMessage(f"unit names work the catalogue does not know: {exc.args[0]}") from None
    # Every unit has its civil window: reads select by it, account reads and details are dated by it.
    start = _date(f.get("start"), "start")
    end = _date(f.get("end"), "end")
    if start and end and end <= start:
        raise MalformedMessage("unit window end must be after its start")
    page, attempt = f.get("page", 0), f.get("attempt", 0)
    for name, value in (("page", page), ("attempt", attempt)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise MalformedMessage(f"unit.{name} must be a non-negative integer")
    token = f.get("page_token")
    if token is not None and not isinstance(token, str):
        raise MalformedMessage("unit.page_token must be a string")
    data_point = f.get("data_point") or None
    if kind.per_data_point:
        if data_point is None:
            raise MalformedMessage(f"{data_type} units need a data_point")
        _check(data_point_id_problem(data_point), "unit.data_point")
    elif data_point is not None:
        raise MalformedMessage(f"{data_type} {method} units carry no data_point")
    participant = _text(f, "participant")
    _check(participant_id_problem(participant), "unit.participant")
    return Unit(
        participant=participant,
        data_type=data_type,
        method=method,
        start=start,
        end=end,
        reason=_reason(f.get("reason")),
        page=page,
        page_token=token or None,
        attempt=attempt,
        not_before=_datetime(f.get("not_before")),
        data_point=data_point,
        run_id=_run_id(f),
        fetch_id=_text(f, "fetch_id", ""),
    )


def _only(f: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(f) - allowed
    if unknown:
        raise MalformedMessage(f"unknown message fields {sorted(unknown)}")


def _text(f: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = f.get(name, default)
    if not isinstance(value, str) or (default is None and not value):
        raise MalformedMessage(f"{name} must be a non-empty string")
    return value


def _run_id(f: Mapping[str, Any]) -> str:
    value = _text(f, "run_id", "")
    _check(run_id_problem(value), "run_id")
    return value


def _check(problem: str | None, name: str) -> None:
    """Raise the id rule's reason; the offending value is left out (it may be long, binary or forged)."""
    if problem is not None:
        raise MalformedMessage(f"{name}: {problem}")


def _reason(value: Any) -> Reason:
    if value not in REASONS:
        raise MalformedMessage(f"reason must be one of {sorted(REASONS)}")
    return value  # type: ignore[no-any-return]


def _date(value: Any, name: str, *, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise MalformedMessage(f"{name} must be a YYYY-MM-DD date") from None


def _datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedMessage("not_before must be an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise MalformedMessage("not_before must carry a time zone")
    return parsed


@dataclass(frozen=True)
class StoredObject:
    """What transform_load needs from a storage object-finalized event."""

    bucket: str
    name: str
    generation: str
