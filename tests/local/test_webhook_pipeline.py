"""End to end on the embedded default: simulator → webhook → notify (served) → extract → transform → DuckDB.

The simulator runs on a loopback port and posts to the notify function served by functions-framework on
another; participants are enrolled through the real consent flow. Duplicated, replayed and unknown-user
notifications must cost no extra fetch beyond the one trailing re-read per window, and add no row.
"""

from __future__ import annotations

import time
from datetime import date

import pytest
import requests

from tools.webhook_subscriptions import Subscriptions
from simulator import running_simulator
from tests.webhook_support import SECRET, local_settings
from tools.demo import enrol
from tools.local_runtime import LocalRuntime
from tools.webhook_demo import PROJECT_NUMBER, SUBSCRIBER_ID, served_notify, subscribe_everyone
from tools.webhook_subscriptions import simulator_admin_client as admin_client

pytestmark = [pytest.mark.webhook, pytest.mark.slow]
DAY = date(2026, 11, 5)
WINDOW_S = 6


def _wait_for_window_start() -> None:
    """Start right after a coalescing window opens, so every delivery below falls into the same window."""
    time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.05)


def test_a_synced_day_arrives_through_the_webhook_once_despite_duplicates_replays_and_strangers(tmp_path):
    with running_simulator(users=3, days=3, seed=1, sleep_processing_seconds=3600) as sim:
        settings = local_settings(tmp_path, sim.base_url, WEBHOOK_COALESCE_S=str(WINDOW_S))
        enrol(tmp_path, settings.api_base_url, ["user1", "user2"])
        runtime = LocalRuntime(settings)
        with served_notify(settings) as endpoint:
            subscribe_everyone(settings, endpoint, SECRET)
            stranger = sim.sim.cohort.by_label("user3").health_user_id  # subscribed, never enrolled
            Subscriptions(admin_client(settings.api_base_url), PROJECT_NUMBER, SUBSCRIBER_ID).subscribe("x", stranger)
            hub = sim.sim.webhooks
            _wait_for_window_start()
            hub.modes.duplicates = 2
            requests.post(f"{sim.base_url}/_admin/webhooks/emit", timeout=30,
                          json={"users": ["user1", "user2", "user3"], "dataType": "steps", "day": str(DAY)})
            assert hub.wait_idle(30)
            requests.post(f"{sim.base_url}/_admin/webhooks/replay", json={"count": 2}, timeout=30)
            assert hub.wait_idle(30)
            assert time.time() % WINDOW_S < WINDOW_S - 0.5, "the deliveries crossed a window: the test is void"
            posts = hub.describe()["posts"]
            assert len(posts) == 5 and all(p["statuses"] == [204] for p in posts)
            runtime.run_until_empty()  # waits for the trailing re-read of the next window too
        warehouse = runtime.adapters.warehouse()
        daily = warehouse.query(f"SELECT participant_id, steps FROM steps_daily WHERE civil_date = DATE '{DAY}' "
                                f"ORDER BY participant_id")
        assert [p for p, _ in daily] == ["user1", "user2"] and all(steps > 0 for _, steps in daily)
        total, distinct = warehouse.query("SELECT COUNT(*), COUNT(DISTINCT (participant_id, start_time)) "
                                          "FROM steps_intraday")[0]
        assert total == distinct > 0
        stats = sim.sim.control.stats()["by_user_data_type"]
        for user in ("user1", "user2"):
            assert stats[user]["steps"] == {"reconcile": 2, "dailyRollUp": 2}  # once now, once trailing
        assert "user3" not in stats
        logged = warehouse.query("SELECT participant_id, error_class FROM processing_log "
                                 "WHERE error_class = 'UnknownHealthUser'")
        assert logged == [("unknown", "UnknownHealthUser")]
