"""What to fetch: a run's fan-out into units, each unit's API call, and where its raw page is stored.

Request budget (issue: ≤ 30 API requests per participant-day in the steady daily run): one request
per catalogue read per run window, not per day. The daily run re-reads a sliding window of
``days`` civil days (default 3: late syncs, sleep still processing) in the same single request, so
the re-fetch costs nothing extra; windows longer than a read's cap are split into chunks. Each account
read is made once per participant per run, for the run's last day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Sequence

from fitbit.calls import ApiCall
from fitbit.catalogue import ACCOUNT_READS, DATA_TYPES, Read, unit_kind
from fitbit.messages import RunTrigger, Unit


@dataclass(frozen=True)
class PlanOptions:
    """The settings that switch opt-in reads on; one field per ``fitbit.catalogue.model.OptIn``."""

    heart_rate_seconds: bool = False  # also read 1-second heart-rate samples (≈9 pages per day)

    def switched_on(self) -> frozenset[str]:
        return frozenset(f.name for f in fields(self) if getattr(self, f.name))


def planned_reads(options: PlanOptions) -> list[tuple[str, Read]]:
    """Every read the daily run issues: all reads without an opt-in, and those whose opt-in is on."""
    on = options.switched_on()
    return [(dt.path_id, read) for dt in DATA_TYPES for read in dt.reads if read.opt_in is None or read.opt_in in on]


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
            units.append(Unit(participant, account.name, account.method, end - timedelta(days=1), end, reason,
                              run_id=trigger.run_id))
        for path_id, read in planned_reads(options):
            for lo, hi in _chunks(start, end, chunk_days(read)):
                units.append(Unit(participant, path_id, read.method, lo, hi, reason, run_id=trigger.run_id))
    return units


def call_for(unit: Unit, time_zone: str | None) -> ApiCall:
    """The single API request a unit stands for (its kind builds it; ``time_zone``: the account's zone)."""
    return unit_kind(unit.data_type, unit.method).call(unit, time_zone)


def object_name(unit: Unit, body: bytes) -> str:
    """participant / type / civil date / method / window / page, plus a content hash.

    The hash makes the name deterministic for identical content and different for revised content,
    so an existing object is never overwritten and a revision is a new object. A detail (one export per
    data point) is named under ``detail_prefix`` instead.
    """
    kind = unit_kind(unit.data_type, unit.method)
    digest = hashlib.sha256(body).hexdigest()[:16]
    if kind.per_data_point:
        return f"{detail_prefix(unit)}{digest}{kind.file_suffix}"
    window = f"{unit.start}_{unit.end}"
    # A follow-up re-read (a sleep still processing) that gets the very same page must still become a new
    # object, or no storage event would fire and the bounded re-read chain would stop; its attempt number
    # keeps the name deterministic, so a replayed re-read still lands on the same object.
    reread = f"r{unit.attempt}-" if unit.reason == "follow-up" else ""
    return (f"raw/{unit.participant}/{unit.data_type}/{unit.start}/{unit.method}/{window}/"
            f"page-{unit.page:04d}-{reread}{digest}{kind.file_suffix}")


def detail_prefix(unit: Unit) -> str:
    """Any object under this prefix means the data point's detail was already exported."""
    return f"raw/{unit.participant}/{unit.data_type}/{unit.start}/{unit.data_point}/"


def error_object_name(unit_label: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"errors/{unit_label.replace('..', '_')}/{digest}.json"
