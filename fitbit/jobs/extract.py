"""extract: one work message in, at most one API request out, its raw page stored untouched.

Outcomes, by design (errors are Transient or Terminal):
- run trigger → fan out into units (one publish call), spread in time under the quotas (fitbit/quota.py);
- unit → one request; the page is stored under a deterministic name with the request metadata;
- 429 → the unit is deferred: republished with a not-before time (Retry-After, else exponential
  backoff), so a rate-limit storm delays the run but loses nothing and does not fail it;
- other transient errors (5xx, timeouts, a not-yet-due unit) are raised: the platform redelivers;
- terminal errors (re-consent needed, scope missing, bad request) and units out of attempts are
  written as an error object, which transform_load records in the processing log; then acknowledged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Callable, Sequence

from fitbit import plan, quota
from fitbit.catalogue import unit_kind
from fitbit.client import HealthClient
from fitbit.errors import MalformedMessage, NotYet, RateLimited, TerminalError, TransientError
from fitbit.messages import FlushTrigger, RunTrigger, Unit, decode, encode
from fitbit.ports import Queue, RawStore
from fitbit.timefmt import utc_text

log = logging.getLogger("fitbit.extract")
PLAN_PREFIX = "control/plan-"  # a run's plan: transform_load turns it into pending day-ledger rows

ClientFactory = Callable[[str], "tuple[HealthClient, str | None]"]  # participant -> (client, IANA zone)


@dataclass
class ExtractContext:
    store: RawStore
    queue: Queue
    clients: ClientFactory
    participants: Callable[[], Sequence[str]]
    clock: Callable[[], datetime]
    max_attempts: int = 8
    options: plan.PlanOptions = field(default_factory=plan.PlanOptions)
    app_verified: bool = False  # the OAuth app's verification status sets the per-user quota


def backoff_seconds(unit: Unit, retry_after_s: float | None) -> float:
    """Retry-After when the server gave one, else 2^attempt s capped at 5 min, with stable jitter."""
    jitter = int(hashlib.sha256(unit.label.encode()).hexdigest()[:4], 16) / 0xFFFF
    if retry_after_s is not None:
        return retry_after_s + jitter
    return min(2.0 ** unit.attempt, 300.0) * (1.0 + 0.25 * jitter)


def handle_message(data: bytes, ctx: ExtractContext) -> str:
    """Process one work message; returns a short outcome label for the log."""
    try:
        message = decode(data)
    except MalformedMessage as exc:
        record_malformed(data, exc, ctx)
        return "failed:MalformedMessage"
    if isinstance(message, RunTrigger):
        return fan_out(message, ctx)
    if isinstance(message, FlushTrigger):
        stamp = ctx.clock().strftime("%Y%m%dT%H%M%S")
        ctx.store.create(f"control/flush-{stamp}-{message.run_id or 'scheduled'}.json", encode(message),
                         {"kind": "flush"}, "application/json")
        return "flush-requested"
    return extract_unit(message, ctx)


def fan_out(trigger: RunTrigger, ctx: ExtractContext) -> str:
    participants = list(trigger.participants) or list(ctx.participants())
    today: date = ctx.clock().date()
    if (warning := quota.unverified_warning(len(participants), ctx.app_verified)) is not None:
        log.warning(warning)
    limits = quota.QuotaLimits.for_app(ctx.app_verified)
    planned = plan.units_for_run(trigger, participants, today, ctx.options)
    units = quota.spread(planned, ctx.clock(), limits)
    ctx.queue.publish(units)
    record_plan(trigger, planned, ctx)  # unspread: the plan's name does not depend on when it ran
    last = max((u.not_before for u in units if u.not_before), default=None)
    log.info("run fanned out", extra={"participants": len(participants), "units": len(units),
                                      "last_not_before": utc_text(last) if last else ""})
    return f"fanned-out:{len(units)}"


def record_plan(trigger: RunTrigger, units: list[Unit], ctx: ExtractContext) -> None:
    """Store the run's plan (its units) so transform_load marks their days pending in the day ledger."""
    body = b"[" + b",".join(encode(u) for u in units) + b"]"
    digest = hashlib.sha256(body).hexdigest()[:16]
    ctx.store.create(f"{PLAN_PREFIX}{trigger.run_id or 'run'}-{digest}.json", body, {"kind": "plan"},
                     "application/json")


def extract_unit(unit: Unit, ctx: ExtractContext) -> str:
    now = ctx.clock()
    if unit.not_before and unit.not_before > now:
        raise NotYet(f"unit {unit.label} is deferred", wait_s=(unit.not_before - now).total_seconds())
    kind = unit_kind(unit.data_type, unit.method)
    if kind.per_data_point and ctx.store.exists(plan.detail_prefix(unit)):
        return "detail-already-stored"
    try:
        client, time_zone = ctx.clients(unit.participant)
        page = client.execute(plan.call_for(unit, time_zone))
    except RateLimited as exc:
        return _defer(unit, ctx, exc, now)
    except TerminalError as exc:
        record_failure(unit, exc, ctx)
        return f"failed:{exc.error_class}"
    except TransientError as exc:
        if unit.attempt + 1 >= ctx.max_attempts:
            record_failure(unit, exc, ctx)
            return f"failed:{exc.error_class}"
        raise
    name = plan.object_name(unit, page.body)
    metadata = {
        **page.call.metadata(),
        "unit": encode(unit).decode(),
        "participant": unit.participant,
        "data_type": unit.data_type,
        "method": unit.method,
        "fetched_at": utc_text(page.fetched_at),
        "next_page_token": page.next_page_token or "",
        "time_zone": time_zone or "",
    }
    created = ctx.store.create(name, page.body, metadata, kind.content_type)
    return "stored" if created else "already-stored"


def _defer(unit: Unit, ctx: ExtractContext, exc: RateLimited, now: datetime) -> str:
    if unit.attempt + 1 >= ctx.max_attempts:
        record_failure(unit, exc, ctx)
        return "failed:RateLimited"
    wait = backoff_seconds(unit, exc.retry_after_s)
    ctx.queue.publish([unit.retry(now + timedelta(seconds=wait))])
    log.warning("rate limited; unit deferred", extra={"unit": unit.label, "wait_s": round(wait, 1)})
    return "deferred"


def record_failure(unit: Unit, exc: Exception, ctx: ExtractContext) -> None:
    """Write an error object: transform_load turns it into a processing-log row; nothing is lost."""
    error_class = type(exc).__name__
    fix = getattr(exc, "fix", "see the logs")
    doc = {"unit": json.loads(encode(unit)), "error_class": error_class, "fix": fix, "message": str(exc)}
    body = json.dumps(doc, sort_keys=True).encode()
    ctx.store.create(plan.error_object_name(unit.label, body), body,
                     {"participant": unit.participant, "data_type": unit.data_type, "method": unit.method,
                      "error_class": error_class}, "application/json")
    log.error("unit failed", extra={"unit": unit.label, "error_class": error_class, "fix": fix})


def record_malformed(data: bytes, exc: MalformedMessage, ctx: ExtractContext) -> None:
    """Record a message we cannot read (by hash and size only: its content is untrusted) and ack it."""
    digest = hashlib.sha256(data).hexdigest()
    doc = {"unit": None, "error_class": exc.error_class, "fix": exc.fix, "message": str(exc),
           "message_sha256": digest, "message_bytes": len(data)}
    body = json.dumps(doc, sort_keys=True).encode()
    ctx.store.create(f"errors/malformed/{digest[:16]}.json", body,
                     {"participant": "unknown", "data_type": "unknown", "method": "unknown",
                      "error_class": exc.error_class}, "application/json")
    log.error("malformed message acknowledged", extra={"error_class": exc.error_class, "sha256": digest[:16]})
