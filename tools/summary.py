"""The end-of-run summary a person reads: rows per table, completeness per participant-day, failures.

Completeness is heart-rate coverage (1-minute windows with data; a window is absent when the device
was off the wrist), shown as hours worn per civil day. Queries are BigQuery SQL, run on either warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fitbit.catalogue import all_tables
from fitbit.ports import Warehouse


@dataclass(frozen=True)
class Summary:
    rows: dict[str, int]
    worn_hours: dict[str, dict[date, float]]
    failures: list[tuple[str, str, str, int]]  # participant, data type, error class, count
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # participant, data type, raw object

    @property
    def total_rows(self) -> int:
        return sum(n for table, n in self.rows.items() if table != "processing_log")

    @property
    def failed_objects(self) -> int:
        return sum(f[3] for f in self.failures)


def summarise(warehouse: Warehouse) -> Summary:
    rows = {t.name: int(warehouse.query(f"SELECT COUNT(*) FROM {t.name}")[0][0]) for t in all_tables()}
    worn: dict[str, dict[date, float]] = {}
    for participant, day, minutes in warehouse.query(
        "SELECT participant_id, civil_date, COUNT(*) FROM heart_rate_1min GROUP BY 1, 2 ORDER BY 1, 2"
    ):
        worn.setdefault(participant, {})[day] = round(minutes / 60.0, 1)
    failures = [
        (p, t, e or "?", int(n))
        for p, t, e, n in warehouse.query(
            "SELECT participant_id, data_type, error_class, COUNT(*) FROM processing_log "
            "WHERE status = 'failed' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        )
    ]
    quarantined = [(p, t, o) for p, t, o in warehouse.query(
        "SELECT participant_id, data_type, raw_object FROM processing_log WHERE status = 'quarantined' "
        "ORDER BY 1, 2, 3")]
    return Summary(rows, worn, failures, quarantined)


def render(summary: Summary, *, deferred: int, dead_lettered: list[str]) -> str:
    lines = ["rows per table:"]
    width = max(len(t) for t in summary.rows)
    lines += [f"  {table:<{width}}  {count:>9,}" for table, count in summary.rows.items()]
    days = sorted({d for per_day in summary.worn_hours.values() for d in per_day})
    if days:
        lines.append("hours worn per participant and civil day (heart-rate coverage):")
        lines.append("  participant  " + " ".join(d.strftime("%m-%d") for d in days))
        for participant, per_day in sorted(summary.worn_hours.items()):
            cells = " ".join(f"{per_day[d]:5.1f}" if d in per_day else "    -" for d in days)
            lines.append(f"  {participant:<11}  {cells}")
    lines.append(f"deferred units (rate limited, retried later): {deferred}")
    lines.append(f"failed objects: {summary.failed_objects}; dead-lettered events: {len(dead_lettered)}")
    lines += [f"  {p} {t}: {e} x{n}" for p, t, e, n in summary.failures]
    lines += [f"  dead letter: {d}" for d in dead_lettered]
    if summary.quarantined:
        lines.append(f"quarantined batches (the warehouse refused them; set aside, the rest loaded; "
                     f"processing_log.fix says what to do): {len(summary.quarantined)}")
        lines += [f"  {p} {t}: {o}" for p, t, o in summary.quarantined]
    return "\n".join(lines)
