"""What consent withdrawal removes from a Google Cloud deployment's buckets (``withdraw --runtime gcp``).

The same things as on the embedded runtime (``purge.py``), in their buckets: raw and error objects
(``raw/<id>/``, ``errors/<id>/`` of the raw bucket), the participant's lines in staged and quarantined
batches (the staging bucket: ``<table>/*.ndjson``, ``quarantine/<table>/*.ndjson``), their units in stored
run plans (``control/plan-*.json``: rewritten without them) and their webhook claims (``webhooks/claims/<id>/``
of the claims bucket). Counts only; idempotent: a second call finds nothing and returns zeros.

A rewritten plan is a new object generation, so its finalize notification reaches transform_load, which
records the (now shorter) plan's pending days again: a MERGE by key, so nothing changes for anyone else.
"""

from __future__ import annotations

import json
from typing import Any

from fitbit.webhooks.dedup import CLAIMS_PREFIX
from helper.settings import Settings
from tools.cli.purge import PARTICIPANT_PREFIXES


def _client(settings: Settings) -> Any:
    from google.cloud import storage

    from helper.storage import _storage_client

    return _storage_client(storage, settings.gcp_project)


def _prefix(bucket: Any, prefix: str, *, delete: bool) -> int:
    blobs = list(bucket.list_blobs(prefix=prefix))
    if delete:
        for blob in blobs:
            blob.delete()
    return len(blobs)


def _lines(bucket: Any, prefix: str, participant: str, *, delete: bool) -> int:
    """The participant's rows in NDJSON batches under ``prefix``; with ``delete``, the batches without them."""
    found = 0
    for blob in bucket.list_blobs(prefix=prefix):
        if not blob.name.endswith(".ndjson"):
            continue
        lines = blob.download_as_bytes().splitlines(keepends=True)
        keep = [line for line in lines if line.strip() and json.loads(line).get("participant_id") != participant]
        mine = sum(1 for line in lines if line.strip()) - len(keep)
        found += mine
        if delete and mine:
            if keep:
                blob.upload_from_string(b"".join(keep), content_type="application/x-ndjson")
            else:
                blob.delete()
    return found


def _plans(bucket: Any, participant: str, *, delete: bool) -> int:
    found = 0
    for blob in bucket.list_blobs(prefix="control/plan-"):
        units = json.loads(blob.download_as_bytes())
        keep = [u for u in units if u.get("participant") != participant]
        found += len(units) - len(keep)
        if delete and len(keep) != len(units):
            blob.upload_from_string(json.dumps(keep, separators=(",", ":")), content_type="application/json")
    return found


def bucket_objects(settings: Settings, participant: str, *, delete: bool) -> dict[str, int]:
    """Raw objects, staged rows, plan entries and webhook claims of the participant (counts)."""
    client = _client(settings)
    raw = client.bucket(settings.raw_bucket)
    staging = client.bucket(settings.raw_bucket + "-staging")
    return {
        "raw_objects": sum(_prefix(raw, p.format(p=participant), delete=delete) for p in PARTICIPANT_PREFIXES),
        "staged_rows": _lines(staging, "", participant, delete=delete),
        "plan_entries": _plans(raw, participant, delete=delete),
        "claims": _prefix(client.bucket(settings.claims_bucket), f"{CLAIMS_PREFIX}{participant}/", delete=delete),
    }
