"""The unit of work: one API request's worth (participant, data type or account read, method, window, page).

A unit is a work message (``fitbit.messages`` encodes and decodes it) and also what the catalogue's
follow-ups build from a loaded page (the next page, a detail export, a delayed re-read), which is why it
lives below both: it imports nothing from the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal, get_args

__all__ = ["REASONS", "Reason", "Unit"]

# Why a unit exists: the daily sweep, a backfill, a follow-up of a loaded page (next page, detail, re-read),
# a retry after a transient error, or a webhook notification (fitbit.webhooks.units: a whole-day re-read).
Reason = Literal["daily", "backfill", "follow-up", "retry", "webhook"]
REASONS = frozenset(get_args(Reason))


@dataclass(frozen=True)
class Unit:
    """One API request's worth of work. ``end`` is exclusive; ``page`` counts from 0.

    ``data_type`` names a catalogue unit kind: a data type's path id (its read picked by ``method``),
    an account read or a follow-up detail. ``fetch_id`` names the fetch a next page belongs to (the raw
    object of the window's first page), so the pages of one fetch can be told apart from another fetch of
    the same window: deletions are read off complete fetches (``fitbit.catalogue.deletions``).
    """

    participant: str
    data_type: str
    method: str
    start: date | None
    end: date | None
    reason: Reason
    page: int = 0
    page_token: str | None = None
    attempt: int = 0
    not_before: datetime | None = None
    data_point: str | None = None
    run_id: str = ""
    fetch_id: str = ""
    kind: Literal["unit"] = field(default="unit")

    def next_page(self, token: str) -> Unit:
        return replace(self, page=self.page + 1, page_token=token, attempt=0, not_before=None)

    def retry(self, not_before: datetime) -> Unit:
        return replace(self, attempt=self.attempt + 1, reason="retry", not_before=not_before)

    @property
    def label(self) -> str:
        """A log-safe description: names and dates only, never values."""
        window = f"{self.start}..{self.end}" if self.start else (self.data_point or "-")
        return f"{self.participant}/{self.data_type}/{self.method}/{window}/p{self.page}"
