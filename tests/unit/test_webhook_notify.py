"""The notify domain function: handshake, authorization, signatures, coalescing, deduplication, unknown users."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from fitbit.jobs.notify import MAX_BODY_BYTES, NotifyContext, handle_request
from fitbit.messages import Unit
from fitbit.webhooks.dedup import StoreClaims
from fitbit.webhooks.participants import Enrolled, ParticipantDirectory
from fitbit.webhooks.signature import KeysetCache
from helper.storage import LocalRawStore
from simulator.webhook_keys import Keyring
from tests.webhook_support import SECRET, body_of, notification

pytestmark = pytest.mark.webhook
T0 = datetime(2026, 11, 5, 12, 0, 10, tzinfo=timezone.utc)
ENROLLED = [Enrolled("p1", "111", "Europe/Berlin"), Enrolled("p2", "222", None)]


class RecordingQueue:
    """The Queue port, in memory: what was published, in order."""

    def __init__(self) -> None:
        self.units: list[Unit] = []

    def publish(self, messages) -> None:  # noqa: ANN001
        self.units += list(messages)


@pytest.fixture
def ring() -> Keyring:
    return Keyring(seed=11)


@pytest.fixture
def ctx(tmp_path, ring) -> NotifyContext:
    now = {"t": T0}
    context = NotifyContext(
        accepted_secrets=lambda: (SECRET,), keyset=KeysetCache(ring.public_keyset),
        participants=ParticipantDirectory(lambda: ENROLLED), claims=None,  # type: ignore[arg-type]
        queue=RecordingQueue(), store=LocalRawStore(tmp_path / "raw", "bucket"), clock=lambda: now["t"],
        coalesce_s=60.0)
    context.claims = StoreClaims(context.store)
    context.now = now  # type: ignore[attr-defined]
    return context


def post(ctx: NotifyContext, ring: Keyring, body: bytes, **headers: str):  # noqa: ANN201
    signed = {"X-HEALTHAPI-SIGNATURE": ring.sign(body), "Authorization": SECRET, **headers}
    return handle_request("POST", {k: v for k, v in signed.items() if v}, body, ctx)


def test_the_verification_handshake_answers_201_with_the_secret_and_401_or_403_without_it(ctx):
    body = json.dumps({"type": "verification"}).encode()
    assert handle_request("POST", {"Authorization": SECRET}, body, ctx).status == 201
    assert handle_request("POST", {}, body, ctx).status == 401
    assert handle_request("POST", {"Authorization": "Bearer guessed"}, body, ctx).status == 403


def test_a_rotating_secret_accepts_the_old_and_the_new_value(ctx):
    ctx.accepted_secrets = lambda: ("Bearer new", SECRET)
    body = json.dumps({"type": "verification"}).encode()
    statuses = [handle_request("POST", {"Authorization": s}, body, ctx).status for s in ("Bearer new", SECRET)]
    assert statuses == [201, 201]


def test_notifications_need_a_good_signature_and_a_right_or_absent_secret(ctx, ring):
    body = body_of(notification("111"))
    assert post(ctx, ring, body, Authorization="Bearer wrong").status == 403
    assert post(ctx, ring, body, **{"X-HEALTHAPI-SIGNATURE": ""}).status == 401
    assert post(ctx, ring, body, **{"X-HEALTHAPI-SIGNATURE": ring.sign(body + b" ")}).status == 401
    assert ctx.queue.units == []
    assert post(ctx, ring, body, Authorization="").status == 204
    ctx.require_authorization = True
    assert post(ctx, ring, body, Authorization="").status == 401


def test_oversized_malformed_and_non_post_requests_are_refused_before_any_work(ctx, ring):
    assert post(ctx, ring, b"[" + b" " * MAX_BODY_BYTES + b"]").status == 413
    assert post(ctx, ring, b'{"data": 1}').status == 400
    assert handle_request("GET", {}, b"", ctx).status == 405
    assert ctx.queue.units == []


def test_a_batch_is_coalesced_per_participant_type_and_civil_day(ctx, ring):
    notes = [notification("111", "steps", f"2026-11-04T{h:02d}:00:00", f"2026-11-04T{h:02d}:15:00") for h in range(9)]
    notes += [notification("111", "distance"), notification("222", "steps"), notification("111", "sleep",
              "2026-11-03T23:00:00", "2026-11-04T07:00:00")]
    reply = post(ctx, ring, body_of(*notes))
    assert reply.status == 204 and reply.counts["days"] == 4
    keys = {(u.participant, u.data_type, u.method, u.start) for u in ctx.queue.units}
    assert len(keys) == len(ctx.queue.units), "a unit was published twice"
    assert {(p, t) for p, t, _, _ in keys} == {("p1", "steps"), ("p1", "distance"), ("p2", "steps"), ("p1", "sleep")}


def test_duplicates_and_replays_publish_no_duplicate_units(ctx, ring):
    body = body_of(notification("111"))
    assert post(ctx, ring, body).counts["units"] == 2  # steps: reconcile + dailyRollUp for the day
    second = post(ctx, ring, body)  # a duplicate in the same window: one trailing re-read when the next opens
    assert second.counts["units"] == 2 and second.counts["deferred"] == 1
    assert {u.not_before for u in ctx.queue.units[2:]} == {datetime(2026, 11, 5, 12, 1, tzinfo=timezone.utc)}
    for _ in range(3):  # replays within the window: already queued
        assert post(ctx, ring, body).counts == {**second.counts, "units": 0, "deferred": 0, "already_queued": 1}
    assert len(ctx.queue.units) == 4
    ctx.now["t"] = T0 + timedelta(seconds=45)  # still this window: the trailing re-read covers it
    assert post(ctx, ring, body).counts["units"] == 0
    ctx.now["t"] = T0 + timedelta(seconds=65)  # the trailing re-read may have run: one more, at the window after
    assert post(ctx, ring, body).counts == {**second.counts, "units": 2, "deferred": 1}


def test_a_change_after_the_first_fetch_still_gets_a_fetch_that_starts_after_it(ctx, ring):
    post(ctx, ring, body_of(notification("111")))
    ctx.now["t"] = T0 + timedelta(seconds=20)
    post(ctx, ring, body_of(notification("111", start="2026-11-04T11:00:00", end="2026-11-04T11:15:00")))
    later = [u for u in ctx.queue.units if u.not_before is not None]
    assert later and all(u.not_before > ctx.now["t"] for u in later)


def test_unknown_users_are_recorded_once_and_never_fetched(ctx, ring):
    for _ in range(2):
        reply = post(ctx, ring, body_of(notification("999"), notification("999", "sleep")))
        assert reply.status == 204 and reply.counts["unknown_users"] == 1
    assert ctx.queue.units == []
    records = list((ctx.store.root / "objects/errors/webhooks/unknown-user").rglob("*.json"))
    assert len(records) == 1
    doc = json.loads(records[0].read_text())
    assert (doc["error_class"], doc["health_user_id"], doc["unit"]["participant"]) == ("UnknownHealthUser", "999",
                                                                                       "unknown")


def test_types_without_webhooks_are_acknowledged_and_ignored(ctx, ring):
    reply = post(ctx, ring, body_of(notification("111", "heart-rate"), notification("111", "blood-glucose")))
    assert reply.status == 204 and reply.counts["ignored_types"] == 2 and ctx.queue.units == []


def test_a_keyset_that_cannot_be_fetched_asks_google_to_deliver_again(ctx, ring):
    from fitbit.webhooks.signature import KeysetUnavailable

    def down() -> bytes:
        raise KeysetUnavailable("HTTP 503")

    ctx.keyset = KeysetCache(down)
    assert post(ctx, ring, body_of(notification("111"))).status == 503


def test_the_log_line_carries_counts_and_never_the_body_or_the_secret(ctx, ring):
    # A handler on the logger itself, enabled: earlier tests may have run helper.logs.configure (which stops
    # "fitbit" propagating to the root logger, where caplog listens) or a logging.config call that disables
    # existing loggers.
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("fitbit.notify")
    saved = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.disabled = False
    try:
        post(ctx, ring, body_of(notification("111")))
        post(ctx, ring, body_of(notification("111")), Authorization="Bearer wrong")
    finally:
        logger.removeHandler(handler)
        logger.level, logger.disabled = saved
    # What the handler put in the record (message and extra fields), not the record's own clock, thread and
    # process ids, which hold "111" often enough to fail at random.
    standard = set(vars(logging.LogRecord("x", logging.INFO, __file__, 1, "", None, None)))
    text = " ".join(f"{r.getMessage()} {({k: v for k, v in vars(r).items() if k not in standard})}" for r in records)
    assert "accepted" in text and "rejected:authorization" in text
    assert "111" not in text and SECRET not in text and "wrong" not in text and "intervals" not in text
