"""Work messages are decoded and validated in one place; anything malformed is terminal."""

import base64
import json
from datetime import date, datetime, timezone

import pytest

from fitbit.errors import MalformedMessage, TerminalError
from fitbit.messages import FlushTrigger, RunTrigger, Unit, decode, encode
from helper.cloudevents import message_from_pubsub_event, object_from_storage_event, pubsub_event_data

UNIT = Unit("user1", "steps", "reconcile", date(2026, 11, 3), date(2026, 11, 6), "daily", page=2,
            page_token="tok", attempt=1, not_before=datetime(2026, 11, 6, 10, tzinfo=timezone.utc), run_id="r1")


@pytest.mark.parametrize("message", [UNIT, RunTrigger(date(2026, 11, 5), 14, "backfill", ("user1",)), FlushTrigger("r")])
def test_every_message_kind_round_trips(message):
    assert decode(encode(message)) == message


def test_messages_carry_schema_and_version():
    body = json.loads(encode(UNIT))
    assert body["schema"] == "fitbit-pipeline" and body["version"] == 1 and body["kind"] == "unit"


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "not JSON"),
    (b"[1,2]", "not a JSON object"),
    (b'{"schema":"other","version":1,"kind":"unit"}', "unknown message schema"),
    (b'{"schema":"fitbit-pipeline","version":2,"kind":"unit"}', "unsupported message version"),
    (b'{"schema":"fitbit-pipeline","version":1,"kind":"dance"}', "unknown message kind"),
])
def test_foreign_messages_are_terminal(raw, reason):
    with pytest.raises(MalformedMessage, match=reason) as info:
        decode(raw)
    assert isinstance(info.value, TerminalError)


def _unit(**changes):
    body = json.loads(encode(UNIT))
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize("changes, reason", [
    ({"data_type": "telepathy"}, "unknown data type"),
    ({"method": "rollUp"}, "does not read"),
    ({"start": "2026-13-01"}, "YYYY-MM-DD"),
    ({"end": "2026-11-01"}, "end must be after"),
    ({"page": -1}, "non-negative"),
    ({"attempt": True}, "non-negative"),
    ({"reason": "whim"}, "reason must be"),
    ({"not_before": "2026-11-06T10:00:00"}, "time zone"),
    ({"participant": ""}, "non-empty"),
    ({"extra": 1}, "unknown message fields"),
])
def test_bad_units_are_rejected_with_the_field_named(changes, reason):
    with pytest.raises(MalformedMessage, match=reason):
        decode(_unit(**changes))


def test_run_trigger_days_are_bounded():
    with pytest.raises(MalformedMessage, match="days"):
        decode(b'{"schema":"fitbit-pipeline","version":1,"kind":"run","days":0}')


def test_pubsub_event_data_round_trips_the_message_bytes():
    data = pubsub_event_data(encode(UNIT), "7", datetime(2026, 11, 6, tzinfo=timezone.utc), "projects/p/subscriptions/s")
    assert base64.b64decode(data["message"]["data"]) == encode(UNIT)
    assert message_from_pubsub_event(data) == encode(UNIT)
    with pytest.raises(MalformedMessage):
        message_from_pubsub_event({"message": {"data": "%%%"}})


def test_storage_events_need_bucket_and_name():
    obj = object_from_storage_event({"bucket": "b", "name": "raw/x.json", "generation": 5})
    assert obj.generation == "5"
    with pytest.raises(MalformedMessage):
        object_from_storage_event({"bucket": "b"})


def test_unit_labels_hold_no_values():
    assert UNIT.label == "user1/steps/reconcile/2026-11-03..2026-11-06/p2"


def test_a_webhook_unit_round_trips_with_its_own_reason():
    from dataclasses import replace

    unit = replace(UNIT, reason="webhook", run_id="webhook", page=0, page_token=None)
    assert decode(encode(unit)) == unit


TCX = Unit("user1", "exercise-tcx", "exportExerciseTcx", date(2026, 11, 3), date(2026, 11, 4), "follow-up",
           data_point="5761431717404160")


def _tcx(**changes):
    body = json.loads(encode(TCX))
    body.update(changes)
    return json.dumps(body).encode()


@pytest.mark.parametrize("raw, reason", [
    (_unit(participant="user\x001"), r"unit\.participant: a participant id"),
    (_unit(participant="u" * 256), r"unit\.participant: a participant id"),
    (_unit(participant="../user1"), r"unit\.participant: a participant id"),
    (_unit(participant="user.1"), r"unit\.participant: a participant id"),
    (_unit(run_id="../../etc"), r"run_id: a run id"),
    (_unit(run_id="a/b"), r"run_id: a run id"),
    (_unit(run_id="r" * 129), r"run_id: a run id"),
    (_unit(data_point="5761431717404160"), "carry no data_point"),
    (_tcx(data_point="../5761431717404160"), r"unit\.data_point: a data point id"),
    (_tcx(data_point="users/me/dataTypes/sleep/dataPoints/1"), r"unit\.data_point: a data point id"),
    (_tcx(data_point=5761431717404160), r"unit\.data_point: a data point id"),
    (b'{"schema":"fitbit-pipeline","version":1,"kind":"flush","run_id":"../x"}', r"run_id: a run id"),
    (b'{"schema":"fitbit-pipeline","version":1,"kind":"flush","run_id":"x","bucket":"b"}', "unknown message fields"),
    (b'{"schema":"fitbit-pipeline","version":1,"kind":"run","participants":["ok","bad\\u0000"]}',
     r"run\.participants: a participant id"),
])
def test_forged_ids_are_terminal_at_decode_and_never_echoed(raw, reason):
    """Ids reach object names, secret names and API paths: a forged one stops here, recorded, not retried."""
    with pytest.raises(MalformedMessage, match=reason) as info:
        decode(raw)
    assert isinstance(info.value, TerminalError)
    assert "\x00" not in str(info.value) and "../" not in str(info.value)


@pytest.mark.parametrize("run_id", ["", "history", "daily", "after-daily", "2026-11-30T21:00:00Z", "cli.2026-11-30"])
def test_the_run_ids_every_producer_makes_are_accepted(run_id):
    assert decode(encode(FlushTrigger(run_id))) == FlushTrigger(run_id)
    assert decode(encode(TCX)) == TCX
