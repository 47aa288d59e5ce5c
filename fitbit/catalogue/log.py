"""The processing log: one row per raw object (status, counts, error class; never a health value)."""

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
