"""What consent withdrawal removes from an embedded state dir: raw objects, staged and quarantined batches,
plan entries, webhook claims, and rows in every warehouse table (the latter on BigQuery too).

Each function returns what it removed (counts only, for the audit row; never a value). All of them are
idempotent: a second call finds nothing and returns zeros.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from fitbit.catalogue import CONSENT_LOG_TABLE, all_tables
from fitbit.ports import Warehouse
from fitbit.webhooks.dedup import CLAIMS_PREFIX
from helper.settings import Settings
from tools.cli.common import sql_list

# Raw-store prefixes that hold one participant's objects (fitbit.plan.object_name / error_object_name).
PARTICIPANT_PREFIXES = ("raw/{p}/", "errors/{p}/")


def state_files(settings: Settings, participant: str, *, delete: bool) -> dict[str, int]:
    """Raw objects, staged (and quarantined) rows, plan entries and webhook claims of the participant (counts)."""
    return {
        "raw_objects": raw_objects(settings.raw_dir, participant, delete=delete),
        "staged_rows": sum(staged_rows(settings.state_dir / area, participant, delete=delete)
                           for area in ("staging", "quarantine")),
        "plan_entries": plan_entries(settings.raw_dir, participant, delete=delete),
        "claims": raw_objects(settings.claims_dir, participant, delete=delete,
                              prefixes=(CLAIMS_PREFIX + "{p}/",)),
        "queued": queued(settings.state_dir / "queue.sqlite", participant, delete=delete),
    }


def queued(path: Path, participant: str, *, delete: bool) -> int:
    """The participant's units and storage events an interrupted run left queued; with ``delete``, dropped
    (with their dead letters), so the next run neither fetches for them nor records a failure under their id."""
    if not path.is_file():
        return 0
    from helper.queue import LocalQueue

    queue = LocalQueue(path)
    try:
        if delete:
            return queue.drop_participant(participant)
        mine = (f"raw/{participant}/", f"errors/{participant}/")
        return (sum(1 for u in queue.queued_units() if u.participant == participant)
                + sum(1 for name in queue.pending_objects() if name.startswith(mine)))
    finally:
        queue.close()


def raw_objects(raw_dir: Path, participant: str, *, delete: bool, prefixes: tuple[str, ...] = PARTICIPANT_PREFIXES) -> int:
    """Count (and with ``delete``, remove) the participant's raw and error objects and their metadata.

    Metadata is found where the store puts it (``helper.storage.metadata_file``: a name's first two folders,
    then one file name), and under the mirrored layout older versions wrote.
    """
    from helper.storage import metadata_file

    found = 0
    for prefix in prefixes:
        rel = prefix.format(p=participant)
        objects = raw_dir / "objects" / rel
        if objects.is_dir():
            files = [f for f in objects.rglob("*") if f.is_file() and not f.name.startswith(".tmp-")]
            found += len(files)
            if delete:
                for f in files:
                    (raw_dir / "metadata" / metadata_file(f.relative_to(raw_dir / "objects").as_posix())).unlink(
                        missing_ok=True)
                shutil.rmtree(objects)
        legacy = raw_dir / "metadata" / rel
        if delete and legacy.is_dir():
            shutil.rmtree(legacy)
    return found


def plan_entries(raw_dir: Path, participant: str, *, delete: bool) -> int:
    """Count (and with ``delete``, drop) the participant's units in stored run plans (``control/plan-*``).

    A plan lists ids, data types and dates only, but it names the participant, so withdrawal rewrites it.
    """
    found = 0
    for plan in sorted((raw_dir / "objects" / "control").glob("plan-*.json")):
        units = json.loads(plan.read_bytes())
        keep = [u for u in units if u.get("participant") != participant]
        found += len(units) - len(keep)
        if delete and len(keep) != len(units):
            tmp = plan.with_name(".tmp-" + plan.name)
            tmp.write_text(json.dumps(keep, separators=(",", ":")))
            os.replace(tmp, plan)
    return found


def staged_rows(staging_dir: Path, participant: str, *, delete: bool) -> int:
    """Count (and with ``delete``, remove) the participant's rows in batches staged but not yet flushed."""
    found = 0
    if not staging_dir.is_dir():
        return 0
    for batch in sorted(staging_dir.glob("*/*.ndjson")):
        lines = batch.read_bytes().splitlines(keepends=True)
        keep = [line for line in lines if json.loads(line).get("participant_id") != participant]
        found += len(lines) - len(keep)
        if delete and len(keep) != len(lines):
            if keep:
                tmp = batch.with_name(".tmp-" + batch.name)
                tmp.write_bytes(b"".join(keep))
                os.replace(tmp, batch)
            else:
                batch.unlink()
    return found


def warehouse_rows(warehouse: Warehouse, participant: str, *, delete: bool) -> dict[str, int]:
    """Rows of the participant per table (every table but the audit log); with ``delete``, remove them.

    One counting query for all tables (a query job each would cost seconds on BigQuery), then one DELETE per
    table that holds any.
    """
    who = f"participant_id IN ({sql_list([participant])})"
    tables = [t.name for t in all_tables() if t is not CONSENT_LOG_TABLE]
    counted = warehouse.query(" UNION ALL ".join(f"SELECT '{name}' AS t, COUNT(*) AS n FROM {name} WHERE {who}"
                                                 for name in tables))
    counts = {str(name): int(n) for name, n in counted if n}
    if delete:
        for name in sorted(counts):
            warehouse.query(f"DELETE FROM {name} WHERE {who}")
    return counts


def consent_history(warehouse: Warehouse, participant: str) -> list[tuple[str, str]]:
    """(action, when) of every consent change recorded for the participant, oldest first."""
    return [(a, str(t)) for a, t in warehouse.query(
        f"SELECT action, processed_at FROM consent_log WHERE participant_id IN ({sql_list([participant])}) "
        "ORDER BY processed_at")]
