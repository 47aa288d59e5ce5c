"""What live accounts do that a tidy model would not: points without names, and points deleted later.

Facts (team spec §12, issue #12, checked 2026-11-30): a point may arrive without its resource name (seen
on sleep); deletions leave no tombstone and no change feed, a deleted point simply stops appearing. Both
are chosen deterministically from the cohort (a seed and a window always pick the same points), lazily,
so a simulator that is never asked for weight or sleep never plans a day for them:

- **unnamed**: the cohort's first manual weight log and first nap (participants in number order, days in
  order) are rendered without ``name`` / ``dataPointName``;
- **deleted**: in the last three civil days of the window (what the pipeline's daily run re-fetches), the
  first participant with a named weight and the first with an exercise recorded without GPS each delete
  their latest one, as a participant removes a wrong weight or a mis-detected walk. A deleted point is
  served until a client has read it once; the participant deletes it then, and it is gone from the next
  request of that type that starts a fetch (one without a page token, so the pages of a fetch that
  already saw it stay consistent). From then on no method serves it: list, reconcile, get (404), rollups.
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from simulator.cohort import Persona
from simulator.plan import point_id

RECENT_DAYS = 3
Point = tuple[int, str, date, str]  # (participant number, path id, civil day, point id)


class Quirks:
    """The unnamed and deleted points of one cohort, and who has read a point due for deletion."""

    def __init__(self, store: Any, *, unnamed: bool, deletions: bool) -> None:
        """``store``: the ``DataStore`` these quirks belong to (plans and series of the cohort)."""
        self._store = store
        self._want_unnamed, self._want_deletions = unnamed, deletions
        self._lock = threading.RLock()
        self._unnamed: frozenset[tuple[int, str, str]] | None = None
        self._doomed: dict[tuple[int, str], Point] | None = None
        self._read: set[Point] = set()
        self._deleted: set[Point] = set()

    # -- names ----------------------------------------------------------------------------------------
    def unnamed(self, persona: Persona, path_id: str, point_id: str) -> bool:
        """True for the points rendered without a resource name."""
        if not self._want_unnamed:
            return False
        if self._unnamed is None:
            with self._lock:
                if self._unnamed is None:
                    self._unnamed = self._pick_unnamed()
        return (persona.number, path_id, point_id) in self._unnamed

    def _pick_unnamed(self) -> frozenset[tuple[int, str, str]]:
        picked: dict[str, tuple[int, str, str]] = {}
        store = self._store
        for persona in store.cohort.personas:
            for day in store.cohort.days:
                plan = store.plan(persona, day)
                if "weight" not in picked and plan.manual_weight is not None:
                    picked["weight"] = (persona.number, "weight", manual_weight_id(store, persona, day))
                if "sleep" not in picked and plan.naps:
                    picked["sleep"] = (persona.number, "sleep", plan.naps[0].point_id)
                if len(picked) == 2:
                    return frozenset(picked.values())
        return frozenset(picked.values())

    # -- deletions ------------------------------------------------------------------------------------
    def _picks(self) -> dict[tuple[int, str], Point]:
        if self._doomed is None:
            with self._lock:
                if self._doomed is None:
                    self._doomed = self._pick_deleted() if self._want_deletions else {}
        return self._doomed

    def _pick_deleted(self) -> dict[tuple[int, str], Point]:
        store = self._store
        recent = store.cohort.days[-RECENT_DAYS:]
        picked: dict[tuple[int, str], Point] = {}
        for path_id in ("weight", "exercise"):
            for persona in store.cohort.personas:
                latest = None
                for day in recent:
                    series = store.series(persona, path_id, day)
                    for i in range(series.n):
                        pid = series.point_id(i)
                        if pid and (path_id == "weight" or not _has_gps(store, persona, day, pid)):
                            latest = (persona.number, path_id, day, pid)
                if latest is not None:
                    picked[(persona.number, path_id)] = latest
                    break
        return picked

    def fetch_started(self, persona: Persona, path_id: str) -> None:
        """A request of ``path_id`` without a page token: points read before and due for deletion go now."""
        point = self._picks().get((persona.number, path_id))
        if point is None or point not in self._read or point in self._deleted:
            return
        with self._lock:
            self._deleted.add(point)
            series = self._store.series(persona, path_id, point[2])
            series.hidden.update(i for i in range(series.n) if series.point_id(i) == point[3])

    def served(self, persona: Persona, path_id: str, series: Any, i: int) -> None:
        """Record that a client read record ``i`` (only points due for deletion are remembered)."""
        point = self._picks().get((persona.number, path_id)) if self._want_deletions else None
        if point is not None and point[2] == series.day and series.point_id(i) == point[3]:
            with self._lock:
                self._read.add(point)


def manual_weight_id(store: Any, persona: Persona, day: date) -> str:
    return point_id(store.seed, persona, day, "weight-manual")


def _has_gps(store: Any, persona: Persona, day: date, pid: str) -> bool:
    return any(w.gps for w in store.plan(persona, day).workouts if w.point_id == pid)
