"""The narrow interfaces the pipeline's domain functions talk to, one per cloud service.

The domain owns them; ``helper/`` holds a GCP and an embedded implementation of each (``helper/storage.py``,
``helper/queue.py``, ``helper/warehouse.py``). The domain (``fitbit/``) sees only these Protocols, so it
never imports a cloud client and its tests run against the embedded adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from fitbit.catalogue import TableSpec
from fitbit.messages import Message


@dataclass(frozen=True)
class Blob:
    name: str
    body: bytes
    metadata: Mapping[str, str]


@dataclass(frozen=True)
class ObjectInfo:
    """A stored object's name, creation time and size (what the orphan sweep lists)."""

    name: str
    created: datetime
    size: int = 0


@dataclass(frozen=True)
class Quarantined:
    """A staged batch the warehouse refused, set aside so it blocks nothing.

    ``batch_id`` is the raw object the batch was parsed from (transform_load stages under the object's
    name); ``reason`` names the error class and line, never a value; ``location`` is where the batch is kept.
    """

    table: str
    batch_id: str
    rows: int
    reason: str
    location: str
    participant: str | None = None
    civil_date: str | None = None


class FlushResult(dict[str, int]):
    """Rows merged per table (a plain dict, as ``flush`` always returned), plus what was set aside.

    ``quarantined``: batches the warehouse refused (set aside, recorded, never retried by a flush);
    ``blocked``: tables the flush could not merge for another reason (error class by table); their
    batches stay staged for the next flush.
    """

    def __init__(self, merged: Mapping[str, int] | None = None) -> None:
        super().__init__(merged or {})
        self.quarantined: list[Quarantined] = []
        self.blocked: dict[str, str] = {}


class RawStore(Protocol):
    bucket: str

    def create(self, name: str, body: bytes, metadata: Mapping[str, str], content_type: str) -> bool:
        """Store a new object; return False (and change nothing) when the name already exists."""

    def read(self, name: str) -> Blob: ...

    def exists(self, prefix: str) -> bool:
        """True when at least one object name starts with ``prefix``."""

    def list_objects(self, prefix: str) -> Iterable[ObjectInfo]:
        """Every object whose name starts with ``prefix`` (the orphan sweep's listing)."""


class Queue(Protocol):
    def publish(self, messages: Sequence[Message]) -> None:
        """Publish work messages; returns once every one is accepted by the queue."""


class Warehouse(Protocol):
    def ensure_schema(self) -> None: ...

    def stage(self, table: TableSpec, rows: Sequence[Mapping[str, Any]], batch_id: str) -> None:
        """Append rows to the table's staging area. Re-staging the same batch_id replaces it."""

    def flush(self, on_quarantine: Callable[[Quarantined], None] | None = None) -> FlushResult:
        """Merge every staged batch into its table by natural key; return rows merged per table.

        A batch the warehouse refuses is quarantined (set aside with its reason) and the flush goes on
        with the other batches and tables. ``on_quarantine`` is called before the batch is moved, and
        ``processing_log`` is merged after every other table, so rows it stages there (the batch's
        outcome) land in the same flush.
        """

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run BigQuery-dialect SQL against the dataset (tables unqualified)."""
