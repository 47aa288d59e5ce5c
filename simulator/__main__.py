"""``python -m simulator``: serve a seeded Google Health API on loopback until interrupted.

Prints exactly one line, ``simulator listening on http://HOST:PORT``, once the socket accepts
connections (scripts wait for it). Fault flags mirror the ``POST /_admin/faults`` knobs.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from simulator.app import Simulator
from simulator.config import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_END_DATE, SimConfig
from simulator.control import DEFAULT_QUOTA
from simulator.quota import DEFAULT_PROJECT_QUOTA
from simulator.server import SimulatorServer


def _users(text: str) -> list[str]:
    return [u for u in text.split(",") if u]


def _numbers(text: str) -> tuple[int, ...]:
    """``5,10`` or ``user5,user10`` (participant numbers); ``none`` for nobody."""
    if text.strip().lower() == "none":
        return ()
    return tuple(int(u.strip().removeprefix("user")) for u in text.split(",") if u.strip())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulator", description=__doc__)
    p.add_argument("--users", type=int, default=5, help="participants user1..userN (default 5)")
    p.add_argument("--days", type=int, default=14, help="civil days of data per participant (default 14)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE, help="last civil day (YYYY-MM-DD)")
    p.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    p.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    p.add_argument("--sleep-processing-seconds", type=float, default=5.0,
                   help="seconds until the most recent night is rewritten as processed")
    live = p.add_argument_group("what live accounts send (all on by default)")
    live.add_argument("--health-connect", type=_numbers, default=None, metavar="USERS",
                      help="participants syncing through Health Connect, e.g. 'user5' or 'none' (default every fifth)")
    live.add_argument("--no-nan-temperatures", action="store_true", help="no 'NaN' temperature derivations")
    live.add_argument("--no-unnamed-points", action="store_true", help="every point carries its resource name")
    live.add_argument("--no-deletions", action="store_true", help="nobody deletes a weight or an exercise")
    f = p.add_argument_group("faults")
    f.add_argument("--fault-user", default=None, help="user label the burst faults below apply to (default all)")
    f.add_argument("--rate-limit-burst", type=int, default=0, help="next N data requests get 429")
    f.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds of injected 429s")
    f.add_argument("--unavailable", type=int, default=0, help="next N data requests get 503 UNAVAILABLE")
    f.add_argument("--truncate", type=int, default=0, help="next N JSON bodies are cut in half")
    f.add_argument("--slow-ms", type=int, default=0, help="delay every data response")
    f.add_argument("--revoked-grant", type=_users, default=[], help="comma-separated users: refresh -> invalid_grant")
    f.add_argument("--account-not-linked", type=_users, default=[], help="comma-separated users: ACCOUNT_NOT_LINKED")
    f.add_argument("--testing-grants", action="store_true", help="7-day refresh tokens (refresh_token_expires_in)")
    f.add_argument("--reject-sleep-filters", action="store_true", help="reject every filter on sleep")
    f.add_argument("--quota-per-minute", type=int, default=DEFAULT_QUOTA, help="per-user quota (default 300)")
    f.add_argument("--project-quota-per-minute", type=int, default=DEFAULT_PROJECT_QUOTA,
                   help="project-wide quota (default 120000)")
    f.add_argument("--latency-ms", type=float, default=0.0,
                   help="realistic latency of every data response, e.g. 150 (overlaps across connections)")
    f.add_argument("--latency-jitter", type=float, default=0.5,
                   help="latency varies uniformly by +/- this fraction, seeded by --seed (default 0.5)")
    return p


def faults_from(args: argparse.Namespace) -> dict[str, object]:
    faults: dict[str, object] = {
        "slow_ms": args.slow_ms, "revoked_grant": args.revoked_grant, "account_not_linked": args.account_not_linked,
        "testing_grants": args.testing_grants, "reject_sleep_filters": args.reject_sleep_filters,
        "quota_per_minute": args.quota_per_minute, "project_quota_per_minute": args.project_quota_per_minute,
        "latency_ms": args.latency_ms, "latency_jitter": args.latency_jitter,
    }
    for knob, count in (("rate_limit", args.rate_limit_burst), ("unavailable", args.unavailable),
                        ("truncate", args.truncate)):
        if count:
            faults[knob] = {"count": count, "user": args.fault_user, "retry_after_s": args.retry_after}
    return faults


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    config = SimConfig(users=args.users, days=args.days, seed=args.seed, end_date=args.end_date,
                       client_id=args.client_id, client_secret=args.client_secret,
                       sleep_processing_seconds=args.sleep_processing_seconds, faults=faults_from(args),
                       health_connect_users=args.health_connect, nan_temperatures=not args.no_nan_temperatures,
                       unnamed_points=not args.no_unnamed_points, deletions=not args.no_deletions)
    server = SimulatorServer(Simulator(config), args.host, args.port)
    sys.stdout.write(f"simulator listening on {server.base_url}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
