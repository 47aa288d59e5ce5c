"""Real simulator pages, mutated the ways a bad payload can be bad (shared by the fuzz tests and make chaos).

``seed_pages`` asks the in-process simulator (no socket) for one page of every catalogue read, the
account reads and a TCX export, each cut to a few points; ``mutations`` draws a page and damages it at a
random place: strings for numbers, numbers for strings, huge ints, ``"NaN"``/``"Infinity"`` strings and
bare literals, ``1e400``, missing keys, nulls, nested garbage.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from fitbit.calls import list_call
from fitbit.catalogue import ACCOUNT_READS, DATA_TYPES, read_for, unit_kind
from fitbit.client import HealthClient
from fitbit.messages import Unit
from fitbit.parse import PageContext
from fitbit.plan import call_for
from simulator import SIM_BASE_URL, SimConfig, Simulator, simulator_session

DAY = date(2026, 11, 3)
ZONE = "America/New_York"
POINTS_PER_PAGE = 4
TRACK_POINTS = 12
FUZZ_SCALE = "FUZZ_SCALE"  # multiplies every fuzz test's examples (make chaos part b sets it)
_BARE = {"__NaN__": "NaN", "__Infinity__": "Infinity", "__1e400__": "1e400", "__-1e400__": "-1e400"}


def examples(default: int) -> int:
    """A fuzz test's number of examples: ``default``, times ``$FUZZ_SCALE`` when set."""
    return default * int(os.environ.get(FUZZ_SCALE, "1"))


@dataclass(frozen=True)
class SeedPage:
    ctx: PageContext
    data: Any  # the page's JSON document, or the TCX text


def _ctx(data_type: str, method: str, **kw: Any) -> PageContext:
    return PageContext(participant="user1", data_type=data_type, method=method, raw_object="raw/user1/fuzz.json",
                       fetched_at="2026-11-05T06:00:00Z", time_zone=ZONE, civil_date=DAY, **kw)


def _client() -> HealthClient:
    sim = Simulator(SimConfig(users=1, days=5, seed=11, sleep_processing_seconds=0))
    token = sim.token("user1")["access_token"]
    return HealthClient(lambda: token, base_url=SIM_BASE_URL, session=simulator_session(sim))


def seed_pages() -> list[SeedPage]:
    client = _client()
    seeds: list[SeedPage] = []
    for dt in DATA_TYPES:
        for read in dt.reads:
            if dt.path_id == "heart-rate" and read.method == "list":
                start = datetime(2026, 11, 3, 12, tzinfo=UTC)
                call = list_call(dt.path_id, filter=dt.physical_time_filter(start, start + timedelta(minutes=2)),
                                 page_size=read_for(dt.path_id, read.method).page_size)
            else:
                call = call_for(Unit("user1", dt.path_id, read.method, DAY, DAY + timedelta(days=1), "backfill"),
                                ZONE)
            page = next(iter(client.pages(call)), None)
            if page is None:
                continue
            data = json.loads(page.body)
            key = unit_kind(dt.path_id, read.method).items_key
            if key and isinstance(data.get(key), list):
                data[key] = data[key][:POINTS_PER_PAGE]
            seeds.append(SeedPage(_ctx(dt.path_id, read.method, window_end=DAY + timedelta(days=1)), data))
    seeds += [SeedPage(_ctx("settings", "get"), client.settings())]
    devices = next((k for k in ACCOUNT_READS if k.name == "paired-devices"), None)
    if devices is not None:
        seeds.append(SeedPage(_ctx(devices.name, devices.method), {"pairedDevices": [
            {"name": "users/me/pairedDevices/1", "lastSyncTime": "2026-11-05T08:00:00Z"}]}))
    return seeds


NASTY_SCALARS = st.sampled_from([
    "NaN", "Infinity", "-Infinity", "__NaN__", "__Infinity__", "__1e400__", "__-1e400__", "1e400", "sixty", "",
    str(2**63), str(-(2**63) - 1), str(2**200), 2**63, -(2**64), 2**200, 1e308, -1e308, 0, -1, 3.5, True, False,
    None, "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z", "1e20s", "-1e20s", "2026-13-45T25:61:61Z",
    "../../etc", "\x00", "x" * 300,
])
JUNK = st.recursive(NASTY_SCALARS | st.text(max_size=5) | st.integers() | st.floats(allow_nan=True),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                    max_leaves=6)


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: (container path, key) pairs, as paths."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((*path, key))
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((*path, index))
            found += _places(value, (*path, index))
    return found


def mutate(data: Any, draw: Any, times: int = 3) -> Any:
    """A deep copy of ``data`` with up to ``times`` places replaced by junk or removed."""
    data = json.loads(json.dumps(data))
    for _ in range(draw(st.integers(1, times))):
        places = _places(data)
        if not places:
            return data
        *parent_path, key = draw(st.sampled_from(places))
        parent = data
        for step in parent_path:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[key]
        else:
            parent[key] = draw(JUNK)
    return data


def body_of(data: Any) -> str:
    """The page as the API would send it, with bare ``NaN``/``Infinity``/``1e400`` literals where asked."""
    text = json.dumps(data)
    for marker, literal in _BARE.items():
        text = text.replace(f'"{marker}"', literal)
    return text


def seed_tcx() -> SeedPage:
    """The first GPS exercise's TCX export in the simulator's history, cut to its first track points
    (``data`` is the XML text)."""
    client = _client()
    for day in range(5):
        start = DAY - timedelta(days=day)
        call = call_for(Unit("user1", "exercise", "list", start, start + timedelta(days=1), "backfill"), ZONE)
        for page in client.pages(call):
            for point in json.loads(page.body).get("dataPoints", []):
                if point["exercise"].get("exerciseMetadata", {}).get("hasGps"):
                    tcx = client.export_tcx(point["name"].rsplit("/", 1)[-1]).decode()
                    head, *points = tcx.split("<Trackpoint>")
                    last = points[-1].split("</Trackpoint>", 1)[1]
                    kept = [p.split("</Trackpoint>", 1)[0] + "</Trackpoint>" for p in points[:TRACK_POINTS]]
                    tcx = head + "".join("<Trackpoint>" + p for p in kept) + last
                    return SeedPage(_ctx("exercise-tcx", "exportExerciseTcx", data_point=point["name"]), tcx)
    raise LookupError("the simulator's history holds no GPS exercise")


def mutate_xml(text: str, draw: Any, times: int = 3) -> str:
    """``text`` with up to ``times`` element texts replaced by junk (as text: XML has only strings)."""
    import re

    values = list(re.finditer(r">([^<>]+)</", text))
    for _ in range(draw(st.integers(1, times))):
        found = draw(st.sampled_from(values))
        junk = draw(NASTY_SCALARS)
        replacement = "" if junk is None else str(junk).replace("<", "").replace("&", "").replace("\x00", "")
        text = text[:found.start(1)] + replacement + text[found.end(1):]
        values = list(re.finditer(r">([^<>]+)</", text))
    return text
