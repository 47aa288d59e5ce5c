"""`python scripts/dead_letters.py [--replay]`: count, show and replay dead-lettered messages, on both runtimes.

A message a function failed on ``max_delivery_attempts`` times is dead-lettered, never dropped: it is kept
where a person can count it, read what it was (names only: a unit's label, an object's name) and, once the
cause is fixed, replay it with one command.

- Embedded (``FITBIT_RUNTIME=local``): the ``dead_letters`` table of the state dir's queue
  (``helper/queue.py``). ``--replay`` takes the state-dir lock, moves them back into the queue as first
  attempts and runs the queue until it is empty, as ``scripts/run_local.py --resume`` would.
- Google Cloud (``FITBIT_RUNTIME=gcp``): the dead-letter topic's hold subscription
  (``<units topic>-dead-letter-hold``, created by provisioning; ``--subscription`` names another).
  Without ``--replay`` the messages are pulled, shown and released again (nacked). With it, each one is
  republished, with its attributes, to the topic of the subscription it died on (Pub/Sub's
  ``CloudPubSubDeadLetterSourceSubscription`` attribute): work messages go back to the units topic,
  storage notifications back to the topic the transform trigger listens on. Each is acknowledged only
  after its republish succeeded, so a failed replay loses nothing.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence, TextIO

from fitbit.errors import MalformedMessage
from fitbit.messages import decode
from helper.cloudevents import PUBSUB_EVENT, message_from_pubsub_event
from helper.settings import Settings, SettingsError
from tools.run_local import settings_for

SOURCE_ATTRIBUTE = "CloudPubSubDeadLetterSourceSubscription"
COUNT_ATTRIBUTE = "CloudPubSubDeadLetterSourceDeliveryCount"
DEAD_LETTER_ATTRIBUTES = ("CloudPubSubDeadLetterSource",)  # prefix of what Pub/Sub adds when dead-lettering


def label_of(data: bytes, attributes: dict[str, str]) -> str:
    """Names only: a work message's unit label or kind, a storage notification's object name."""
    if attributes.get("objectId"):
        return f"object {attributes['objectId']}"
    try:
        message = decode(data)
    except MalformedMessage:
        return f"unreadable message ({len(data)} bytes)"
    return getattr(message, "label", f"{message.kind} message")


# --- Google Cloud ------------------------------------------------------------------------------------------

@dataclass
class DeadLetter:
    ack_id: str
    data: bytes
    attributes: dict[str, str]
    source: str  # the subscription it died on
    attempts: int

    @property
    def label(self) -> str:
        return label_of(self.data, self.attributes)


class PubSubDeadLetters:
    """The dead-letter hold subscription: pull everything, then release it or replay it."""

    def __init__(self, project: str, subscription: str, *, subscriber: Any = None, publisher: Any = None) -> None:
        from google.cloud import pubsub_v1

        self.project = project
        self.subscriber = subscriber or pubsub_v1.SubscriberClient()
        self.publisher = publisher or pubsub_v1.PublisherClient()
        self.path = subscription if "/" in subscription else self.subscriber.subscription_path(project, subscription)
        self._topics: dict[str, str] = {}

    def pull_all(self, limit: int = 10_000) -> list[DeadLetter]:
        from google.api_core.exceptions import DeadlineExceeded

        held: list[DeadLetter] = []
        while len(held) < limit:
            try:
                response = self.subscriber.pull(subscription=self.path, max_messages=500, return_immediately=True,
                                                timeout=10)
            except DeadlineExceeded:
                break
            if not response.received_messages:
                break
            for received in response.received_messages:
                msg = received.message
                attrs = dict(msg.attributes)
                attempts = attrs.get(COUNT_ATTRIBUTE, "")
                held.append(DeadLetter(received.ack_id, bytes(msg.data), attrs, attrs.get(SOURCE_ATTRIBUTE, "?"),
                                       int(attempts) if attempts.isdigit() else 0))
        return held

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Give them back to the subscription at once (they stay dead-lettered)."""
        if letters:
            self.subscriber.modify_ack_deadline(subscription=self.path, ack_ids=[d.ack_id for d in letters],
                                                ack_deadline_seconds=0)

    def source_topic(self, source: str) -> str:
        """The topic of the subscription a message died on."""
        if source not in self._topics:
            path = source if "/" in source else self.subscriber.subscription_path(self.project, source)
            self._topics[source] = self.subscriber.get_subscription(subscription=path).topic
        return self._topics[source]

    def replay(self, letters: Sequence[DeadLetter]) -> int:
        """Republish each to its source topic, then acknowledge it; returns how many were replayed."""
        replayed = 0
        for letter in letters:
            attributes = {k: v for k, v in letter.attributes.items() if not k.startswith(DEAD_LETTER_ATTRIBUTES)}
            self.publisher.publish(self.source_topic(letter.source), letter.data, **attributes).result(timeout=60)
            self.subscriber.acknowledge(subscription=self.path, ack_ids=[letter.ack_id])
            replayed += 1
        return replayed


def _gcp(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    subscription = args.subscription or f"{settings.units_topic}-dead-letter-hold"
    letters_box = PubSubDeadLetters(settings.gcp_project or "", subscription)
    letters = letters_box.pull_all()
    _show([(d.source.rsplit("/", 1)[-1], d.label, d.attempts) for d in letters], out)
    if not args.replay:
        letters_box.release(letters)
        return 0
    print(f"dead letters: replayed {letters_box.replay(letters)}", file=out)
    return 0


# --- embedded ----------------------------------------------------------------------------------------------

def _local_label(event_type: str, subject: str | None, data: dict[str, Any]) -> tuple[str, str]:
    if event_type != PUBSUB_EVENT:
        return "transform_load", f"object {(subject or '').removeprefix('objects/')}"
    try:
        payload = message_from_pubsub_event(data)
    except MalformedMessage:
        return "extract", "unreadable message"
    attributes = (data.get("message") or {}).get("attributes") or {}
    return "extract", label_of(payload, attributes)


def _local(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from helper.queue import LocalQueue
    from tools.local_runtime import LocalRuntime
    from tools.run_local import report
    from tools.state_lock import AnotherRunInProgress

    if not args.replay:
        queue = LocalQueue(settings.state_dir / "queue.sqlite")
        if not queue.path.exists():
            print(f"dead letters: none (no queue in {settings.state_dir})", file=out)
            return 0
        letters = queue.dead_letters()
        queue.close()
        _show([(*_local_label(d.event_type, d.subject, d.data), d.attempts) for d in letters], out)
        return 0
    try:
        runtime = LocalRuntime(settings)
    except AnotherRunInProgress as exc:
        print(f"dead letters: {exc}", file=sys.stderr)
        return 3
    with runtime:
        moved = runtime.queue.replay_dead_letters()
        print(f"dead letters: {moved} put back in the queue; running it", file=out, flush=True)
        stats = runtime.run_until_empty()
        report(runtime, stats, out)
    return 0


def _show(letters: Sequence[tuple[str, str, int]], out: TextIO) -> None:
    by_source = Counter(source for source, _, _ in letters)
    print(f"dead letters: {len(letters)}" + (f" ({', '.join(f'{s}: {n}' for s, n in sorted(by_source.items()))})"
                                             if letters else ""), file=out)
    for source, label, attempts in letters:
        print(f"  {source}: {label} ({attempts} attempts)", file=out)


def main(argv: Sequence[str] | None = None, *, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/dead_letters.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replay", action="store_true", help="deliver them again (after fixing their cause)")
    parser.add_argument("--state-dir", type=Path, help="local state folder (default: $FITBIT_STATE_DIR, else .state)")
    parser.add_argument("--subscription", help="GCP: the dead-letter hold subscription "
                                               "(default <units topic>-dead-letter-hold)")
    args = parser.parse_args(argv)
    try:
        settings = settings_for(args.state_dir)
    except SettingsError as exc:
        print(f"dead letters: {exc}", file=sys.stderr)
        return 2
    return _local(settings, args, out) if settings.runtime == "local" else _gcp(settings, args, out)

