"""Fault injection, the quotas, latency and request statistics: the simulator's control plane.

Quotas (rate-limits guide, checked 2026-11-23): 300 requests per minute per user and 120,000 per minute
per project, each a sliding 60 s window (``simulator/quota.py``); the 429 carries ``Retry-After``.

Fault knobs (CLI flags and ``POST /_admin/faults``, same names):

- ``rate_limit`` / ``unavailable`` / ``truncate``: ``{"count": N, "user": "user2" | null,
  "retry_after_s": S}`` - the next N data requests (of that user, or anyone) get 429 with
  Retry-After, 503 UNAVAILABLE, or a 200 whose JSON body is cut in half;
- ``slow_ms``: delay every data response;
- ``latency_ms`` / ``latency_jitter``: realistic latency: each data response waits ``latency_ms`` times a
  seeded uniform factor in [1 - jitter, 1 + jitter] (jitter default 0.5). The wait happens on the
  request's own server thread, so requests on other connections overlap it, as at Google's front end;
- ``revoked_grant``: users whose refresh tokens answer ``invalid_grant``;
- ``account_not_linked``: users whose data requests answer 400 ``ACCOUNT_NOT_LINKED``;
- ``testing_grants``: issue 7-day refresh tokens (``refresh_token_expires_in``) that then expire;
- ``reject_sleep_filters``: reject any filter on sleep (as one 3P client observed live);
- ``quota_per_minute``: the per-user limit; ``project_quota_per_minute``: the project's; ``advance_clock_s``: move the simulator clock forward
  (token expiry, quota window, sleep processing).

Short aliases (used by the pipeline's end-to-end tests): ``{"rate_limit_burst": N, "retry_after_s": S,
"user": U}``, ``{"server_errors": N}``, ``{"truncated_bodies": N}``, ``{"revoke": [users]}``; a burst
knob may also be a bare count (``{"unavailable": 2}``).
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.quota import DEFAULT_PROJECT_QUOTA, DEFAULT_USER_QUOTA, QuotaWindows

BURSTS = ("rate_limit", "unavailable", "truncate")
ALIASES = {"rate_limit_burst": "rate_limit", "server_errors": "unavailable", "truncated_bodies": "truncate",
           "revoke": "revoked_grant"}
DEFAULT_QUOTA = DEFAULT_USER_QUOTA


@dataclass
class Burst:
    remaining: int
    user: str | None
    retry_after_s: int = 1


@dataclass
class Faults:
    bursts: dict[str, list[Burst]] = field(default_factory=lambda: {k: [] for k in BURSTS})
    slow_ms: int = 0
    revoked_grant: set[str] = field(default_factory=set)
    account_not_linked: set[str] = field(default_factory=set)
    testing_grants: bool = False
    reject_sleep_filters: bool = False
    quota_per_minute: int = DEFAULT_QUOTA
    project_quota_per_minute: int = DEFAULT_PROJECT_QUOTA
    latency_ms: float = 0.0
    latency_jitter: float = 0.5


class Control:
    """Thread-safe fault state, quota windows, statistics and the simulator clock."""

    def __init__(self, wall: Callable[[], float], initial: dict[str, Any] | None = None, seed: int = 1) -> None:
        self._wall = wall
        self._lock = threading.Lock()
        self._initial = dict(initial or {})
        self._seed = seed
        self._latency_rng = random.Random(seed)
        self.clock_offset_s = 0.0
        self.faults = Faults()
        self.windows = QuotaWindows()
        self._reset_stats()
        self.apply(self._initial)

    def now(self) -> float:
        return self._wall() + self.clock_offset_s

    def _reset_stats(self) -> None:
        self.total = 0
        self.by_user: dict[str, int] = defaultdict(int)
        self.by_status: dict[str, int] = defaultdict(int)
        self.by_type: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.by_user_type: dict[str, dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(int)))
        self.oauth: dict[str, int] = defaultdict(int)

    # -- faults ---------------------------------------------------------------------------------
    def apply(self, spec: dict[str, Any]) -> None:
        """Apply an admin/CLI fault spec.

        Raises:
            ValueError: an unknown knob or a malformed value (the admin endpoint answers 400).
        """
        spec = _normalise(spec)
        known = set(BURSTS) | {"slow_ms", "revoked_grant", "account_not_linked", "testing_grants",
                               "reject_sleep_filters", "quota_per_minute", "project_quota_per_minute",
                               "latency_ms", "latency_jitter", "advance_clock_s"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault knobs {sorted(unknown)}; known: {sorted(known)}")
        with self._lock:
            f = self.faults
            for kind in BURSTS:
                if kind in spec:
                    b = spec[kind]
                    if not isinstance(b, dict) or int(b.get("count", 0)) < 0:
                        raise ValueError(f"{kind} needs {{'count': N, 'user': str|null}}")
                    burst = Burst(int(b.get("count", 0)), b.get("user"), int(b.get("retry_after_s", 1)))
                    if burst.remaining:
                        f.bursts[kind].append(burst)
            if "slow_ms" in spec:
                f.slow_ms = max(0, int(spec["slow_ms"]))
            for name in ("revoked_grant", "account_not_linked"):
                if name in spec:
                    if not isinstance(spec[name], list):
                        raise ValueError(f"{name} is a list of user labels")
                    setattr(f, name, set(spec[name]))
            for name in ("testing_grants", "reject_sleep_filters"):
                if name in spec:
                    setattr(f, name, bool(spec[name]))
            if "quota_per_minute" in spec:
                f.quota_per_minute = self.windows.per_user = max(1, int(spec["quota_per_minute"]))
            if "project_quota_per_minute" in spec:
                f.project_quota_per_minute = self.windows.per_project = max(1, int(spec["project_quota_per_minute"]))
            if "latency_ms" in spec:
                f.latency_ms = max(0.0, float(spec["latency_ms"]))
            if "latency_jitter" in spec:
                jitter = float(spec["latency_jitter"])
                if not 0.0 <= jitter <= 1.0:
                    raise ValueError("latency_jitter is a fraction between 0 and 1")
                f.latency_jitter = jitter
            if "advance_clock_s" in spec:
                self.clock_offset_s += float(spec["advance_clock_s"])

    def revoked(self, user: str) -> bool:
        return user in self.faults.revoked_grant

    def take(self, kind: str, user: str) -> Burst | None:
        """Consume one pending fault of ``kind`` that applies to ``user``."""
        with self._lock:
            for burst in self.faults.bursts[kind]:
                if burst.remaining and burst.user in (None, user):
                    burst.remaining -= 1
                    return burst
            return None

    def describe(self) -> dict[str, Any]:
        f = self.faults
        with self._lock:
            return {
                **{k: [{"count": b.remaining, "user": b.user, "retry_after_s": b.retry_after_s}
                       for b in f.bursts[k] if b.remaining] for k in BURSTS},
                "slow_ms": f.slow_ms, "revoked_grant": sorted(f.revoked_grant),
                "account_not_linked": sorted(f.account_not_linked), "testing_grants": f.testing_grants,
                "reject_sleep_filters": f.reject_sleep_filters, "quota_per_minute": f.quota_per_minute,
                "project_quota_per_minute": f.project_quota_per_minute, "latency_ms": f.latency_ms,
                "latency_jitter": f.latency_jitter, "clock_offset_s": self.clock_offset_s,
            }

    # -- quota and latency ----------------------------------------------------------------------
    def quota(self, user: str) -> tuple[str, int, int] | None:
        """Count a request in the user's and the project's windows.

        Returns:
            None, or when a window is full: (which: "user" | "project", its limit, seconds until it has room).
        """
        now = self.now()
        with self._lock:
            refused = self.windows.take(user, now)
            if refused is None:
                return None
            limit = self.windows.per_user if refused[0] == "user" else self.windows.per_project
            return refused[0], limit, refused[1]

    def injected_rate_limit(self) -> None:
        with self._lock:
            self.windows.injected()

    def delay_s(self) -> float:
        """How long this data response waits: ``slow_ms`` plus a seeded, jittered ``latency_ms``."""
        f = self.faults
        if not f.latency_ms:
            return f.slow_ms / 1000
        with self._lock:
            factor = self._latency_rng.uniform(1.0 - f.latency_jitter, 1.0 + f.latency_jitter)
        return (f.slow_ms + f.latency_ms * factor) / 1000

    # -- statistics -----------------------------------------------------------------------------
    def record(self, user: str, data_type: str, method: str, status: int) -> None:
        with self._lock:
            self.total += 1
            self.by_user[user] += 1
            self.by_status[str(status)] += 1
            self.by_type[data_type][method] += 1
            self.by_user_type[user][data_type][method] += 1

    def record_oauth(self, endpoint: str) -> None:
        with self._lock:
            self.oauth[endpoint] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.total,
                "by_user": dict(sorted(self.by_user.items())),
                "by_status": dict(sorted(self.by_status.items())),
                "by_data_type": {t: dict(m) for t, m in sorted(self.by_type.items())},
                "by_user_data_type": {u: {t: dict(m) for t, m in sorted(ts.items())}
                                      for u, ts in sorted(self.by_user_type.items())},
                "oauth": dict(self.oauth),
                "quota": self.windows.stats(),
            }

    def reset(self) -> None:
        """Forget statistics, quota windows and admin-set faults; start-up (CLI) faults come back.

        Issued tokens stay valid.
        """
        with self._lock:
            self._reset_stats()
            self.faults = Faults()
            self.windows = QuotaWindows()
            self._latency_rng = random.Random(self._seed)
            self.clock_offset_s = 0.0
        self.apply(self._initial)


def _normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """Resolve aliases and bare burst counts into the canonical knob shapes."""
    out: dict[str, Any] = {}
    user, retry = spec.get("user"), spec.get("retry_after_s", 1)
    for key, value in spec.items():
        if key in ("user", "retry_after_s"):
            continue
        name = ALIASES.get(key, key)
        if name in BURSTS and isinstance(value, int) and not isinstance(value, bool):
            value = {"count": value, "user": user, "retry_after_s": retry}
        out[name] = value
    return out
