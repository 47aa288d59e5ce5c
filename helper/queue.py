"""Queue adapters: a durable embedded queue (SQLite in the state dir) and Pub/Sub.

The embedded queue carries exactly what GCP carries: Pub/Sub messagePublished event data for work
messages and storage object-finalized event data for new raw objects, as CloudEvents. It honours a
unit's ``not_before`` by holding it back, the way a deferred unit waits in Pub/Sub's retry backoff.

Why SQLite: a run killed at any instant must lose nothing (issue #11). A message or storage event is
committed to ``queue.sqlite`` before ``publish`` / ``object_finalized`` returns, so it counts as
published only once it survives a crash; it leaves the table only when its handler acknowledged it
(``ack``, after an HTTP 2xx), or moves to the ``dead_letters`` table in the same transaction. A delivery
interrupted by a crash is simply still there on the next run, which delivers it again: at-least-once,
like Pub/Sub, so every handler must be (and is) idempotent. Durability is against process crashes
(kill -9), not power loss: WAL with ``synchronous=NORMAL`` (raw objects are not fsynced either).

Leases (issue #14: the runtime delivers extract work on a pool of threads). ``pop_ready`` hands a
delivery out once: it is leased (in flight) until it is settled with ``ack``, ``retry`` or
``dead_letter`` (or handed back with ``release``), and neither ``pop_ready`` nor ``next_ready_at`` sees it
meanwhile. Leases live in this object's memory only, never in the file: a crash leaves nothing leased,
and the next run (which holds the state-dir lock, so it is the only reader) delivers the row again.
``len()`` still counts every delivery owed, in flight or not. One connection serves every thread, each
call under the queue's lock: the calls are short, and SQLite would serialise the writers anyway.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from fitbit.errors import MalformedMessage
from fitbit.messages import Message, StoredObject, Unit, decode, encode
from helper.cloudevents import PUBSUB_EVENT, STORAGE_FINALIZED, message_from_pubsub_event, pubsub_event_data, \
    storage_event_data

Clock = Callable[[], datetime]

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so an event id stays unique across crashes
    ready_at INTEGER NOT NULL,              -- microseconds since the epoch (UTC)
    event_type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT,
    payload BLOB,                           -- a published work message; its event data is built on delivery
    published_at INTEGER NOT NULL,
    data TEXT,                              -- event data as JSON (storage events, replayed events)
    attempt INTEGER NOT NULL DEFAULT 1,
    object_name TEXT                        -- storage events: the object (the orphan sweep skips these)
);
CREATE INDEX IF NOT EXISTS deliveries_by_ready ON deliveries (ready_at, seq);
CREATE INDEX IF NOT EXISTS deliveries_by_type ON deliveries (event_type, ready_at, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY,
    event_type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT,
    data TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    status INTEGER,                         -- the handler's last HTTP status
    dead_at INTEGER NOT NULL,
    object_name TEXT
);
CREATE TABLE IF NOT EXISTS published_runs (
    run_key TEXT PRIMARY KEY,               -- a trigger published once per state dir (resume, not rerun)
    published_at INTEGER NOT NULL
);
"""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def _moment(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, timezone.utc)


@dataclass
class Delivery:
    """One CloudEvent waiting in the queue; ``seq`` is its id, stable across redeliveries."""

    ready_at: datetime
    seq: int
    event_type: str
    source: str
    subject: str | None
    data: dict[str, Any]
    attempt: int = 1

    def attributes(self) -> dict[str, str]:
        attrs = {"id": f"local-{self.seq}", "type": self.event_type, "source": self.source,
                 "specversion": "1.0", "time": self.ready_at.isoformat()}
        if self.subject:
            attrs["subject"] = self.subject
        return attrs

    @property
    def label(self) -> str:
        """Names only: the object of a storage event, else the message id."""
        return self.subject or f"message {self.seq}"


@dataclass(frozen=True)
class DeadLetter:
    seq: int
    event_type: str
    subject: str | None
    data: dict[str, Any]
    attempts: int
    status: int | None
    dead_at: datetime


@dataclass
class LocalQueue:
    """The embedded queue in one SQLite file; opened on first use (a reader that never uses it touches nothing)."""

    path: Path
    project: str = "local-project"
    topic: str = "fitbit-units"
    clock: Clock = utc_now
    _conn: sqlite3.Connection | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _leased: set[int] = field(default_factory=set, init=False, repr=False)  # seqs handed out, not yet settled

    @property
    def topic_path(self) -> str:
        return f"projects/{self.project}/topics/{self.topic}"

    @property
    def subscription(self) -> str:
        return f"projects/{self.project}/subscriptions/{self.topic}-extract"

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            self._conn = conn
        return self._conn

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db(), self._lock)

    def close(self) -> None:
        with self._lock:
            self._leased.clear()  # as after a crash: whatever was handed out is delivered again
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- publishing (each returns only once committed) --------------------------------------------------

    def publish(self, messages: Sequence[Message]) -> None:
        with self._transaction() as db:
            self._insert_messages(db, messages)

    def publish_once(self, run_key: str, messages: Sequence[Message]) -> bool:
        """Publish a run's trigger unless this state dir already has: False means "resume it instead"."""
        with self._transaction() as db:
            inserted = db.execute("INSERT OR IGNORE INTO published_runs VALUES (?, ?)",
                                  (run_key, _micros(self.clock()))).rowcount
            if inserted:
                self._insert_messages(db, messages)
            return bool(inserted)

    def _insert_messages(self, db: sqlite3.Connection, messages: Sequence[Message]) -> None:
        now = self.clock()
        db.executemany(
            "INSERT INTO deliveries (ready_at, event_type, source, subject, payload, published_at) "
            "VALUES (?, ?, ?, NULL, ?, ?)",
            [(_micros(max(m.not_before, now) if isinstance(m, Unit) and m.not_before else now), PUBSUB_EVENT,
              f"//pubsub.googleapis.com/{self.topic_path}", encode(m), _micros(now)) for m in messages])

    def object_finalized(self, obj: StoredObject, size: int, created: datetime) -> None:
        """The storage notification of a new object (the raw store's ``on_finalize`` hook)."""
        data = storage_event_data(obj.bucket, obj.name, obj.generation, size, created)
        self.enqueue(STORAGE_FINALIZED, f"//storage.googleapis.com/projects/_/buckets/{obj.bucket}",
                     f"objects/{obj.name}", data)

    def enqueue(self, event_type: str, source: str, subject: str | None, data: dict[str, Any],
                ready_at: datetime | None = None) -> int:
        """Add one event as a first delivery attempt (storage events, replays); returns its id."""
        now = self.clock()
        name = data.get("name") if event_type == STORAGE_FINALIZED else None
        with self._transaction() as db:
            seq = db.execute(
                "INSERT INTO deliveries (ready_at, event_type, source, subject, published_at, data, object_name) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_micros(ready_at or now), event_type, source, subject, _micros(now), json.dumps(data), name),
            ).lastrowid
        if seq is None:  # sqlite3 sets lastrowid after every INSERT into a rowid table
            raise RuntimeError(f"the queue database {self.path} gave no row id for a new delivery; the file may "
                               f"be damaged: check it with `sqlite3 {self.path} 'PRAGMA integrity_check'`")
        return seq

    # --- delivering ------------------------------------------------------------------------------------

    def pop_ready(self, event_type: str | None = None) -> Delivery | None:
        """The oldest due delivery not in flight (of ``event_type``, if given), leased until it is settled.

        It stays in the queue until ``ack``: a crash means "deliver it again". Until ``ack``, ``retry``,
        ``dead_letter`` or ``release``, no other ``pop_ready`` hands it out.
        """
        with self._lock:
            where, params = self._not_leased("ready_at <= ?", [_micros(self.clock())])
            if event_type is not None:
                where, params = f"event_type = ? AND {where}", [event_type, *params]
            row = self._db().execute(
                "SELECT seq, ready_at, event_type, source, subject, payload, published_at, data, attempt "
                f"FROM deliveries WHERE {where} ORDER BY ready_at, seq LIMIT 1", params).fetchone()
            if row is not None:
                self._leased.add(row[0])
        return None if row is None else self._delivery(row)

    def _not_leased(self, where: str, params: list[Any]) -> tuple[str, list[Any]]:
        if not self._leased:
            return where, params
        leased = sorted(self._leased)
        return f"{where} AND seq NOT IN ({','.join('?' * len(leased))})", [*params, *leased]

    @property
    def in_flight(self) -> int:
        """Deliveries handed out by ``pop_ready`` and not settled yet."""
        with self._lock:
            return len(self._leased)

    def release(self, delivery: Delivery) -> None:
        """Hand a delivery back unchanged (not attempted): ``pop_ready`` may hand it out again."""
        with self._lock:
            self._leased.discard(delivery.seq)

    def _delivery(self, row: tuple[Any, ...]) -> Delivery:
        seq, ready_at, event_type, source, subject, payload, published_at, data, attempt = row
        event = json.loads(data) if data is not None else pubsub_event_data(
            bytes(payload), str(seq), _moment(published_at), self.subscription)
        return Delivery(_moment(ready_at), seq, event_type, source, subject, event, attempt)

    def ack(self, delivery: Delivery) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM deliveries WHERE seq = ?", (delivery.seq,))
            self._leased.discard(delivery.seq)

    def retry(self, delivery: Delivery, at: datetime) -> None:
        """Not acknowledged: deliver again at ``at`` as the next attempt."""
        delivery.attempt += 1
        delivery.ready_at = at
        with self._transaction() as db:
            db.execute("UPDATE deliveries SET attempt = ?, ready_at = ? WHERE seq = ?",
                       (delivery.attempt, _micros(at), delivery.seq))
            self._leased.discard(delivery.seq)

    def dead_letter(self, delivery: Delivery, status: int | None) -> None:
        """Out of attempts: move it to ``dead_letters`` (kept, counted, replayable), in one transaction."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO dead_letters (seq, event_type, source, subject, data, attempts, status, "
                "dead_at, object_name) SELECT seq, event_type, source, subject, ?, attempt, ?, ?, object_name "
                "FROM deliveries WHERE seq = ?",
                (json.dumps(delivery.data), status, _micros(self.clock()), delivery.seq))
            db.execute("DELETE FROM deliveries WHERE seq = ?", (delivery.seq,))
            self._leased.discard(delivery.seq)

    def next_ready_at(self) -> datetime | None:
        """When the next delivery not in flight is due (None: nothing waits but what is in flight)."""
        with self._lock:
            where, params = self._not_leased("1", [])
            row = self._db().execute(f"SELECT ready_at FROM deliveries WHERE {where} ORDER BY ready_at, seq LIMIT 1",
                                     params).fetchone()
        return None if row is None else _moment(row[0])

    def __len__(self) -> int:
        """Every delivery still owed, in flight or not (a leased one leaves only when settled)."""
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])

    def pending_objects(self) -> set[str]:
        """Objects whose storage event is still waiting (the sweep must not enqueue them twice)."""
        with self._lock:
            rows = self._db().execute("SELECT object_name FROM deliveries WHERE object_name IS NOT NULL")
            return {r[0] for r in rows}

    def queued_units(self) -> list[Unit]:
        """The work units waiting for delivery, due or deferred (read-only; ``fitbit-pipeline status``)."""
        with self._lock:
            rows = self._db().execute("SELECT payload FROM deliveries WHERE payload IS NOT NULL").fetchall()
        units = []
        for (payload,) in rows:
            try:
                message = decode(bytes(payload))
            except MalformedMessage:  # delivered as it is, recorded by extract; not a unit of anyone's
                continue
            if isinstance(message, Unit):
                units.append(message)
        return units

    def drop_participant(self, participant: str) -> int:
        """Consent withdrawal: remove the participant's queued and dead-lettered units and storage events (their
        raw objects are purged), so no later run or replay fetches for them or records a failure under their id.
        Returns how many were removed."""
        dropped = 0
        with self._transaction() as db:
            for table, payload in (("deliveries", "payload"), ("dead_letters", "NULL")):
                rows = db.execute(f"SELECT seq, event_type, {payload}, data, object_name FROM {table}").fetchall()
                mine = [(row[0],) for row in rows if _names(participant, *row[1:])]
                db.executemany(f"DELETE FROM {table} WHERE seq = ?", mine)
                dropped += len(mine)
        return dropped

    # --- dead letters ----------------------------------------------------------------------------------

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._db().execute("SELECT seq, event_type, subject, data, attempts, status, dead_at "
                                      "FROM dead_letters ORDER BY dead_at, seq").fetchall()
        return [DeadLetter(s, t, subj, json.loads(d), a, st, _moment(at)) for s, t, subj, d, a, st, at in rows]

    def dead_lettered_objects(self) -> set[str]:
        with self._lock:
            rows = self._db().execute("SELECT object_name FROM dead_letters WHERE object_name IS NOT NULL")
            return {r[0] for r in rows}

    def replay_dead_letters(self) -> int:
        """Move every dead letter back into the queue as a first attempt; returns how many."""
        with self._transaction() as db:
            moved = db.execute(
                "INSERT INTO deliveries (seq, ready_at, event_type, source, subject, published_at, data, attempt, "
                "object_name) SELECT seq, ?, event_type, source, subject, dead_at, data, 1, object_name "
                "FROM dead_letters", (_micros(self.clock()),)).rowcount
            db.execute("DELETE FROM dead_letters")
            return int(moved)


def _names(participant: str, event_type: str, payload: bytes | None, data: str | None, object_name: str | None) -> bool:
    """Whether a queued event is the participant's: a storage event of their object, or a unit of theirs."""
    if object_name:
        return object_name.startswith((f"raw/{participant}/", f"errors/{participant}/"))
    try:
        if payload is None and event_type == PUBSUB_EVENT and data:
            payload = message_from_pubsub_event(json.loads(data))
        message = decode(bytes(payload)) if payload is not None else None
    except (MalformedMessage, ValueError):
        return False
    return isinstance(message, Unit) and message.participant == participant


class _Transaction:
    """``with queue._transaction() as db``: one SQLite transaction under the queue's lock."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock) -> None:
        self._conn, self._lock = conn, lock

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._conn

    def __exit__(self, exc_type: object, *_: object) -> None:
        try:
            self._conn.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()


class PubSubQueue:
    """Pub/Sub through google-cloud-pubsub; honours PUBSUB_EMULATOR_HOST via the client."""

    def __init__(self, project: str, topic: str, publisher: Any = None) -> None:
        self._project, self._topic = project, topic
        self._publisher = publisher

    def publish(self, messages: Sequence[Message]) -> None:
        if self._publisher is None:
            from google.cloud import pubsub_v1

            self._publisher = pubsub_v1.PublisherClient()
        topic = self._publisher.topic_path(self._project, self._topic)
        futures = [self._publisher.publish(topic, encode(m)) for m in messages]
        for future in futures:
            future.result(timeout=60)
