"""A synthetic cohort written straight into an embedded warehouse, to measure and test the report at scale.

Running the pipeline on the simulator for 1,000 participants takes most of an hour on two cores (issue #14),
while the report only reads the views. So this writes rows of the catalogue's own tables (created by
``DuckDbWarehouse.ensure_schema``, the real DDL and views) with DuckDB SQL: one heart-rate row per worn
minute, daily steps, resting heart rate, active-zone minutes, one main sleep per night, a tracker sync per
participant, the settings row that extends coverage to the last day, and a few failed units in
``processing_log``. Seeded, so a figure is repeatable. Never shipped; no health value comes from a person.

The cohort has shapes a study meets: most participants wear the watch, some wear it half the time, a few
drop out (stop syncing) part-way, and a few fail with a consent error.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from helper.warehouse import DuckDbWarehouse
from tools.report.data import Grant

END = date(2026, 11, 5)
DATASET = "fitbit"


@dataclass(frozen=True)
class Cohort:
    path: Path
    participants: list[str]
    dropped_out: list[str]
    reconsent: list[str]
    grants: dict[str, Grant]


def build(folder: Path, participants: int, days: int, *, seed: int = 14) -> Cohort:
    """Write a cohort of ``participants`` x ``days`` civil days ending ``END`` into ``folder/warehouse.duckdb``."""
    import duckdb

    rng = random.Random(seed)
    ids = [f"p{i:04d}" for i in range(1, participants + 1)]
    first = END - timedelta(days=days - 1)
    dropped, reconsent, rows, syncs = [], [], [], []
    for n, p in enumerate(ids):
        habit = rng.choice((0.97,) * 7 + (0.7, 0.45))
        stop = rng.randint(1, days - 1) if days > 3 and rng.random() < 0.04 else None
        if stop is not None:
            dropped.append(p)
        if n % 97 == 5:
            reconsent.append(p)
        steps_mean, rhr = rng.lognormvariate(8.8, 0.35), rng.randint(50, 74)
        last_worn = None
        for k in range(days):
            day = first + timedelta(days=k)
            worn = 0 if stop is not None and k >= stop else \
                rng.randint(840, 1440) if rng.random() < habit else rng.randint(0, 560)
            if worn:
                last_worn = day
            asleep = rng.randint(300, 500) if worn and rng.random() < 0.9 else None
            rows.append((p, day, worn, round(steps_mean * rng.uniform(0.5, 1.5) * worn / 1440) if worn else None,
                         rhr + rng.randint(-2, 2) if worn >= 600 else None, asleep,
                         not (k == days - 1 and rng.random() < 0.15), rng.randint(0, 40), rng.randint(0, 20),
                         rng.randint(0, 6)))
        if last_worn is not None:
            syncs.append((p, datetime.combine(last_worn, time(8), UTC)))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warehouse.duckdb"
    warehouse = DuckDbWarehouse(path, DATASET, folder / "staging")
    warehouse.ensure_schema()
    warehouse.close()
    table = folder / "participant_days.csv"
    with table.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    db = duckdb.connect(str(path))
    try:
        db.execute(f'SET schema = "{DATASET}"')
        db.execute("SET enable_progress_bar = false")
        _write(db, table, ids, syncs, reconsent, END)
    finally:
        db.close()
    table.unlink()
    grants = {p: Grant(datetime(2026, 10, 1, tzinfo=UTC),
                       datetime(2026, 11, 6, tzinfo=UTC) if p in reconsent else None) for p in ids}
    return Cohort(path, ids, dropped, reconsent, grants)


def _write(db, table: Path, ids: list[str], syncs: list[tuple[str, datetime]], reconsent: list[str],  # noqa: ANN001
           end: date) -> None:
    db.execute(f"""CREATE TEMP TABLE pd AS SELECT * FROM read_csv('{table}', header=false, columns={{
        'participant_id': 'VARCHAR', 'civil_date': 'DATE', 'worn': 'INTEGER', 'steps': 'INTEGER', 'rhr': 'INTEGER',
        'asleep': 'INTEGER', 'processed': 'BOOLEAN', 'fat': 'INTEGER', 'cardio': 'INTEGER', 'peak': 'INTEGER'}})""")
    db.execute("""INSERT INTO heart_rate_1min (participant_id, civil_date, start_time, end_time, bpm_avg)
        SELECT participant_id, civil_date, CAST(civil_date AS TIMESTAMP) + to_minutes(m),
               CAST(civil_date AS TIMESTAMP) + to_minutes(m + 1), 70
        FROM (SELECT participant_id, civil_date, unnest(range(worn)) AS m FROM pd WHERE worn > 0)""")
    db.execute("INSERT INTO steps_daily (participant_id, civil_date, steps) "
               "SELECT participant_id, civil_date, steps FROM pd WHERE steps IS NOT NULL")
    db.execute("INSERT INTO daily_resting_heart_rate (participant_id, civil_date, resting_bpm) "
               "SELECT participant_id, civil_date, rhr FROM pd WHERE rhr IS NOT NULL")
    db.execute("""INSERT INTO active_zone_minutes_daily (participant_id, civil_date, fat_burn_minutes, cardio_minutes,
        peak_minutes) SELECT participant_id, civil_date, fat, cardio, peak FROM pd WHERE worn > 0""")
    db.execute("""INSERT INTO sleep_sessions (participant_id, civil_date, data_point_name, start_time, end_time,
            sleep_type, minutes_in_sleep_period, minutes_asleep, minutes_awake, stage_light_minutes,
            stage_deep_minutes, stage_rem_minutes, main_sleep, nap, processed)
        SELECT participant_id, civil_date, participant_id || '/sleep/' || civil_date,
               CAST(civil_date AS TIMESTAMP) - INTERVAL 1 HOUR - to_minutes(asleep + 40),
               CAST(civil_date AS TIMESTAMP) - INTERVAL 1 HOUR, 'STAGES', asleep + 40, asleep, 40,
               asleep * 55 // 100, asleep * 20 // 100, asleep - asleep * 55 // 100 - asleep * 20 // 100,
               TRUE, FALSE, processed
        FROM pd WHERE asleep IS NOT NULL""")
    _many(db, "INSERT INTO paired_devices (participant_id, civil_date, device_name, device_type, last_sync_time) "
                   "VALUES (?, ?, 'Watch', 'TRACKER', ?)", [(p, end, at) for p, at in syncs])
    _many(db, "INSERT INTO participant_settings (participant_id, civil_date, time_zone) "
                   "VALUES (?, ?, 'Europe/Berlin')", [(p, end) for p in ids])
    _many(db, "INSERT INTO processing_log (participant_id, civil_date, raw_object, data_type, method, status, "
                   "error_class, fix) VALUES (?, ?, ?, 'steps', 'dailyRollUp', 'failed', 'ReconsentNeeded', ?)",
                   [(p, end, f"raw/{p}/steps/{end}", f"run `python scripts/authorise.py --participant {p}` again")
                    for p in reconsent])


def _many(db, sql: str, rows: list[tuple]) -> None:  # noqa: ANN001
    if rows:  # DuckDB refuses an empty parameter list
        db.executemany(sql, rows)
