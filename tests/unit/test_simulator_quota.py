"""The simulator's quota windows and latency knobs, with explicit time (no sockets)."""

from __future__ import annotations

from simulator.__main__ import faults_from, parser
from simulator.control import Control
from simulator.quota import QuotaWindows


def test_a_full_user_window_refuses_until_its_oldest_request_is_a_minute_old() -> None:
    windows = QuotaWindows(per_user=2, per_project=10)
    assert windows.take("a", 0.0) is None and windows.take("a", 10.0) is None
    assert windows.take("a", 30.0) == ("user", 30)
    assert windows.take("b", 30.0) is None, "another user has a window of their own"
    assert windows.take("a", 60.5) is None, "the request at 0 s left the window"
    assert windows.stats()["429s"] == {"user": 1, "project": 0, "injected": 0}


def test_the_project_window_counts_every_user_and_refused_requests_count_nowhere() -> None:
    windows = QuotaWindows(per_user=300, per_project=3)
    assert [windows.take(u, 1.0) for u in ("a", "b", "c")] == [None, None, None]
    assert windows.take("d", 2.0) == ("project", 59)
    assert windows.take("d", 61.5) is None
    assert (windows.peak_user_rpm, windows.peak_project_rpm) == (1, 3)


def test_latency_is_seeded_and_jittered_within_its_band() -> None:
    def delays(seed: int) -> list[float]:
        control = Control(lambda: 0.0, {"latency_ms": 150, "latency_jitter": 0.5}, seed=seed)
        return [control.delay_s() for _ in range(50)]

    first = delays(7)
    assert first == delays(7), "the same seed gives the same latencies"
    assert first != delays(8)
    assert all(0.075 <= d <= 0.225 for d in first) and max(first) - min(first) > 0.05


def test_the_cli_sets_latency_and_the_project_quota() -> None:
    args = parser().parse_args(["--latency-ms", "150", "--project-quota-per-minute", "1000"])
    control = Control(lambda: 0.0, faults_from(args))
    described = control.describe()
    assert (described["latency_ms"], described["latency_jitter"]) == (150.0, 0.5)
    assert control.windows.per_project == 1000 and described["project_quota_per_minute"] == 1000
