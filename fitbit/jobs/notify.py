"""notify: one webhook request in, a status out, and the re-read units for what changed published.

Order of checks (cheapest and most decisive first; facts in ``fitbit.webhooks``):

1. only ``POST``; a body over ``MAX_BODY_BYTES`` is 413 (99 notifications are ~100 KB);
2. a verification request (``{"type": "verification"}``) is answered **201** when ``Authorization``
   equals an accepted secret, **401** when it is missing and **403** when it is wrong (discovery: 201,
   and 401 or 403; a 204 was reported to fail the handshake);
3. a notification's ``Authorization``, when sent, must equal an accepted secret (403); a missing one
   is accepted unless ``require_authorization`` (one live report says Google sends it only while
   verifying); the signature is always required: unsigned or bad → 401;
4. the body is parsed (400 when malformed), the users looked up (unknown ``healthUserId``s are
   recorded under ``errors/webhooks/`` and never fetched), types outside the catalogue's webhook set
   ignored, and the rest coalesced per participant × type × civil day;
5. each coalesced day claims its idempotency key for the current window: claimed → its units are
   published now; held already → the next window's key is claimed and the units are published to run
   when that window opens (so a change that lands after a fetch started is still read); both held →
   the work is already queued (a duplicate, a replay, a burst);
6. **204**. Anything transient (keyset, store, queue) is 503, so Google delivers again.

A publish that fails after its key was claimed leaves the key held: the retry takes the next window,
and a second failure leaves the day to the daily sweep, which stays the safety net.
Every request logs one structured line: status, outcome and counts. Never the body, never a value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from fitbit.catalogue import DATA_TYPES, by_path_id
from fitbit.errors import TransientError
from fitbit.messages import Unit
from fitbit.plan import PlanOptions
from fitbit.ports import Queue, RawStore
from fitbit.webhooks.dedup import Claims
from fitbit.webhooks.notification import MalformedNotification, Notification, Verification, parse_body
from fitbit.webhooks.participants import ParticipantLookup
from fitbit.webhooks.signature import KeysetCache, SignatureRejected, signature_header, verify
from fitbit.webhooks.units import DayKey, days_touched, units_for, zone_of

log = logging.getLogger("fitbit.notify")

MAX_BODY_BYTES = 1024 * 1024
WEBHOOK_TYPES = frozenset(dt.path_id for dt in DATA_TYPES if dt.webhook)


@dataclass
class NotifyContext:
    accepted_secrets: Callable[[], Sequence[str]]  # the endpoint secret(s), verbatim ("Bearer ...")
    keyset: KeysetCache
    participants: ParticipantLookup
    claims: Claims
    queue: Queue
    store: RawStore
    clock: Callable[[], datetime]
    coalesce_s: float = 60.0
    require_authorization: bool = False
    options: PlanOptions = field(default_factory=PlanOptions)


@dataclass(frozen=True)
class Reply:
    status: int
    outcome: str
    counts: Mapping[str, int] = field(default_factory=dict)


def handle_request(method: str, headers: Mapping[str, str], body: bytes, ctx: NotifyContext) -> Reply:
    """Answer one webhook request and log it (one line, no body, no values)."""
    reply = _answer(method, headers, body, ctx)
    level = logging.INFO if reply.status < 400 else logging.WARNING
    log.log(level, "webhook request", extra={"status": reply.status, "outcome": reply.outcome,
                                            "bytes": len(body), **reply.counts})
    return reply


def _answer(method: str, headers: Mapping[str, str], body: bytes, ctx: NotifyContext) -> Reply:
    if method.upper() != "POST":
        return Reply(405, "rejected:method")
    if len(body) > MAX_BODY_BYTES:
        return Reply(413, "rejected:oversized")
    authorization = _header(headers, "Authorization")
    try:
        parsed = parse_body(body)
    except MalformedNotification as exc:
        parsed = exc
    if isinstance(parsed, Verification):
        return _verification(authorization, ctx)
    try:
        if authorization is not None and not _accepted(authorization, ctx):
            return Reply(403, "rejected:authorization")
        if authorization is None and ctx.require_authorization:
            return Reply(401, "rejected:no-authorization")
        verify(body, headers, ctx.keyset)
        if isinstance(parsed, MalformedNotification):
            log.warning("webhook body rejected", extra={"error_class": parsed.error_class, "why": str(parsed)})
            return Reply(400, "rejected:malformed")
        return _accept(parsed, ctx)
    except SignatureRejected as exc:
        return Reply(401, f"rejected:signature:{exc.reason}",
                     {"signed": int(signature_header(headers) is not None)})
    except TransientError as exc:
        return Reply(503, f"retry:{exc.error_class}")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _accepted(authorization: str, ctx: NotifyContext) -> bool:
    """Constant-time comparison with every accepted secret (no early exit: timing reveals nothing)."""
    given = authorization.encode()
    matches = [hmac.compare_digest(given, secret.encode()) for secret in ctx.accepted_secrets() if secret]
    return any(matches)


def _verification(authorization: str | None, ctx: NotifyContext) -> Reply:
    if authorization is None:
        return Reply(401, "verification:no-authorization")
    if not ctx.accepted_secrets():
        log.error("webhook verification refused: no endpoint secret is configured",
                  extra={"fix": "store the subscriber's secret as 'webhook-authorization' in the secret store"})
    if _accepted(authorization, ctx):
        return Reply(201, "verification:ok")
    return Reply(403, "verification:wrong-authorization")


def _accept(notifications: Sequence[Notification], ctx: NotifyContext) -> Reply:
    now = ctx.clock()
    keys: set[DayKey] = set()
    unknown: dict[str, str] = {}
    ignored = deletes = 0
    for n in notifications:
        if n.data_type not in WEBHOOK_TYPES:
            ignored += 1
            continue
        enrolled = ctx.participants.find(n.health_user_id)
        if enrolled is None:
            unknown.setdefault(n.health_user_id, n.data_type)
            continue
        deletes += n.operation == "DELETE"
        entry = by_path_id(n.data_type)
        for day in days_touched(n.intervals, entry, zone_of(enrolled.time_zone), now):
            keys.add(DayKey(enrolled.participant, n.data_type, day))
    for health_user_id, data_type in unknown.items():
        _record_unknown(health_user_id, data_type, now, ctx)
    units, deferred, covered = _claim_and_plan(sorted(keys), now, ctx)
    if units:
        ctx.queue.publish(units)
    counts = {"notifications": len(notifications), "days": len(keys), "units": len(units), "deferred": deferred,
              "already_queued": covered, "unknown_users": len(unknown), "ignored_types": ignored, "deletes": deletes}
    return Reply(204, "accepted", counts)


def _claim_and_plan(keys: list[DayKey], now: datetime, ctx: NotifyContext) -> tuple[list[Unit], int, int]:
    window = int(now.timestamp() // ctx.coalesce_s)
    current = {f"{k.idempotency_base}/w{window}": k for k in keys}
    won = ctx.claims.claim_many(list(current))
    later = {f"{k.idempotency_base}/w{window + 1}": k for key, k in current.items() if key not in won}
    won_later = ctx.claims.claim_many(list(later)) if later else set()
    opens = datetime.fromtimestamp((window + 1) * ctx.coalesce_s, timezone.utc)
    units = [u for key, k in current.items() if key in won for u in units_for(k, ctx.options)]
    units += [u for key, k in later.items() if key in won_later for u in units_for(k, ctx.options, opens)]
    return units, len(won_later), len(later) - len(won_later)


def _record_unknown(health_user_id: str, data_type: str, now: datetime, ctx: NotifyContext) -> None:
    """One error object per unknown user and day: transform_load turns it into a processing-log row."""
    digest = hashlib.sha256(health_user_id.encode()).hexdigest()[:16]
    day = now.date().isoformat()
    doc = {"unit": {"participant": "unknown", "data_type": data_type, "method": "webhook", "start": day},
           "error_class": "UnknownHealthUser", "health_user_id": health_user_id,
           "fix": "enrol this user with scripts/authorise.py, or delete their subscription",
           "message": "a webhook notification named a healthUserId no enrolled participant has"}
    created = ctx.store.create(f"errors/webhooks/unknown-user/{digest}/{day}.json",
                               json.dumps(doc, sort_keys=True).encode(),
                               {"participant": "unknown", "data_type": data_type, "method": "webhook",
                                "error_class": "UnknownHealthUser"}, "application/json")
    if created:
        log.warning("webhook for an unknown user recorded", extra={"user_sha256": digest, "data_type": data_type})
