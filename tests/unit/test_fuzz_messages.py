"""Property-based fuzzing of work messages (issue #11): whatever arrives, ``decode`` returns a typed message
or raises ``MalformedMessage`` (recorded and acknowledged by the entry points), never anything else; and a
message it accepts encodes back to one it decodes to the same message."""

from __future__ import annotations

import json
from datetime import date, datetime, UTC

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fitbit.errors import MalformedMessage
from fitbit.messages import FlushTrigger, RunTrigger, Unit, decode, encode
from tests.fuzz_pages import JUNK, body_of, examples, mutate

MESSAGES = [
    encode(Unit("user1", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 4), "daily", attempt=1)),
    encode(Unit("user1", "exercise-tcx", "exportExerciseTcx", date(2026, 11, 3), date(2026, 11, 4), "follow_up",
                data_point="7394018225563310417")),
    encode(Unit("user2", "sleep", "list", date(2026, 11, 3), date(2026, 11, 4), "daily", page_token="t", page=1,
                fetch_id="raw/user2/sleep/x.json", not_before=datetime(2026, 11, 4, 9, tzinfo=UTC))),
    encode(RunTrigger(date=date(2026, 11, 5), days=3, participants=("user1",), run_id="r1")),
    encode(FlushTrigger(run_id="r1")),
]


@settings(max_examples=examples(200), deadline=None)
@given(st.data())
def test_decode_returns_a_message_or_raises_malformed_message(data):
    doc = json.loads(data.draw(st.sampled_from(MESSAGES)))
    raw = body_of(mutate(doc, data.draw)).encode() if data.draw(st.booleans()) else json.dumps(
        data.draw(JUNK), allow_nan=True).encode()
    try:
        message = decode(raw)
    except MalformedMessage:
        return
    assert decode(encode(message)) == message


@settings(max_examples=examples(100), deadline=None)
@given(st.binary(max_size=64))
def test_decode_of_any_bytes_is_a_message_or_malformed(raw):
    try:
        decode(raw)
    except MalformedMessage:
        pass


def test_an_unhashable_reason_is_malformed_not_a_type_error():
    """Found by the fuzzing above: ``[] in REASONS`` raised TypeError, which dead-lettered the message unrecorded."""
    for message in (MESSAGES[0], MESSAGES[3]):
        for reason in ([], {}, ["daily"]):
            doc = {**json.loads(message), "reason": reason}
            with pytest.raises(MalformedMessage, match="reason"):
                decode(json.dumps(doc).encode())
