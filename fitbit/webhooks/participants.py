"""Who a notification is about: the healthUserId → participant lookup (a port) and its cached directory.

Notifications name a user only by ``healthUserId`` (the stable id ``users.getIdentity`` returns at
enrolment, stored in each participant's grant). The directory reads every grant through an injected
loader and keeps the mapping in memory; a miss reloads it, at most once per ``min_reload_s``, so a
participant enrolled a minute ago is found while a flood of unknown ids cannot turn every request
into a scan of the secret store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Enrolled:
    participant: str
    health_user_id: str
    time_zone: str | None  # IANA zone stored at enrolment; None → UTC when only physical times are given


class ParticipantLookup(Protocol):
    def find(self, health_user_id: str) -> Enrolled | None:
        """The enrolled participant with this healthUserId, or None when nobody enrolled has it."""


class ParticipantDirectory:
    """``ParticipantLookup`` over a loader of every enrolled participant, cached.

    Args:
        load: returns every enrolled participant (called on first use, when the cache is older than
            ``max_age_s``, and on a miss at most once per ``min_reload_s``).
    """

    def __init__(self, load: Callable[[], Iterable[Enrolled]], *, clock: Callable[[], float] = time.monotonic,
                 max_age_s: float = 300.0, min_reload_s: float = 30.0) -> None:
        self._load = load
        self._clock = clock
        self._max_age_s = max_age_s
        self._min_reload_s = min_reload_s
        self._by_id: dict[str, Enrolled] | None = None
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        self.loads = 0

    def _reload(self) -> dict[str, Enrolled]:
        self._by_id = {e.health_user_id: e for e in self._load()}
        self._loaded_at = self._clock()
        self.loads += 1
        return self._by_id

    def find(self, health_user_id: str) -> Enrolled | None:
        with self._lock:
            by_id = self._by_id
            if by_id is None or self._clock() - self._loaded_at >= self._max_age_s:
                by_id = self._reload()
            found = by_id.get(health_user_id)
            if found is None and self._clock() - self._loaded_at >= self._min_reload_s:
                found = self._reload().get(health_user_id)
            return found
