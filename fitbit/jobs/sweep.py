"""The orphan sweep: raw objects that never got an outcome are handed to transform_load again.

Why: an object is created and its storage event is sent in two steps. On the embedded runtime a run killed
between them leaves an object no event will ever name (the retried unit finds the object already there,
and create-if-absent sends nothing). On Google Cloud, Cloud Storage notifies by itself, but an event can
still be dead-lettered, or outlive Pub/Sub's retention while a function is broken. So, on both runtimes,
an object under ``raw/`` or ``errors/`` created at least ``grace`` ago that has no ``processing_log`` row
is an orphan, and is delivered to transform_load again (whose handling is idempotent):

- embedded (``tools/local_runtime.py``): at the start of every run, after flushing what an interrupted
  run staged. The state-dir lock means nothing is in flight, so the grace is 0; orphans go back into the
  durable queue as storage events (except objects whose event is still queued or dead-lettered).
- Google Cloud (``fitbit/jobs/flush.py``): in the scheduled hourly flush, handled inline by the
  transform_load instance that runs the flush, each one isolated, at most ``limit`` per flush, with a
  grace of an hour (Pub/Sub's redeliveries of a fresh object are over by then) and a horizon of three
  days (the listing then only needs recent outcomes; older objects are the dead-letter replay's job).

Cost on Google Cloud: the listing reads every name under ``raw/`` and ``errors/`` (one ``objects.list``
call per 1,000 objects, names, times and sizes only), whatever the horizon: object names carry the civil
day fetched, not the day stored. That is seconds for a cohort's first years (about 30 objects per
participant-day); beyond, the sweep should read a Storage Insights inventory report instead of listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Collection, Iterable

from fitbit.catalogue import PROCESSING_LOG_TABLE
from fitbit.ports import ObjectInfo, RawStore, Warehouse

SWEPT_PREFIXES = ("raw/", "errors/")  # what transform_load records an outcome for (not control/)


@dataclass(frozen=True)
class SweepPolicy:
    grace_s: float = 3600.0
    horizon_s: float | None = 3 * 86400.0  # None: every object, however old (the embedded runtime)
    limit: int = 500


def find_orphans(objects: Iterable[ObjectInfo], logged: Collection[str], *, now: datetime, policy: SweepPolicy,
                 exclude: Collection[str] = ()) -> list[ObjectInfo]:
    """The objects old enough, recent enough, without an outcome and not excluded; oldest first, at most ``limit``.

    Args:
        objects: the store's listing of the swept prefixes.
        logged: raw objects that have a ``processing_log`` row.
        now: the sweep's instant.
        policy: grace, horizon and limit.
        exclude: objects another mechanism already owns (a queued or dead-lettered event).

    Returns:
        The orphans, oldest first.
    """
    newest = now - timedelta(seconds=policy.grace_s)
    oldest = now - timedelta(seconds=policy.horizon_s) if policy.horizon_s is not None else None
    found = [o for o in objects
             if o.name.startswith(SWEPT_PREFIXES) and o.created <= newest
             and (oldest is None or o.created >= oldest) and o.name not in logged and o.name not in exclude]
    return sorted(found, key=lambda o: (o.created, o.name))[:policy.limit]


def logged_objects(warehouse: Warehouse, *, now: datetime, policy: SweepPolicy) -> set[str]:
    """Raw objects with an outcome in ``processing_log`` (within the horizon, plus a day of margin)."""
    sql = f"SELECT DISTINCT raw_object FROM {PROCESSING_LOG_TABLE.name}"
    if policy.horizon_s is not None:
        since = now - timedelta(seconds=policy.horizon_s) - timedelta(days=1)
        sql += f" WHERE processed_at >= TIMESTAMP('{since.strftime('%Y-%m-%d %H:%M:%S')}+00')"
    return {row[0] for row in warehouse.query(sql)}


def orphans(store: RawStore, warehouse: Warehouse, *, now: datetime, policy: SweepPolicy,
            exclude: Collection[str] = ()) -> list[ObjectInfo]:
    """Find the orphans of ``store``: list the swept prefixes, subtract the logged outcomes.

    The outcomes are read from the warehouse tables, so flush first: rows still staged do not count.
    """
    logged = logged_objects(warehouse, now=now, policy=policy)
    listing = (o for prefix in SWEPT_PREFIXES for o in store.list_objects(prefix))
    return find_orphans(listing, logged, now=now, policy=policy, exclude=exclude)
