"""The simulator's cheaper answers (issue #14) are the same answers: offsets cached per hour follow the
zone rules through DST changes and travel, looked-up clock texts match datetime's formatting, msgspec's
compact JSON decodes to the object served, and a participant-day is generated once however many requests
read it."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from fitbit import plan
from fitbit.client import HealthClient
from fitbit.messages import RunTrigger
from simulator.app import Simulator
from simulator.cohort import make_persona
from simulator.config import SimConfig
from simulator.errors import json_response
from simulator.generators import BUILDERS
from simulator.store import DataStore
from simulator.timefmt import civil_dict, rfc3339
from simulator.transport import SIM_BASE_URL, simulator_session

END = date(2026, 11, 6)


def _zone_rules(persona, epoch: int) -> int:
    minute = epoch - epoch % 60
    zone = [name for start, name in persona.zones if start <= minute][-1]
    return int(datetime.fromtimestamp(minute, UTC).astimezone(ZoneInfo(zone)).utcoffset().total_seconds())


def test_offsets_follow_the_zone_rules_through_dst_changes_and_travel() -> None:
    personas = [make_persona(n, 42, END) for n in range(1, 11)]
    assert any(len(p.zones) > 1 for p in personas)  # a traveller is among them
    start = int(datetime(2025, 10, 1, tzinfo=UTC).timestamp())
    for persona in personas:
        for epoch in range(start, start + 420 * 86400, 997):
            assert persona.offset_at(epoch) == _zone_rules(persona, epoch), (persona.label, epoch)
    london = next(p for p in personas if p.zones[0][1] == "Europe/London")
    change = int(datetime(2026, 3, 29, 1, tzinfo=UTC).timestamp())  # clocks go forward at 01:00 UTC
    assert [london.offset_at(change + d) for d in (-61, -1, 0, 59, 60)] == [0, 0, 3600, 3600, 3600]


def test_instants_and_civil_times_render_as_datetime_formats_them() -> None:
    rng = random.Random(7)
    for _ in range(20000):
        epoch = rng.randint(0, 2**31)
        when = datetime.fromtimestamp(epoch, UTC)
        assert rfc3339(epoch) == when.strftime("%Y-%m-%dT%H:%M:%SZ")
        civil = civil_dict(epoch)
        assert civil["date"] == {"year": when.year, "month": when.month, "day": when.day}
        clock = {"hours": when.hour, "minutes": when.minute, "seconds": when.second}
        assert civil["time"] == {k: v for k, v in clock.items() if v}


def test_compact_json_is_the_object_in_utf8_and_pretty_json_stays_indented() -> None:
    body = {"dataPoints": [{"name": "Zoë", "value": 72.5, "n": 10**15, "ok": True, "none": None}],
            "nextPageToken": "abc"}
    status, headers, raw = json_response(200, body)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=UTF-8"
    assert json.loads(raw) == body and "Zoë".encode() in raw and raw.endswith(b"\n") and b" " not in raw
    assert json_response(200, body, pretty=True)[2] == (json.dumps(body, indent=2) + "\n").encode()


def test_a_participant_day_is_generated_once_for_all_its_requests() -> None:
    sim = Simulator(SimConfig(users=2, days=2, seed=5, end_date=END, sleep_processing_seconds=0))
    built: Counter[tuple[str, int, date]] = Counter()

    def counting(path_id, build):
        def run(day_data):
            built[(path_id, day_data.persona.number, day_data.day)] += 1
            return build(day_data)
        return run

    sim.store = DataStore(sim.config.seed, sim.cohort, sim.sleep_processed,
                          {k: counting(k, b) for k, b in BUILDERS.items()}, sim.config)
    zones = {u["user"]: u["timeZone"] for u in sim.describe_cohort()["users"]}
    units = plan.units_for_run(RunTrigger(END, 1, "daily", run_id="t"), ["user1", "user2"], END)
    for unit in units:
        token = sim.token(unit.participant)["access_token"]
        client = HealthClient(lambda t=token: t, base_url=SIM_BASE_URL, session=simulator_session(sim))
        client.execute(plan.call_for(unit, zones[unit.participant]))
    assert len(units) > 40 and built and max(built.values()) == 1
    assert {day for _, _, day in built} <= {END - timedelta(days=1), END}
