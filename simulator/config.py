"""Simulator settings: the cohort, the OAuth client it accepts, and start-up faults.

Defaults: a 14-day window ending 2026-11-05, which crosses the EU (2026-10-25) and US (2026-11-01)
DST changes; the dev OAuth client ``sim-client-id.apps.googleusercontent.com`` / ``sim-client-secret``;
the most recent night finishes sleep staging 5 s after start.

What live accounts send (team spec §12, issue #12), on by default, each switchable off:
``health_connect_users`` (user numbers syncing through a Health Connect phone; default every fifth),
``nan_temperatures`` ("NaN" temperature derivations on the window's first nights), ``unnamed_points`` (one
weight sample and one nap without a resource name) and ``deletions`` (one weight and one exercise inside
the last three days deleted by the participant after a client has read them once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

DEFAULT_END_DATE = date(2026, 11, 5)
DEFAULT_CLIENT_ID = "sim-client-id.apps.googleusercontent.com"
DEFAULT_CLIENT_SECRET = "sim-client-secret"


@dataclass(frozen=True)
class SimConfig:
    users: int = 5
    days: int = 14
    seed: int = 1
    end_date: date = DEFAULT_END_DATE
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    sleep_processing_seconds: float = 5.0
    faults: dict[str, Any] = field(default_factory=dict, hash=False)
    health_connect_users: tuple[int, ...] | None = None  # None: every fifth participant (user5, user10, ...)
    nan_temperatures: bool = True
    unnamed_points: bool = True
    deletions: bool = True

    def syncs_through_health_connect(self, number: int) -> bool:
        if self.health_connect_users is None:
            return number % 5 == 0
        return number in self.health_connect_users

    def __post_init__(self) -> None:
        if not 1 <= self.users <= 1000:
            raise ValueError("users must be between 1 and 1000")
        if not 1 <= self.days <= 366:
            raise ValueError("days must be between 1 and 366")
        if self.sleep_processing_seconds < 0:
            raise ValueError("sleep_processing_seconds must not be negative")
