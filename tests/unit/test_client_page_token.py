"""The client's fast page check (issue #14) agrees with ``read_envelope``, the reference reading: same
token or same error class for every body, real simulator pages included; ``Page.data``/``items`` are the
parsed body; one client serves several threads without refreshing one grant twice at once."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from fitbit.calls import daily_roll_up_call, list_call, paired_devices_call, reconcile_call, settings_call
from fitbit.client import HealthClient, page_token
from fitbit.errors import PipelineError
from fitbit.http_errors import read_envelope
from simulator.app import Simulator
from simulator.config import SimConfig
from simulator.transport import SIM_BASE_URL, simulator_session
from tests.client_support import STEPS, client_for, reply

JSON = "application/json; charset=UTF-8"

BODIES = [
    b"{}", b'{"nextPageToken": ""}', b'{"nextPageToken": "abc"}', b'{"nextPageToken": null}',
    b'{"dataPoints": [{"a": 1}, {}], "nextPageToken": "t"}', b'{"dataPoints": []}', b' {"x": [1, {"y": NaN}]} ',
    b'{"dataPoints": [{"v": NaN}], "nextPageToken": "n"}', b'{"dataPoints": [{"a": 1}', b"", b"[1, 2]",
    b'"text"', b'{"dataPoints": {"a": 1}}', b'{"dataPoints": [1]}', b'{"dataPoints": null}',
    b'{"nextPageToken": 7}', b'{"nextPageToken": ["a"]}', b'{"rollupDataPoints": [{}], "nextPageToken": "r"}',
    '{"dataPoints": [{"name": "é"}], "nextPageToken": "ü"}'.encode(), b'{"a": 1} trailing',
    b"\xef\xbb\xbf{}", b'{"dataPoints": [{}], "dataPoints": [2]}',
]


def _reading(fn, raw: bytes, content_type: str | None, items_key: str | None) -> tuple[str, object]:
    try:
        result = fn(200, content_type, raw, items_key=items_key, what="steps list")
    except PipelineError as exc:
        return "error", type(exc).__name__
    return "token", result if fn is page_token else result[2]


@pytest.mark.parametrize("raw", BODIES)
@pytest.mark.parametrize("items_key", ["dataPoints", "rollupDataPoints", None])
@pytest.mark.parametrize("content_type", [JSON, None, "text/html; charset=UTF-8"])
def test_the_fast_check_reads_every_body_as_read_envelope_does(raw: bytes, items_key: str | None,
                                                               content_type: str | None) -> None:
    assert _reading(page_token, raw, content_type, items_key) == _reading(read_envelope, raw, content_type,
                                                                          items_key)


def test_real_simulator_pages_give_the_reference_token_and_data() -> None:
    sim = Simulator(SimConfig(users=1, days=3, seed=3))
    token = sim.token("user1")["access_token"]
    client = HealthClient(lambda: token, base_url=SIM_BASE_URL, session=simulator_session(sim))
    end = sim.cohort.days[-1]
    calls = [list_call("heart-rate", filter=None, page_size=500), list_call("steps", filter=None, page_size=7),
             reconcile_call("sleep", filter=None, page_size=None),
             daily_roll_up_call("steps", start=date.fromordinal(end.toordinal() - 2), end=end),
             paired_devices_call(), settings_call()]
    seen_tokens = 0
    for call in calls:
        page = client.execute(call)
        _, reference_items, reference_token = read_envelope(200, JSON, page.body, items_key=call.items_key,
                                                            what="x")
        assert page.next_page_token == reference_token
        assert page.data == json.loads(page.body) and page.items == reference_items
        seen_tokens += reference_token is not None
    assert seen_tokens >= 2  # paged answers were among them


def test_data_and_items_are_the_parsed_body() -> None:
    body = b'{"dataPoints": [{"steps": {"count": "5"}}], "nextPageToken": "n"}'
    client, _ = client_for(reply(200, body))
    page = client.execute(STEPS)
    assert page.data == {"dataPoints": [{"steps": {"count": "5"}}], "nextPageToken": "n"}
    assert page.items == [{"steps": {"count": "5"}}] and page.next_page_token == "n"


class SlowTokens:
    """A token source that notices two threads inside it at once (as a refresh racing a refresh would)."""

    def __init__(self) -> None:
        self.inside = 0
        self.overlaps = 0
        self.calls = 0

    def __call__(self) -> str:
        self.inside += 1
        self.overlaps += self.inside > 1
        time.sleep(0.002)
        self.calls += 1
        self.inside -= 1
        return "token"


def test_one_client_serves_many_threads_with_one_token_call_at_a_time() -> None:
    tokens = SlowTokens()
    count = 40
    client, fake = client_for(*[reply(200, {"dataPoints": [{"i": i}]}) for i in range(count)], token=tokens)
    lock = threading.Lock()
    original = fake.send

    def send(request, **kwargs):  # the fake's script is a list: pop under a lock, as a socket would serialise
        with lock:
            return original(request, **kwargs)

    fake.send = send  # type: ignore[method-assign]
    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(lambda _: client.execute(STEPS), range(count)))
    assert sorted(p.items[0]["i"] for p in pages) == list(range(count))
    assert tokens.calls == count and tokens.overlaps == 0
