"""Webhook request bodies: the verification handshake and change notifications, parsed and validated.

Facts (discovery 20261030 ``subscribers.create``; webhooks guide; team spec §6.3-§6.4 and §12, checked
2026-11-30):

- verification: ``{"type": "verification"}``, sent twice (with and without ``Authorization``);
- a notification is ``{"data": {version, clientProvidedSubscriptionName, healthUserId, operation,
  dataType, intervals[]}}``; the live API posts a **JSON array** of them, up to 99 per POST, so both an
  object and an array are read (an element without the ``data`` wrapper is read as the data itself);
- ``operation`` is ``UPSERT`` or ``DELETE``; anything else (``UPDATE`` was seen) is read as ``UPSERT``;
- ``dataType`` is the kebab-case id; the payload carries **no values**, only who/what/when;
- an interval has up to three forms: ``physicalTimeInterval`` (RFC 3339 instants),
  ``civilDateTimeInterval`` (``{date: {year, month, day}, time: {hours, minutes, seconds, nanos}}``) and
  ``civilIso8601TimeInterval`` (naive ISO 8601). Civil forms win: they are the user's own calendar.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Literal

from fitbit.errors import TerminalError

MAX_BATCH = 99
Operation = Literal["UPSERT", "DELETE"]
_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_FRACTION = re.compile(r"(\.\d{6})\d+")


class MalformedNotification(TerminalError):
    """A signed body we cannot read; answered 400 (Google's delivery log shows it) and never fetched."""

    fix = "compare the body with the format fitbit/webhooks/notification.py reads (Google delivery logs show it)"


@dataclass(frozen=True)
class Verification:
    """The endpoint-verification request Google sends when a subscriber is created or changed."""


@dataclass(frozen=True)
class Interval:
    """When the changed data lies: civil (naive, the user's wall clock) and/or physical (aware, UTC)."""

    civil: tuple[datetime, datetime] | None
    physical: tuple[datetime, datetime] | None


@dataclass(frozen=True)
class Notification:
    health_user_id: str
    data_type: str
    operation: Operation
    intervals: tuple[Interval, ...]
    version: str = ""
    subscription: str = ""


def parse_body(raw: bytes) -> Verification | tuple[Notification, ...]:
    """Read a webhook body.

    Raises:
        MalformedNotification: not JSON, an empty or oversized batch, or an element we cannot read (the
            message names the element and field, never a value).
    """
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise MalformedNotification("the body is not JSON") from None
    if isinstance(doc, dict) and doc.get("type") == "verification":
        return Verification()
    items = doc if isinstance(doc, list) else [doc]
    if not items:
        raise MalformedNotification("the body is an empty array")
    if len(items) > MAX_BATCH:
        raise MalformedNotification(f"the body holds {len(items)} notifications; Google sends at most {MAX_BATCH}")
    return tuple(_notification(item, i) for i, item in enumerate(items))


def _notification(item: Any, index: int) -> Notification:
    where = f"notification {index}"
    if not isinstance(item, dict):
        raise MalformedNotification(f"{where} is not an object")
    data = item["data"] if isinstance(item.get("data"), dict) else item
    user, data_type = data.get("healthUserId"), data.get("dataType")
    if not isinstance(user, str) or not _USER_ID.match(user):
        raise MalformedNotification(f"{where}: healthUserId is missing or malformed")
    if not isinstance(data_type, str) or not _KEBAB.match(data_type):
        raise MalformedNotification(f"{where}: dataType is missing or not a kebab-case id")
    intervals = data.get("intervals", [])
    if not isinstance(intervals, list):
        raise MalformedNotification(f"{where}: intervals is not a list")
    version, name = data.get("version", ""), data.get("clientProvidedSubscriptionName", "")
    return Notification(
        health_user_id=user,
        data_type=data_type,
        operation="DELETE" if data.get("operation") == "DELETE" else "UPSERT",
        intervals=tuple(_interval(iv, f"{where} interval {k}") for k, iv in enumerate(intervals)),
        version=str(version) if isinstance(version, (str, int)) else "",
        subscription=name if isinstance(name, str) else "",
    )


def _interval(value: Any, where: str) -> Interval:
    if not isinstance(value, dict):
        raise MalformedNotification(f"{where} is not an object")
    civil = physical = None
    try:
        if isinstance(value.get("civilDateTimeInterval"), dict):
            block = value["civilDateTimeInterval"]
            civil = (_civil_parts(block["startDateTime"]), _civil_parts(block["endDateTime"]))
        elif isinstance(value.get("civilIso8601TimeInterval"), dict):
            block = value["civilIso8601TimeInterval"]
            civil = (_naive(block["startTime"]), _naive(block["endTime"]))
        if isinstance(value.get("physicalTimeInterval"), dict):
            block = value["physicalTimeInterval"]
            physical = (_instant(block["startTime"]), _instant(block["endTime"]))
    except (KeyError, TypeError, ValueError):
        raise MalformedNotification(f"{where}: a time form is incomplete or malformed") from None
    for pair in (civil, physical):
        if pair is not None and pair[1] < pair[0]:
            raise MalformedNotification(f"{where}: the interval ends before it starts")
    return Interval(civil, physical)


def _civil_parts(value: dict[str, Any]) -> datetime:
    d, t = value["date"], value.get("time") or {}
    return datetime.combine(date(int(d["year"]), int(d["month"]), int(d["day"])),
                            time(int(t.get("hours", 0)), int(t.get("minutes", 0)), int(t.get("seconds", 0))))


def _naive(text: str) -> datetime:
    parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    if parsed.tzinfo is not None:
        raise ValueError("a civil time carries no offset")
    return parsed


def _instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00").replace("z", "+00:00")))
    if parsed.tzinfo is None:
        raise ValueError("a physical time needs an offset")
    return parsed.astimezone(timezone.utc)
