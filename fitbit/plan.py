"""What to fetch: a run's fan-out into units, each unit's API call, and where its raw page is stored.

Request budget (issue: ≤ 30 API requests per participant-day in the steady daily run): one request
per catalogue read per run window, not per day. The daily run re-reads a sliding window of
``days`` civil days (default 3: late syncs, sleep still processing) in the same single request, so
the re-fetch costs nothing extra; windows longer than a read's cap are split into chunks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

from fitbit import client
from fitbit.catalogue import ACCOUNT_READS, DATA_TYPES, Read, by_path_id, read_for
from fitbit.filters import civil_day_filter
from fitbit.messages import RunTrigger, Unit


@dataclass(frozen=True)
class PlanOptions:
    heart_rate_seconds: bool = False  # also read 1-second heart-rate samples (≈9 pages per day)


def planned_reads(options: PlanOptions) -> list[tuple[str, Read]]:
    reads = []
    for dt in DATA_TYPES:
        for read in dt.reads:
            if read.in_daily_plan or (options.heart_rate_seconds and dt.path_id == "heart-rate"):
                reads.append((dt.path_id, read))
    return reads


def run_window(trigger: RunTrigger, today: date) -> tuple[date, date]:
    """The civil days [start, end) a run covers; by default it ends with yesterday."""
    last = trigger.date or (today - timedelta(days=1))
    return last - timedelta(days=trigger.days - 1), last + timedelta(days=1)


def _chunks(start: date, end: date, max_days: int) -> list[tuple[date, date]]:
    chunks, cursor = [], start
    while cursor < end:
        upper = min(cursor + timedelta(days=max_days), end)
        chunks.append((cursor, upper))
        cursor = upper
    return chunks


def chunk_days(read: Read) -> int:
    """Days per request for a read.

    rollUp ranges are physical (UTC) and the API caps them at 14 (or 90) x 24 h; a civil window of
    14 days that contains a DST fall-back day lasts 14 days + 1 h, so rollUp chunks stay one day short.
    """
    return read.max_days - 1 if read.method == "rollUp" else read.max_days


def units_for_run(trigger: RunTrigger, participants: Sequence[str], today: date,
                  options: PlanOptions = PlanOptions()) -> list[Unit]:
    start, end = run_window(trigger, today)
    reason = trigger.reason
    units: list[Unit] = []
    for participant in participants:
        for account in ACCOUNT_READS:
            units.append(Unit(participant, account.name, "get", end - timedelta(days=1), end, reason,
                              run_id=trigger.run_id))
        for path_id, read in planned_reads(options):
            for lo, hi in _chunks(start, end, chunk_days(read)):
                units.append(Unit(participant, path_id, read.method, lo, hi, reason, run_id=trigger.run_id))
    return units


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(timezone.utc)


def call_for(unit: Unit, time_zone: str | None) -> client.ApiCall:
    """The single API request a unit stands for."""
    if unit.data_type == "settings":
        return client.settings_call()
    if unit.data_type == "paired-devices":
        return client.paired_devices_call(page_token=unit.page_token)
    if unit.data_type == "exercise-tcx":
        return client.export_tcx_call(unit.data_point)  # type: ignore[arg-type]
    assert unit.start is not None and unit.end is not None
    dt = by_path_id(unit.data_type)
    read = read_for(unit.data_type, unit.method)
    if unit.method == "dailyRollUp":
        return client.daily_roll_up_call(dt.path_id, start=unit.start, end=unit.end,
                                         page_size=read.page_size, page_token=unit.page_token)
    if unit.method == "rollUp":
        zone = ZoneInfo(time_zone or "UTC")
        return client.roll_up_call(dt.path_id, start=_local_midnight_utc(unit.start, zone),
                                   end=_local_midnight_utc(unit.end, zone), window_size=read.window_size,
                                   page_size=read.page_size, page_token=unit.page_token)
    build = client.list_call if unit.method == "list" else client.reconcile_call
    return build(dt.path_id, filter=civil_day_filter(dt, unit.start, unit.end),
                 page_size=read.page_size, page_token=unit.page_token)


def object_name(unit: Unit, body: bytes) -> str:
    """participant / type / civil date / method / window / page, plus a content hash.

    The hash makes the name deterministic for identical content and different for revised content,
    so an existing object is never overwritten and a revision is a new object.
    """
    digest = hashlib.sha256(body).hexdigest()[:16]
    if unit.data_type == "exercise-tcx":
        return f"{tcx_prefix(unit)}{digest}.tcx"
    window = f"{unit.start}_{unit.end}"
    # A follow-up re-read (a sleep still processing) that gets the very same page must still become a new
    # object, or no storage event would fire and the bounded re-read chain would stop; its attempt number
    # keeps the name deterministic, so a replayed re-read still lands on the same object.
    reread = f"r{unit.attempt}-" if unit.reason == "follow-up" else ""
    return (f"raw/{unit.participant}/{unit.data_type}/{unit.start}/{unit.method}/{window}/"
            f"page-{unit.page:04d}-{reread}{digest}.json")


def tcx_prefix(unit: Unit) -> str:
    """Any object under this prefix means the session's track was already exported."""
    return f"raw/{unit.participant}/exercise-tcx/{unit.start}/{unit.data_point}/"


def error_object_name(unit_label: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"errors/{unit_label.replace('..', '_')}/{digest}.json"
