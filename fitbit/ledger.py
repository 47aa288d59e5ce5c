"""The day ledger's rows: what each raw object (or each run's plan) says about participant-days.

The ledger answers "which participant × civil day × data type is complete, partial, without data, failed or
still pending", and it must never show "nothing worn" and "not fetched" alike. It is built from one table,
``day_outcomes`` (``fitbit.catalogue.log``), which the pipeline writes in two places:

- when a run fans out, each planned unit's days are recorded as ``planned`` (``planned_rows``): a day that is
  planned and has no outcome yet is *pending*;
- when transform_load records an object's outcome, each day of the unit's window gets one row
  (``outcome_rows``): ``loaded`` with the number of rows that fell on that day, ``empty`` (the API answered
  with nothing), or ``failed`` with the error class.

The view ``day_ledger`` (``helper/sql/views/day_ledger.sql``) folds these rows into one state per cell. A
unit covers several days (one request per window), and a day's rows can span several pages, so the state is
an aggregate over every object that covered the day, never the last object alone. Only the catalogue's data
types are ledgered; account reads and per-data-point details are not days of data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from fitbit.catalogue import DATA_TYPES
from fitbit.parse import PARSER_VERSION
from fitbit.timefmt import utc_text
from fitbit.unit import Unit

LEDGERED = frozenset(dt.path_id for dt in DATA_TYPES)
STATES = ("complete", "partial", "no-data", "failed", "pending")
MAX_DAYS = 400  # a unit never spans more (the API caps windows far below); guards a malformed unit


def unit_days(unit: Unit) -> list[date]:
    """The civil days a unit's window covers (``end`` exclusive); a unit without a window covers none."""
    if unit.start is None:
        return []
    if unit.end is None or unit.end <= unit.start:
        return [unit.start]
    span = min((unit.end - unit.start).days, MAX_DAYS)
    return [unit.start + timedelta(days=i) for i in range(span)]


def _row(unit: Unit, day: date, source: str, outcome: str, rows: int, error_class: str | None,
         at: datetime) -> dict[str, Any]:
    return {"participant_id": unit.participant, "civil_date": day.isoformat(), "data_type": unit.data_type,
            "method": unit.method, "raw_object": source, "outcome": outcome, "rows": rows,
            "error_class": error_class, "parser_version": PARSER_VERSION, "processed_at": utc_text(at)}


def planned_rows(units: Iterable[Unit], plan_name: str, at: datetime) -> list[dict[str, Any]]:
    """One ``planned`` row per day of every ledgered unit of a run (``plan_name`` names the run's plan)."""
    return [_row(u, day, plan_name, "planned", 0, None, at)
            for u in units if u.data_type in LEDGERED for day in unit_days(u)]


def outcome_rows(unit: Unit, raw_object: str, status: str, table_rows: Sequence[Mapping[str, Any]],
                 error_class: str | None, at: datetime) -> list[dict[str, Any]]:
    """One row per day of the unit's window for one processed object.

    Args:
        unit: the unit the object answered.
        raw_object: the object's name (the row's ``source``).
        status: the processing-log status (``loaded``, ``empty`` or ``failed``).
        table_rows: the rows the page produced for the unit's own table (their ``civil_date`` is counted).
        error_class: the error class of a failure.
        at: when the object was processed.
    """
    if unit.data_type not in LEDGERED:
        return []
    if status == "failed":
        return [_row(unit, day, raw_object, "failed", 0, error_class, at) for day in unit_days(unit)]
    per_day: dict[str, int] = {}
    for row in table_rows:
        key = str(row.get("civil_date"))
        per_day[key] = per_day.get(key, 0) + 1
    out = []
    for day in unit_days(unit):
        count = per_day.get(day.isoformat(), 0)
        out.append(_row(unit, day, raw_object, "loaded" if count else "empty", count, None, at))
    return out
