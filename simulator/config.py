"""Simulator settings: the cohort, the OAuth client it accepts, and start-up faults.

Defaults: a 14-day window ending 2026-11-05, which crosses the EU (2026-10-25) and US (2026-11-01)
DST changes; the dev OAuth client ``sim-client-id.apps.googleusercontent.com`` / ``sim-client-secret``;
the most recent night finishes sleep staging 5 s after start.
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

    def __post_init__(self) -> None:
        if not 1 <= self.users <= 1000:
            raise ValueError("users must be between 1 and 1000")
        if not 1 <= self.days <= 366:
            raise ValueError("days must be between 1 and 366")
        if self.sleep_processing_seconds < 0:
            raise ValueError("sleep_processing_seconds must not be negative")
