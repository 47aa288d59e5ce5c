"""The narrow interfaces the pipeline's domain functions talk to, one per cloud service.

The domain owns them; ``helper/`` holds a GCP and an embedded implementation of each (``helper/storage.py``,
``helper/queue.py``, ``helper/warehouse.py``). The domain (``fitbit/``) sees only these Protocols, so it
never imports a cloud client and its tests run against the embedded adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence

from fitbit.catalogue import TableSpec
from fitbit.messages import Message


@dataclass(frozen=True)
class Blob:
    name: str
    body: bytes
    metadata: Mapping[str, str]


class RawStore(Protocol):
    bucket: str

    def create(self, name: str, body: bytes, metadata: Mapping[str, str], content_type: str) -> bool:
        """Store a new object; return False (and change nothing) when the name already exists."""

    def read(self, name: str) -> Blob: ...

    def exists(self, prefix: str) -> bool:
        """True when at least one object name starts with ``prefix``."""


class Queue(Protocol):
    def publish(self, messages: Sequence[Message]) -> None:
        """Publish work messages; returns once every one is accepted by the queue."""


class Warehouse(Protocol):
    def ensure_schema(self) -> None: ...

    def stage(self, table: TableSpec, rows: Sequence[Mapping[str, Any]], batch_id: str) -> None:
        """Append rows to the table's staging area. Re-staging the same batch_id replaces it."""

    def flush(self) -> dict[str, int]:
        """Merge every staged batch into its table by natural key; return rows merged per table."""

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run BigQuery-dialect SQL against the dataset (tables unqualified)."""
