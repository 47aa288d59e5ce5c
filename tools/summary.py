"""The end-of-run summary a person reads: rows per table, completeness per participant-day, failures.

Completeness is heart-rate coverage (1-minute windows with data; a window is absent when the device
was off the wrist), shown as hours worn per civil day. What the parser did about live-API shapes is
counted too (issue #12): values nulled because they were NaN or infinite (from the processing log:
they are NULL in the tables, indistinguishable there), points whose offsets came from the participant's
time zone, points keyed without a resource name, and rows marked deleted because a complete re-fetch no
longer returned them. Queries are BigQuery SQL, run on either warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from fitbit.catalogue import TypeRead, all_tables, tracked_tables, unit_kinds
from fitbit.ports import Warehouse


@dataclass(frozen=True)
class Summary:
    rows: dict[str, int]
    worn_hours: dict[str, dict[date, float]]
    failures: list[tuple[str, str, str, int]]  # participant, data type, error class, count
    quarantined: list[tuple[str, str, str]] = field(default_factory=list)  # participant, data type, raw object
    live: LiveShapes | None = None

    @property
    def total_rows(self) -> int:
        return sum(n for table, n in self.rows.items() if table != "processing_log")

    @property
    def failed_objects(self) -> int:
        return sum(f[3] for f in self.failures)


@dataclass(frozen=True)
class LiveShapes:
    """What the pipeline did about what live accounts send (counts only, never values)."""

    nan_nulled: int  # values (processing_log.parse_counts.non_finite_nulled, summed over pages)
    nan_pages: int
    derived_offsets: dict[str, int]  # participant -> point rows whose offsets came from the time zone
    names_derived: int
    deleted: dict[str, int]  # table -> rows marked deleted_at


def point_tables() -> list[str]:
    """Tables of data-point reads with offsets (rollUp windows always take the zone's: not counted)."""
    return sorted({k.table.name for k in unit_kinds().values() if isinstance(k, TypeRead)
                   and k.read.method != "rollUp" and "offset_source" in k.table.column_names})


def live_shapes(warehouse: Warehouse) -> LiveShapes:
    nulled, pages = warehouse.query(
        "SELECT COALESCE(SUM(CAST(JSON_VALUE(parse_counts, '$.non_finite_nulled') AS INT64)), 0), "
        "COUNTIF(JSON_VALUE(parse_counts, '$.non_finite_nulled') IS NOT NULL) FROM processing_log")[0]
    derived: dict[str, int] = {}
    for table in point_tables():
        for participant, n in warehouse.query(
                f"SELECT participant_id, COUNT(*) FROM {table} WHERE offset_source = 'account_time_zone' GROUP BY 1"):
            derived[participant] = derived.get(participant, 0) + int(n)
    unnamed = sum(int(warehouse.query(f"SELECT COUNT(*) FROM {t.name} WHERE name_derived")[0][0])
                  for t in all_tables() if "name_derived" in t.column_names)
    deleted = {t.name: int(warehouse.query(f"SELECT COUNT(*) FROM {t.name} WHERE deleted_at IS NOT NULL")[0][0])
               for t in tracked_tables()}
    return LiveShapes(int(nulled or 0), int(pages or 0), dict(sorted(derived.items())), unnamed,
                      {t: n for t, n in deleted.items() if n})


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
    return Summary(rows, worn, failures, quarantined, live_shapes(warehouse))


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
    if summary.live is not None:
        lines += render_live_shapes(summary.live)
    return "\n".join(lines)


def render_live_shapes(live: LiveShapes) -> list[str]:
    offsets = ", ".join(f"{p} {n:,}" for p, n in live.derived_offsets.items()) or "none"
    deleted = ", ".join(f"{t} {n}" for t, n in live.deleted.items()) or "none"
    return [
        "what live accounts send (issue #12):",
        f"  NaN / Infinity values nulled: {live.nan_nulled} (in {live.nan_pages} pages; processing_log.parse_counts)",
        f"  points with offsets derived from the participant's time zone: {sum(live.derived_offsets.values()):,} "
        f"({offsets})",
        f"  points without a resource name, keyed by source and start: {live.names_derived}",
        f"  rows marked deleted (a complete re-fetch no longer returned them; kept, left out of the views): "
        f"{sum(live.deleted.values())} ({deleted})",
    ]
