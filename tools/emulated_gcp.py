#!/usr/bin/env python3
"""`make demo-gcp`: the demo on the emulated Google Cloud stack, through the real Google clients.

The same flow as `make demo`, but every hop is what runs on Google Cloud, emulated locally:
the run trigger is published to Pub/Sub; a push subscription (through ``tools/relay.py``, our
Eventarc stand-in) delivers messagePublished CloudEvents to ``extract`` served by functions-framework;
extract writes raw pages to Cloud Storage (fake-gcs-server); each new object's notification is
turned into a storage ``finalized`` CloudEvent for ``transform_load``, which stages NDJSON in the
staging bucket; a ``FlushTrigger`` makes it load and MERGE them into BigQuery (local-bigquery).

Grants live in a 0600 file (``SECRETS_BACKEND=file``): Secret Manager has no emulator.

The functions run from the source tree, or from their deployable archives (``served``: each archive
unzipped and run from a venv built from its own requirements.txt, ``tools/served_archive.py``), which is
how the emulator tier's end-to-end test runs them: what it tests is what ships.

``GcpPipeline`` is also what tests/emulator uses. A run has no "queue is empty" signal on Pub/Sub,
so the pipeline counts: pull "tap" subscriptions see every message published to each topic, the
relay counts the distinct messages its functions acknowledged, and the pipeline is idle when every
published message was acknowledged or dead-lettered, nothing is in flight, and that holds for a
moment (fake-gcs-server publishes a notification just after its upload returns).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent

from fitbit.messages import FlushTrigger, Message, RunTrigger  # noqa: E402
from tools import cloud_functions  # noqa: E402
from tools.emulators import Stack, free_port  # noqa: E402
from tools.served_archive import ServedArchive, clean_env  # noqa: E402

FUNCTIONS = {  # name -> (target, source, signature type): the declared functions, then the Eventarc stand-in
    **{f.name: (f.target, ROOT / "functions" / f.name / "main.py", f.signature_type)
       for f in cloud_functions.FUNCTIONS},
    "relay": ("relay", ROOT / "tools/relay.py", "http"),
}
NOTIFY_TOPIC, DEAD_LETTER_TOPIC = "gcs-events", "dead-letter"
# The simulator's most recent night stays unprocessed this long after it starts: the functions come up
# 3-10 s after it (tables and topics are prepared before it starts), so the history reads the night
# unprocessed and the re-read, as long after, sees it finished.
SIM_SLEEP_PROCESSING_S = 25


@dataclass
class Route:
    """A push subscription to one function, with a dead-letter topic after ``max_attempts`` deliveries.

    No retry policy by default: with one (exponential backoff), the emulator 0.8.20 strands about one
    in six messages nacked during a burst of failures until their 600 s ack deadline expires
    (measured 2026-11-23: 200 messages, endpoint down 3 s: 166-168 delivered within 90 s, every one
    without a retry policy, redelivered about once a second). The ack deadline must stay long: a
    push answered after it is pushed again, concurrently, so a slow flush would be repeated forever.
    """

    topic: str
    subscription: str
    function: str
    max_attempts: int = 5
    backoff_s: tuple[float, float] | None = None


@dataclass
class GcpPipeline:
    """The pipeline deployed on an emulated stack: ``prepare`` (resources), ``start`` (functions and push
    subscriptions), then ``publish`` / ``wait_idle`` / ``flush``. One per Stack: topics are shared."""

    stack: Stack
    function_env: dict[str, str]
    served: dict[str, ServedArchive] = field(default_factory=dict)
    raw_bucket: str = "fitbit-raw"
    units_topic: str = "fitbit-units"
    dataset: str = "fitbit"
    ports: dict[str, int] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    journal: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    published: Counter = field(default_factory=Counter)
    dead_letters: list[dict[str, str]] = field(default_factory=list)
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def project(self) -> str:
        return self.stack.project

    def prepare(self, *, schema: bool = True) -> None:
        """Topics, buckets, tap subscriptions and (with ``schema``) the tables and views: what a deploy
        creates before any function runs. Without ``schema``, transform_load creates them on its first
        event, as it does on Google Cloud."""
        from google.cloud import pubsub_v1

        self.stack.ensure_topics([self.units_topic, NOTIFY_TOPIC, DEAD_LETTER_TOPIC])
        self.stack.ensure_buckets([self.raw_bucket, self.raw_bucket + "-staging", self.raw_bucket + "-claims"])
        with self.stack.client_env():
            self._clients["publisher"] = pubsub_v1.PublisherClient()
            self._clients["subscriber"] = pubsub_v1.SubscriberClient()
        if schema:
            self.warehouse().ensure_schema()  # functions then find every table (and skip the DDL)
        for topic in (self.units_topic, NOTIFY_TOPIC, DEAD_LETTER_TOPIC):
            self._subscribe(Route(topic, f"{topic}-tap", ""))

    def start(self, *, units_attempts: int = 100, storage_attempts: int = 10) -> None:
        """The functions and the relay, then the push subscriptions of the event-driven ones (``prepare``
        first if it has not run). An HTTP function (notify) is called directly: ``url_of``."""
        if "publisher" not in self._clients:
            self.prepare()
        topics = {"units-topic": (self.units_topic, units_attempts), "raw-bucket": (NOTIFY_TOPIC, storage_attempts)}
        self.routes = [Route(topics[f.trigger][0], self.subscription_of(f.name), f.name, topics[f.trigger][1])
                       for f in cloud_functions.FUNCTIONS if f.event_driven]
        self.ports = {name: free_port() for name in FUNCTIONS}
        for name in FUNCTIONS:
            self.serve(name)
        for route in self.routes:
            self._subscribe(route)

    def url_of(self, function: str) -> str:
        """Where a started function listens (an HTTP function's public URL, on Google Cloud)."""
        return f"http://127.0.0.1:{self.ports[function]}/"

    def subscription_of(self, function: str) -> str:
        """The push subscription that delivers ``function``'s trigger (Eventarc's, on Google Cloud)."""
        f = cloud_functions.function_named(function)
        topic = self.units_topic if f.trigger == "units-topic" else NOTIFY_TOPIC
        return f"{topic}-{f.name.split('_')[0]}"

    def _path(self, kind: str, name: str) -> str:
        return f"projects/{self.project}/{kind}/{name}"

    def _subscribe(self, route: Route) -> None:
        from google.api_core.exceptions import AlreadyExists
        from google.pubsub_v1 import types

        request: dict[str, Any] = {"name": self._path("subscriptions", route.subscription),
                                   "topic": self._path("topics", route.topic), "ack_deadline_seconds": 600}
        if route.function:
            request["push_config"] = {"push_endpoint": f"http://127.0.0.1:{self.ports['relay']}/{route.function}/"
                                                       f"{self._path('topics', route.topic)}"}
            request["dead_letter_policy"] = {"dead_letter_topic": self._path("topics", DEAD_LETTER_TOPIC),
                                             "max_delivery_attempts": route.max_attempts}
            if route.backoff_s:
                low, high = route.backoff_s
                request["retry_policy"] = {"minimum_backoff": timedelta(seconds=low),
                                           "maximum_backoff": timedelta(seconds=high)}
        try:
            self._clients["subscriber"].create_subscription(request=types.Subscription(**request))
        except AlreadyExists:
            pass

    def add_route(self, route: Route) -> None:
        """Another push subscription to a function (tests use one with few attempts for dead-lettering)."""
        self.stack.ensure_topics([route.topic])
        self._subscribe(Route(route.topic, f"{route.topic}-tap", ""))
        self.routes.append(route)
        self._subscribe(route)

    def serve(self, name: str) -> float:
        """Start one function under functions-framework on its port; returns seconds until it listens.

        A function in ``served`` runs from its unzipped archive and venv, in the archive's folder, with no
        path to the repository; the others (and the relay, a tool) from the source tree."""
        target, source, signature = FUNCTIONS[name]
        env = {**self.function_env, **self.stack.env, "PYTHONUNBUFFERED": "1"}
        url = f"http://127.0.0.1:{self.ports[name]}/"
        if name in self.served:
            archive = self.served[name]
            self.stack.spawn(name, archive.command(self.ports[name]), env, cwd=archive.source, base_env=clean_env())
            return self.stack.wait_ready(name, url)
        env["PYTHONPATH"] = str(ROOT)
        if name == "relay":
            env["RELAY_FUNCTIONS"] = json.dumps({n: f"http://127.0.0.1:{p}/" for n, p in self.ports.items()})
        self.stack.spawn(name, [sys.executable, "-m", "functions_framework", "--target", target,
                                "--signature-type", signature, "--source", str(source),
                                "--host", "127.0.0.1", "--port", str(self.ports[name])], env)
        return self.stack.wait_ready(name, url)

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        self.stack.stop(name, sig)

    # --- driving and observing ---------------------------------------------------------------------------

    def publish(self, messages: Sequence[Message], topic: str | None = None) -> None:
        from helper.queue import PubSubQueue

        PubSubQueue(self.project, topic or self.units_topic, publisher=self._clients["publisher"]).publish(messages)

    def publish_raw(self, topic: str, data: bytes, attributes: dict[str, str] | None = None) -> None:
        publisher = self._clients["publisher"]
        publisher.publish(publisher.topic_path(self.project, topic), data, **(attributes or {})).result(timeout=60)

    def drain_taps(self) -> None:
        """Pull everything the tap subscriptions hold: the journal of every published message."""
        from google.api_core.exceptions import DeadlineExceeded

        subscriber = self._clients["subscriber"]
        for topic in {r.topic for r in self.routes} | {DEAD_LETTER_TOPIC}:
            tap = self._path("subscriptions", f"{topic}-tap")
            while True:
                try:
                    response = subscriber.pull(subscription=tap, max_messages=1000, return_immediately=True,
                                               timeout=5)
                except DeadlineExceeded:
                    break
                if not response.received_messages:
                    break
                for received in response.received_messages:
                    msg = received.message
                    if topic == DEAD_LETTER_TOPIC:
                        self.dead_letters.append(dict(msg.attributes))
                    else:
                        self.published[topic] += 1
                        self.journal.append((topic, bytes(msg.data), dict(msg.attributes)))
                subscriber.acknowledge(subscription=tap, ack_ids=[r.ack_id for r in response.received_messages])

    def relay_stats(self) -> dict[str, dict[str, int]]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['relay']}/_relay/stats", timeout=10) as response:
            return json.loads(response.read())

    def pending(self) -> dict[str, int]:
        """Per push subscription: messages published but neither acknowledged nor dead-lettered, plus in flight."""
        self.drain_taps()
        stats = self.relay_stats()
        out = {}
        for route in self.routes:
            full = self._path("subscriptions", route.subscription)
            s = stats.get(full, {"acked": 0, "in_flight": 0})
            dead = sum(1 for d in self.dead_letters
                       if d.get("CloudPubSubDeadLetterSourceSubscription") in (route.subscription, full))
            out[route.subscription] = self.published[route.topic] - s["acked"] - dead + s["in_flight"]
        return out

    def wait_idle(self, timeout_s: float = 900.0, settle_s: float = 2.0) -> float:
        """Block until nothing is pending for ``settle_s``; returns the seconds waited."""
        started = time.monotonic()
        quiet_since: float | None = None
        last: Any = None
        while True:
            for name in FUNCTIONS:
                service = self.stack.services.get(name)
                if service is not None and not service.alive():
                    raise RuntimeError(f"function {name} died:\n{service.log_tail()}")
            pending = self.pending()
            snapshot = (dict(self.published), len(self.dead_letters), json.dumps(self.relay_stats(), sort_keys=True))
            now = time.monotonic()
            if any(pending.values()) or snapshot != last:
                quiet_since, last = (now if not any(pending.values()) else None), snapshot
            elif quiet_since is not None and now - quiet_since >= settle_s:
                return now - started
            if now - started > timeout_s:
                raise TimeoutError(self._busy_report(timeout_s, pending, snapshot))
            time.sleep(0.25)

    def _busy_report(self, timeout_s: float, pending: dict[str, int], snapshot: Any) -> str:
        """What kept changing, and each function's last log lines: a timeout must explain itself."""
        tails = "\n".join(f"--- {name}:\n{self.stack.services[name].log_tail(15)}"
                          for name in FUNCTIONS if name in self.stack.services)
        return (f"the pipeline is still busy after {timeout_s:.0f} s: pending {pending}; published "
                f"{snapshot[0]}, dead letters {snapshot[1]}, relay {snapshot[2]}\n{tails}")

    def flush(self, run_id: str) -> float:
        """Publish a FlushTrigger (extract writes a control object; transform_load merges) and wait."""
        self.publish([FlushTrigger(run_id=run_id)])
        return self.wait_idle()

    def replay(self) -> int:
        """Publish every message seen so far again (work messages and storage notifications alike)."""
        entries = list(self.journal)
        for topic, data, attributes in entries:
            self.publish_raw(topic, data, attributes)
        return len(entries)

    def deferred(self) -> int:
        """Units republished with a not-before time (rate limited, or a sleep to re-read later)."""
        from fitbit.messages import Unit, decode

        units = (decode(data) for topic, data, _ in self.journal if topic == self.units_topic)
        return sum(1 for u in units if isinstance(u, Unit) and u.not_before is not None)

    def warehouse(self) -> Any:
        from helper.warehouse import BigQueryWarehouse

        if "warehouse" not in self._clients:
            with self.stack.client_env():
                self._clients["warehouse"] = BigQueryWarehouse(
                    self.project, self.dataset, self.raw_bucket + "-staging",
                    endpoint=self.stack.env["BIGQUERY_EMULATOR_HOST"])
                self._clients["warehouse"]._clients()
        return self._clients["warehouse"]


def function_env(state: Path, base_url: str, project: str, **overrides: str) -> dict[str, str]:
    """The functions' settings: gcp runtime on the emulators, the simulator as the Health API.

    An unprocessed night is re-read SIM_SLEEP_PROCESSING_S later, when the simulator has finished it,
    as the embedded demo does. A shorter delay would end the re-read chain early: a re-read that
    returns the same unprocessed page stores nothing new, so nothing schedules the next one. Until
    the re-read is due, extract answers NotYet and Pub/Sub redelivers (about once a second here).
    """
    return {"FITBIT_RUNTIME": "gcp", "GCP_PROJECT": project, "FITBIT_STATE_DIR": str(state),
            "SECRETS_BACKEND": "file", "HEALTH_API_BASE_URL": base_url, "OAUTH_BASE_URL": base_url,
            "RAW_BUCKET": "fitbit-raw", "UNITS_TOPIC": "fitbit-units", "BQ_DATASET": "fitbit",
            "SLEEP_REFETCH_DELAY_S": str(SIM_SLEEP_PROCESSING_S), **overrides}


def run_demo(pipeline: GcpPipeline, end_date: date, days: int, refetch_days: int = 3) -> dict[str, float]:
    """History, then the daily job, each followed by a flush; returns seconds per phase."""
    timings = {}
    pipeline.publish([RunTrigger(end_date, days, "backfill", run_id="history")])
    timings["history"] = pipeline.wait_idle()
    pipeline.publish([RunTrigger(end_date, refetch_days, "daily", run_id="daily")])
    timings["daily"] = pipeline.wait_idle()
    timings["flush"] = pipeline.flush("demo")
    return timings


def main(argv: list[str] | None = None) -> int:
    from tools import demo
    from tools.summary import render, summarise

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--end-date", type=date.fromisoformat, default=demo.DEFAULT_END_DATE)
    parser.add_argument("--state-dir", type=Path, default=ROOT / ".state" / "demo-gcp")
    parser.add_argument("--keep", action="store_true",
                        help="leave the emulators and functions running to explore (stop: scripts/emulators.py down)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    state = demo.fresh_state_dir(args.state_dir)
    participants = [f"user{i}" for i in range(1, args.users + 1)]
    with Stack(state / "emulators") as stack:
        up = stack.start_emulators(notify_bucket="fitbit-raw")
        print("emulators up in " + ", ".join(f"{k} {v:.1f} s" for k, v in up.items()))
        pipeline = GcpPipeline(stack, {})
        pipeline.prepare()
        with demo.simulator_process(args.users, args.days, end_date=args.end_date,
                                    extra_args=("--sleep-processing-seconds", str(SIM_SLEEP_PROCESSING_S))) as sim:
            demo.enrol(state, sim.base_url, participants)
            pipeline.function_env = function_env(state, sim.base_url, stack.project)
            pipeline.start()
            print(f"functions: {', '.join(f'{n} :{p}' for n, p in pipeline.ports.items())}; logs in {stack.state}/logs")
            timings = run_demo(pipeline, args.end_date, args.days)
            summary = summarise(pipeline.warehouse())
            stats = pipeline.relay_stats()
        if args.keep:
            stack.services.clear()  # `scripts/emulators.py down` stops them from the pid file
            print("export " + " ".join(f"{k}={v}" for k, v in stack.env.items()))
            print(f"stop with: python scripts/emulators.py down --state {stack.state}")
    print(render(summary, deferred=pipeline.deferred(), dead_lettered=[json.dumps(d) for d in pipeline.dead_letters]))
    errors = summary.failed_objects + len(pipeline.dead_letters)
    print("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    print("deliveries: " + "; ".join(f"{s.rsplit('/', 1)[-1]} {v['acked']} acked, {v['failures']} retried"
                                     for s, v in stats.items()))
    print(f"elapsed: {time.monotonic() - started:.1f} s")
    print(f"demo-gcp: {args.users} participants, {args.days} days, {summary.total_rows} rows, {errors} errors")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
