"""The outcome tables: one row per raw object (``processing_log``), one per point left out
(``rejected_points``), and the day outcomes behind the day ledger and the consent audit.

None ever holds a health value: status, counts, error classes, JSON paths and value-free reasons only.
A rejected point is one the parser could not turn into a row of its table (a value its column cannot hold,
such as an int64 beyond INT64 or a timestamp outside 0001-01-01..9999-12-31, or a point of the wrong
shape); the rest of its page loads, and the point stays in its raw object for a replay after a fix.
"""

from __future__ import annotations

from fitbit.catalogue.columns import Column
from fitbit.catalogue.common import CIVIL_DATE, LINEAGE, PARTICIPANT
from fitbit.catalogue.model import TableSpec

C = Column

PROCESSING_LOG_TABLE = TableSpec(
    "processing_log",
    "One row per raw object: outcome, row counts and error class. Never holds health values.",
    (
        PARTICIPANT, CIVIL_DATE,
        C("raw_object", "STRING", "The raw-store object processed"),
        C("data_type", "STRING", "Catalogue data type (or account read) of the unit"),
        C("method", "STRING", "Read method of the unit"),
        C("status", "STRING", "loaded, empty, failed, deferred or skipped"),
        C("error_class", "STRING", "Error class name when status is failed"),
        C("fix", "STRING", "What a person should do about a failure"),
        C("row_counts", "JSON", "Rows produced per table"),
        C("parse_counts", "JSON", "What the parser counted besides rows, by kind, never values: non_finite_nulled "
          "(NaN/Infinity stored as NULL), offsets_derived (points without offsets, zone used), names_derived, "
          "points_rejected (points left out, one rejected_points row each)"),
        C("attempt", "INT64", "Delivery attempt of the unit"),
        C("parser_version", "STRING", "Parser version"),
        C("processed_at", "TIMESTAMP", "When the object was processed"),
    ),
    ("raw_object",),
)

REJECTED_POINTS_TABLE = TableSpec(
    "rejected_points",
    "One row per data point (or track point, or account item) the parser left out of its table because it could "
    "not be read; the rest of its page loaded. Never holds the value: where it is and why",
    (
        PARTICIPANT,
        C("civil_date", "DATE", "The unit's first civil day, or the fetch date for units without one (partition "
          "field)"),
        C("data_type", "STRING", "Catalogue data type (or account read, or detail) of the unit"),
        C("method", "STRING", "Read method of the unit"),
        C("table_name", "STRING", "Warehouse table the point would have landed in"),
        C("json_path", "STRING", "Where the point sits in its raw object, e.g. dataPoints[17] or "
          "dataPoints[17].heartRate.beatsPerMinute when the field is known"),
        C("error_class", "STRING", "Exception class that rejected the point, e.g. ValueOutOfRange, UnexpectedResponse"),
        C("reason", "STRING", "Why, without the value: e.g. int64_out_of_range, timestamp_out_of_range, "
          "unreadable_value"),
        C("fix", "STRING", "What a person should do about it"),
        *LINEAGE,
    ),
    ("raw_object", "json_path"),
)

DAY_OUTCOMES_TABLE = TableSpec(
    "day_outcomes",
    "Per participant, civil day and data type: what each run planned and what each raw object gave "
    "(the day_ledger view folds them into one state). Never holds health values.",
    (
        PARTICIPANT, CIVIL_DATE,
        C("data_type", "STRING", "Catalogue data type"),
        C("method", "STRING", "Read method of the unit"),
        C("raw_object", "STRING", "The raw object (or the run's plan object) this row comes from"),
        C("outcome", "STRING", "planned, loaded, empty or failed"),
        C("rows", "INT64", "Rows the object produced for this day (0 for planned, empty, failed)"),
        C("error_class", "STRING", "Error class name when outcome is failed"),
        C("parser_version", "STRING", "Version of the parser that counted the rows"),
        C("processed_at", "TIMESTAMP", "When the run planned the day or the object was processed"),
    ),
    ("raw_object", "participant_id", "civil_date", "data_type", "method"),
)

CONSENT_LOG_TABLE = TableSpec(
    "consent_log",
    "Audit of consent changes (withdrawal, stopped collection): who, when, what was removed. No health values; "
    "kept when a participant's data is purged.",
    (
        PARTICIPANT,
        C("civil_date", "DATE", "UTC day of the change (partition field)"),
        C("action", "STRING", "withdraw (grant revoked, data purged) or stop-collection (grant revoked, data kept)"),
        C("revocation", "STRING", "revoked, already-invalid, no-grant or unreachable (revoke by hand)"),
        C("operator", "STRING", "Login name of whoever ran the command"),
        C("counts", "JSON", "What was removed: rows per table, raw objects, staged rows, secret"),
        C("raw_object", "STRING", "The audit event's id: consent/<participant>/<time>"),
        C("processed_at", "TIMESTAMP", "When the change was made"),
    ),
    ("raw_object",),
)
