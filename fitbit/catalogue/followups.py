"""Follow-ups: the units a loaded page implies, declared in the catalogue with their behaviour.

A follow-up is to a read what a dlt child resource is to its parent: it looks at what the read loaded
(its condition) and yields the units to run next (what it builds). transform_load asks the page's unit
kind for its follow-ups and publishes what they return; it knows none of them by name.

- ``NEXT_PAGE``: every paged read; the page handed back a ``nextPageToken``. The next unit names the fetch
  it continues (``Unit.fetch_id``: the first page's raw object), so deletions can be read off whole fetches.
- ``ExportDetail``: rows whose boolean ``when`` column is true get a detail unit each (the TCX export
  of an exercise recorded with GPS).
- ``RereadUntil``: the civil days of rows whose boolean column is not yet true are read again after a
  delay (a sleep Google is still staging, ``metadata.processed``), at most ``max_rereads`` times in a
  chain, so a night Google never finishes cannot loop forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from fitbit.unit import Unit

__all__ = ["NEXT_PAGE", "ExportDetail", "FollowUp", "LoadedPage", "NextPage", "RereadPolicy", "RereadUntil"]


@dataclass(frozen=True)
class LoadedPage:
    """What a follow-up may look at: the unit that fetched the page, its rows, its next-page token and the
    raw object it was stored as."""

    unit: Unit
    rows: Sequence[Mapping[str, Any]]
    next_page_token: str | None
    raw_object: str = ""


@dataclass(frozen=True)
class RereadPolicy:
    """When a re-read is due and how many a chain may hold (deployment settings, not catalogue facts)."""

    now: datetime
    delay_s: float
    max_rereads: int


class FollowUp(Protocol):
    @property
    def description(self) -> str: ...

    @property
    def scope(self) -> str | None:
        """An OAuth scope the units it builds need beyond the read's own (None: nothing more)."""

    @property
    def row_columns(self) -> tuple[str, ...]:
        """Row columns its condition and its units read; every read of the declaring type must have them."""

    def units(self, page: LoadedPage, policy: RereadPolicy) -> list[Unit]:
        """The units this page implies (none when the condition does not hold)."""


class Target(Protocol):
    """The unit kind a follow-up builds units of."""

    @property
    def name(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def scope(self) -> str: ...


def _day(row: Mapping[str, Any]) -> date:
    return date.fromisoformat(row["civil_date"])


@dataclass(frozen=True)
class NextPage:
    description: str = "Read the next page while the API hands back a page token"
    scope: None = None
    row_columns: tuple[str, ...] = ()

    def units(self, page: LoadedPage, policy: RereadPolicy) -> list[Unit]:
        if not page.next_page_token:
            return []
        unit = page.unit.next_page(page.next_page_token)
        return [replace(unit, fetch_id=unit.fetch_id or page.raw_object)]


NEXT_PAGE = NextPage()


@dataclass(frozen=True)
class ExportDetail:
    """Each row whose ``when`` column is true gets one ``target`` unit for its data point, on its civil day."""

    target: Target
    when: str
    description: str

    @property
    def scope(self) -> str:
        return self.target.scope

    @property
    def row_columns(self) -> tuple[str, ...]:
        return (self.when, "civil_date", "data_point_name", "name_derived")

    def units(self, page: LoadedPage, policy: RereadPolicy) -> list[Unit]:
        """A point sent without a resource name (``name_derived``) cannot be exported: it has no id."""
        unit = page.unit
        return [Unit(unit.participant, self.target.name, self.target.method, _day(row), _day(row) + timedelta(days=1),
                     "follow-up", data_point=str(row["data_point_name"]).rsplit("/", 1)[-1], run_id=unit.run_id)
                for row in page.rows if row.get(self.when) and not row.get("name_derived")]


@dataclass(frozen=True)
class RereadUntil:
    """The civil days of rows whose ``column`` is not yet true are read again, delayed and bounded."""

    column: str
    description: str
    scope: None = None

    @property
    def row_columns(self) -> tuple[str, ...]:
        return (self.column, "civil_date")

    def units(self, page: LoadedPage, policy: RereadPolicy) -> list[Unit]:
        unit = page.unit
        chained = unit.reason == "follow-up"
        if chained and unit.attempt >= policy.max_rereads:
            return []
        days = sorted({_day(row) for row in page.rows if not row.get(self.column)})
        due = policy.now + timedelta(seconds=policy.delay_s)
        attempt = unit.attempt + 1 if chained else 1
        return [Unit(unit.participant, unit.data_type, unit.method, day, day + timedelta(days=1), "follow-up",
                     attempt=attempt, not_before=due, run_id=unit.run_id) for day in days]
