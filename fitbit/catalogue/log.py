"""The processing log (one row per raw object) and the day outcomes behind the day ledger; never a health value."""

from __future__ import annotations

from fitbit.catalogue.columns import Column
from fitbit.catalogue.common import CIVIL_DATE, PARTICIPANT
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
          "(NaN/Infinity stored as NULL), offsets_derived (points without offsets, zone used), names_derived"),
        C("attempt", "INT64", "Delivery attempt of the unit"),
        C("parser_version", "STRING", "Parser version"),
        C("processed_at", "TIMESTAMP", "When the object was processed"),
    ),
    ("raw_object",),
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
