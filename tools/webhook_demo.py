"""The webhook path on the embedded default, and its latency from a change in the simulator to a warehouse row.

``python -m tools.webhook_demo`` (or ``python scripts/webhook_demo.py``):

1. starts the simulator (its own process) and enrols its participants through the real consent flow;
2. serves ``functions/notify`` with functions-framework on a loopback port, in this process, so the
   notify handler shares the embedded runtime's queue, store and warehouse (as ``compose`` builds them);
3. registers the subscriber (the simulator runs Google's verification handshake against the served
   function) and one subscription per participant, through ``tools.webhook_subscriptions``;
4. measures two changes, each from the moment the simulator makes it to the moment its row is in DuckDB:
   a **sync** (the simulator announces steps for the last day on an empty warehouse: the row exists only
   once the webhook path has fetched it) and **sleep staging finishing** (after the daily run stored the
   latest night unprocessed, the simulator rewrites it and pushes a notification by itself).

The runtime is driven only through ``LocalRuntime``'s public methods. Deliveries and runs are taken in
turn (a notification is acknowledged with 204 before the runtime drains the queue), because the
embedded queue is one process's memory, not a broker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

from fitbit.messages import RunTrigger
from helper.secrets import LocalSecretStore
from helper.settings import Settings
from helper.webhooks import WEBHOOK_SECRET
from tools.demo import DEFAULT_END_DATE, demo_settings, enrol, free_port, fresh_state_dir, simulator_process
from tools.local_runtime import LocalRuntime
from tools.webhook_subscriptions import Subscriptions, simulator_admin_client
from tools.webhook_subscriptions import subscribe_everyone as subscribe_all

ROOT = Path(__file__).resolve().parent.parent
NOTIFY = ROOT / "functions/notify/main.py"
KEYSET_PATH = "webhooks/public_keyset.json"
PROJECT_NUMBER = "123456789012"
SUBSCRIBER_ID = "fitbit-pipeline"
DEMO_SECRET = "Bearer local-webhook-demo-secret"


@contextmanager
def served_notify(settings: Settings) -> Iterator[str]:
    """Serve ``functions/notify`` (functions-framework's Flask app) on a free loopback port; yield its URL."""
    import functions_framework
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:  # the function logs each request itself
            return None

    os.environ.update(settings.to_env())
    app = functions_framework.create_app("notify", str(NOTIFY), "http")
    server = make_server("127.0.0.1", free_port(), app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="notify-function", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def subscribe_everyone(settings: Settings, endpoint: str, secret: str) -> Subscriptions:
    """Store the endpoint secret, register the subscriber, subscribe every enrolled participant."""
    store = LocalSecretStore(settings.secrets_file)
    store.put(WEBHOOK_SECRET, secret)
    subs = Subscriptions(simulator_admin_client(settings.api_base_url), PROJECT_NUMBER, SUBSCRIBER_ID)
    subs.ensure_subscriber(endpoint, secret)
    subscribe_all(store, subs)
    return subs


@dataclass(frozen=True)
class Measurement:
    what: str
    seconds: float  # from the simulator's change to the row being queryable in DuckDB
    posts: int  # webhook POSTs the change caused
    events: int  # function invocations (extract, transform_load) the runtime delivered for it
    answer_ms: float  # the slowest of those POSTs, sent → notify's answer read by the simulator


class WebhookDemo:
    """A simulator's webhook hub over HTTP (``api``: its base URL) and, for ``row_latency``, an embedded
    runtime; the emulator tier drives the hub the same way."""

    def __init__(self, api: str, runtime: LocalRuntime | None = None) -> None:
        self.api = api if api.endswith("/") else api + "/"
        self.runtime = runtime

    def hub(self) -> dict[str, Any]:
        return requests.get(f"{self.api}_admin/webhooks", timeout=30).json()

    def emit(self, user: str, data_type: str, day: date) -> None:
        requests.post(f"{self.api}_admin/webhooks/emit", json={"user": user, "dataType": data_type,
                                                              "day": day.isoformat()}, timeout=30).raise_for_status()

    def wait_for_change(self, why: str, after: int, timeout_s: float = 300.0) -> dict[str, Any]:
        """The simulator's record of the change (with its wall time), once every POST it caused got a 204."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.hub()
            changes = [c for c in state["changes"][after:] if c["why"] == why]
            if changes and all(p["done"] for p in state["posts"]):
                return changes[0]
            time.sleep(0.02)
        raise TimeoutError(f"no delivered webhook for {why!r} within {timeout_s:.0f} s")

    def row_latency(self, change: dict[str, Any], sql: str, what: str) -> Measurement:
        """Drain the runtime; the seconds from the change to the moment ``sql`` first returns a row."""
        if self.runtime is None:
            raise ValueError("row_latency drives an embedded runtime: pass one to WebhookDemo")
        before = self.runtime.stats.delivered
        self.runtime.run_until_empty()
        rows = self.runtime.adapters.warehouse().query(sql)
        done = time.time()
        if not rows:
            raise AssertionError(f"{what}: no row after the webhook path ran")
        posts = [p for p in self.hub()["posts"] if p["seq"] > change.get("posts_before", 0)]
        slowest = max((ms for p in posts for ms in p["elapsed_ms"]), default=0.0)
        return Measurement(what, round(done - change["at"], 3), len(posts), self.runtime.stats.delivered - before,
                           slowest)


def run(users: int = 3, history_days: int = 3, state_dir: Path = ROOT / ".state/webhook-demo",
        sleep_change_s: float = 45.0) -> list[Measurement]:
    end = DEFAULT_END_DATE
    state = fresh_state_dir(state_dir)
    extra = ("--sleep-processing-seconds", str(sleep_change_s))
    with simulator_process(users, 14, end_date=end, extra_args=extra) as sim:
        settings = demo_settings(state, sim.base_url, SLEEP_REFETCH_DELAY_S="1", MAX_SLEEP_REFETCHES="1",
                                 WEBHOOK_KEYSET_URL=sim.base_url + KEYSET_PATH)
        participants = [f"user{i}" for i in range(1, users + 1)]
        enrol(state, sim.base_url, participants)
        runtime = LocalRuntime(settings)
        demo = WebhookDemo(settings.api_base_url, runtime)
        results = []
        with served_notify(settings) as endpoint:
            subscribe_everyone(settings, endpoint, DEMO_SECRET)
            seen = len(demo.hub()["changes"])
            demo.emit("user1", "steps", end)
            change = demo.wait_for_change("sync", seen)
            results.append(demo.row_latency(change, f"SELECT steps FROM steps_daily WHERE participant_id = 'user1' "
                                                    f"AND civil_date = DATE '{end}'",
                                            "sync, cold (first run creates the warehouse): steps → steps_daily"))
            runtime.publish([RunTrigger(end, history_days, "daily", run_id="daily")])
            runtime.run_until_empty()
            for back in (10, 11, 12):  # days outside the daily run's window: only the webhook brings them
                day = end - timedelta(days=back)
                seen = len(demo.hub()["changes"])
                demo.emit("user2", "steps", day)
                results.append(demo.row_latency(
                    demo.wait_for_change("sync", seen), f"SELECT 1 FROM steps_daily WHERE participant_id = 'user2' "
                    f"AND civil_date = DATE '{day}'", f"sync, warm: steps of {day} → steps_daily"))
            unprocessed = runtime.adapters.warehouse().query(
                f"SELECT COUNT(*) FROM sleep_sessions WHERE civil_date = DATE '{end}' AND NOT processed")[0][0]
            seen = len(demo.hub()["changes"])
            change = demo.wait_for_change("sleep processed", seen, timeout_s=sleep_change_s + 120)
            results.append(demo.row_latency(
                change, f"SELECT 1 FROM sleep_sessions WHERE participant_id = '{change['user']}' AND civil_date = "
                        f"DATE '{end}' AND processed", f"sleep staged ({unprocessed} nights were unprocessed)"))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--days", type=int, default=3, help="days of the daily run before the sleep change")
    parser.add_argument("--sleep-change-s", type=float, default=45.0,
                        help="seconds after the simulator starts when the latest night finishes staging")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON lines")
    args = parser.parse_args(argv)
    started = time.monotonic()
    for m in run(args.users, args.days, sleep_change_s=args.sleep_change_s):
        if args.json:
            print(json.dumps(vars(m)))
        else:
            print(f"{m.what}: {m.seconds:.2f} s from the change to its row ({m.posts} webhook POSTs answered in "
                  f"at most {m.answer_ms:.0f} ms, {m.events} function invocations)")
    sys.stderr.write(f"webhook demo finished in {time.monotonic() - started:.0f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
