"""Deduplication of webhook work: idempotency keys claimed once, atomically (a port and one implementation).

Google delivers at least once, retries for days, batches, and can replay; several notifications for
one participant-day arrive minutes apart. Each (participant, data type, civil day) gets at most one
fetch per coalescing window: its idempotency key is ``participant/type/day/w<window>``, where the
window is ``floor(unix time / coalesce_s)``. A key is claimed by creating it; creating an existing key
fails, so a duplicate, a replay or a concurrent instance cannot claim it twice.

Because a window's number never recurs, keys never need to expire to be correct; old ones are only
clutter (the claims bucket's lifecycle rule deletes them after a day). ``StoreClaims`` uses a store's
create-if-absent (a GCS ``ifGenerationMatch=0`` upload, an exclusive link on disk), so it needs no
new service.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from fitbit.ports import RawStore

CLAIMS_PREFIX = "webhooks/claims/"


class Claims(Protocol):
    def claim_many(self, keys: Sequence[str]) -> set[str]:
        """Claim each key atomically; return the keys this call claimed (the others were held already)."""


class StoreClaims:
    """Claims as empty objects under ``webhooks/claims/`` of a ``RawStore`` (created in parallel)."""

    def __init__(self, store: RawStore, *, workers: int = 8) -> None:
        self._store = store
        self._workers = workers

    def _claim(self, key: str) -> bool:
        return self._store.create(CLAIMS_PREFIX + key, b"", {"kind": "webhook-claim"}, "application/octet-stream")

    def claim_many(self, keys: Sequence[str]) -> set[str]:
        if len(keys) <= 1:
            return {k for k in keys if self._claim(k)}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(keys))) as pool:
            return {k for k, won in zip(keys, pool.map(self._claim, keys)) if won}
