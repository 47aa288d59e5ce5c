"""The simulator's quota windows: per user and per project, as sliding 60 s windows, with their peaks.

Quotas (rate-limits guide, checked 2026-11-23): 300 requests per minute per user and 120,000 per minute
per project; excess answers 429 ``RESOURCE_EXHAUSTED`` with ``Retry-After`` (whole seconds until the
oldest request leaves the full window). A rejected request counts against neither window. The peaks
(the most requests any one user, or the project, had in a 60 s window) and the 429s per kind are what a
benchmark reads from ``GET /_admin/stats`` to prove a run kept under both quotas.

Not thread-safe on its own: ``Control`` calls it under its lock.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

DEFAULT_USER_QUOTA = 300
DEFAULT_PROJECT_QUOTA = 120_000
KINDS = ("user", "project", "injected")  # which limit answered a 429; "injected": a rate_limit fault burst


@dataclass
class QuotaWindows:
    per_user: int = DEFAULT_USER_QUOTA
    per_project: int = DEFAULT_PROJECT_QUOTA
    users: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    project: deque[float] = field(default_factory=deque)
    peak_user_rpm: int = 0
    peak_project_rpm: int = 0
    rejected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def take(self, user: str, now: float) -> tuple[str, int] | None:
        """Count one request at ``now``; or (the limit that refused it, seconds until it has room)."""
        window = self.users[user]
        _expire(window, now)
        _expire(self.project, now)
        if len(window) >= self.per_user:
            return self._refuse("user", window, now)
        if len(self.project) >= self.per_project:
            return self._refuse("project", self.project, now)
        window.append(now)
        self.project.append(now)
        self.peak_user_rpm = max(self.peak_user_rpm, len(window))
        self.peak_project_rpm = max(self.peak_project_rpm, len(self.project))
        return None

    def _refuse(self, kind: str, window: deque[float], now: float) -> tuple[str, int]:
        self.rejected[kind] += 1
        return kind, max(1, math.ceil(window[0] + 60 - now))

    def injected(self) -> None:
        self.rejected["injected"] += 1

    def stats(self) -> dict[str, object]:
        return {"per_user_per_minute": self.per_user, "per_project_per_minute": self.per_project,
                "peak_user_rpm": self.peak_user_rpm, "peak_project_rpm": self.peak_project_rpm,
                "429s": dict(self.rejected)}

    def cleared(self) -> QuotaWindows:
        """Fresh windows, peaks and counts with the same limits."""
        return QuotaWindows(self.per_user, self.per_project)


def _expire(window: deque[float], now: float) -> None:
    while window and window[0] <= now - 60:
        window.popleft()
