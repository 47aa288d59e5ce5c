"""Raw pages for the transform benchmarks: fetched once from the simulator through the real client.

Each page is fetched exactly as the pipeline's extract step would (``fitbit.plan.call_for`` builds the
request, ``HealthClient.pages`` follows the tokens) and kept as the bytes the raw store would hold,
with the ``PageContext`` transform_load would build for it. The simulator runs in process (its
requests transport), so fetching costs no sockets and the bytes are exactly what it serves on HTTP.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Iterator

from fitbit.calls import export_tcx_call, paired_devices_call, settings_call
from fitbit.client import HealthClient
from fitbit.parse import PageContext, Row, parse_page
from fitbit.parse.page import Rows
from fitbit.plan import PlanOptions, call_for, object_name, planned_reads
from simulator import SIM_BASE_URL, SimConfig, Simulator, simulator_session
from fitbit.messages import Unit

SEED = 42
PARTICIPANT = "user1"  # Europe/Berlin: a plain 24-hour day (the DST days are earlier in the window)
DAY = date(2026, 11, 4)


@dataclass(frozen=True)
class RawPage:
    ctx: PageContext
    body: bytes


def transformed(pages: list[RawPage]) -> dict[str, list[Rows]]:
    """Our transform over the pages: each page's rows per table, as transform_load hands them to staging
    (column rows from the typed route, row dicts from the others), every page's kept."""
    tables: dict[str, list[Rows]] = {}
    for page in pages:
        for table, rows in parse_page(page.ctx, page.body).rows.items():
            tables.setdefault(table, []).append(rows)
    return tables


def ours(pages: list[RawPage]) -> dict[str, list[Row]]:
    """``transformed``, as row dicts per table (to compare, and to size rows column by column)."""
    return {table: [row for rows in batches for row in rows] for table, batches in transformed(pages).items()}


def _client(sim: Simulator, user: str) -> HealthClient:
    token = sim.token(user)["access_token"]
    return HealthClient(lambda: token, base_url=SIM_BASE_URL, session=simulator_session(sim))


def _simulator(day: date) -> Simulator:
    return Simulator(SimConfig(users=1, days=3, seed=SEED, end_date=day + timedelta(days=1),
                               sleep_processing_seconds=0))


def _fetch(client: HealthClient, unit: Unit, time_zone: str | None) -> Iterator[RawPage]:
    for number, page in enumerate(client.pages(call_for(unit, time_zone))):
        at = Unit(unit.participant, unit.data_type, unit.method, unit.start, unit.end, unit.reason, page=number,
                  data_point=unit.data_point)
        yield RawPage(PageContext(participant=unit.participant, data_type=unit.data_type, method=unit.method,
                                  raw_object=object_name(at, page.body),
                                  fetched_at=page.fetched_at.isoformat().replace("+00:00", "Z"),
                                  time_zone=time_zone, civil_date=unit.start, data_point=unit.data_point),
                      page.body)


def heart_rate_seconds_day(user: str = PARTICIPANT, day: date = DAY) -> list[RawPage]:
    """One participant-day of 1-second heart rate: the opt-in ``list`` read, every page of it."""
    client = _client(_simulator(day), user)
    unit = Unit(user, "heart-rate", "list", day, day + timedelta(days=1), "backfill")
    return list(_fetch(client, unit, None))


def participant_day(user: str = PARTICIPANT, day: date = DAY) -> list[RawPage]:
    """Every read of the catalogue for one participant-day (opt-in reads included), plus the account
    reads and the TCX export of each GPS exercise that day: every kind of page transform_load parses."""
    client = _client(_simulator(day), user)
    end = day + timedelta(days=1)
    pages: list[RawPage] = []
    for name, call in (("settings", settings_call()), ("paired-devices", paired_devices_call())):
        page = client.execute(call)
        unit = Unit(user, name, "get", day, end, "backfill")
        pages.append(RawPage(PageContext(user, name, "get", object_name(unit, page.body),
                                         page.fetched_at.isoformat().replace("+00:00", "Z"), civil_date=day),
                             page.body))
    time_zone = json.loads(pages[0].body)["timeZone"]
    for path_id, read in planned_reads(PlanOptions(heart_rate_seconds=True)):
        pages += _fetch(client, Unit(user, path_id, read.method, day, end, "backfill"), time_zone)
    for raw in [p for p in pages if p.ctx.data_type == "exercise"]:
        for row in parse_page(raw.ctx, raw.body).rows["exercise_sessions"]:
            if row["has_gps"]:
                point = str(row["data_point_name"]).rsplit("/", 1)[-1]
                unit = Unit(user, "exercise-tcx", "exportExerciseTcx", day, end, "follow-up", data_point=point)
                page = client.execute(export_tcx_call(point))
                pages.append(RawPage(PageContext(user, "exercise-tcx", unit.method, object_name(unit, page.body),
                                                 page.fetched_at.isoformat().replace("+00:00", "Z"),
                                                 civil_date=day, data_point=point), page.body))
    return pages


def save(pages: list[RawPage], folder: Path) -> Path:
    """Write pages as one file each plus an index, so a fresh process can read them without a pickle
    whose loading would itself raise the memory high-water mark."""
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for number, page in enumerate(pages):
        (folder / f"{number:04d}.page").write_bytes(page.body)
        ctx = asdict(page.ctx)
        ctx["civil_date"] = page.ctx.civil_date.isoformat() if page.ctx.civil_date else None
        index.append(ctx)
    (folder / "index.json").write_text(json.dumps(index))
    return folder


def load(folder: Path) -> list[RawPage]:
    index = json.loads((folder / "index.json").read_text())
    pages = []
    for number, ctx in enumerate(index):
        ctx["civil_date"] = date.fromisoformat(ctx["civil_date"]) if ctx["civil_date"] else None
        pages.append(RawPage(PageContext(**ctx), (folder / f"{number:04d}.page").read_bytes()))
    return pages
