"""Columns every row carries, decided by the record type and the read method.

Time is explicit: each row keeps the physical UTC instant, the user's civil (wall-clock) time and the
UTC offset, because the API stores all three (offsets as Duration strings such as "-18000s") and a
participant who travels or crosses DST cannot be reconstructed from one of them. Daily types carry
only a civil date (no instant, no offset) and must never be turned into one. rollUp windows are UTC
buckets without an offset; their civil time is derived from the account's IANA zone, and the column
``offset_source`` says so.

The partition field is the civil date for everything: it is what every analysis groups by, and it is
present on every table. ``LINEAGE`` closes every parsed table; the parser fills all of it but
``loaded_at``, which transform_load stamps when it stages the rows.
"""

from __future__ import annotations

from fitbit.catalogue.columns import Column

C = Column

PARTICIPANT = C("participant_id", "STRING", "Study participant id (the enrolment id, not the Google account)")
CIVIL_DATE = C("civil_date", "DATE", "The participant's local calendar day the row belongs to (partition field)")

INTERVAL_TIME = (
    C("start_time", "TIMESTAMP", "Interval start, physical UTC instant"),
    C("end_time", "TIMESTAMP", "Interval end (exclusive), physical UTC instant"),
    C("start_utc_offset_s", "INT64", "User's UTC offset at the start, seconds"),
    C("end_utc_offset_s", "INT64", "User's UTC offset at the end, seconds"),
    C("civil_start_time", "DATETIME", "Interval start on the user's wall clock"),
    C("civil_end_time", "DATETIME", "Interval end on the user's wall clock"),
)
SAMPLE_TIME = (
    C("sample_time", "TIMESTAMP", "Sample instant, physical UTC"),
    C("utc_offset_s", "INT64", "User's UTC offset at the sample, seconds"),
    C("civil_time", "DATETIME", "Sample time on the user's wall clock"),
)
ROLLUP_TIME = (
    C("start_time", "TIMESTAMP", "Rollup window start, physical UTC instant"),
    C("end_time", "TIMESTAMP", "Rollup window end (exclusive), physical UTC instant"),
    C("utc_offset_s", "INT64", "UTC offset at the window start from the account time zone, seconds"),
    C("civil_start_time", "DATETIME", "Window start on the user's wall clock (derived from the account time zone)"),
    C("offset_source", "STRING", "Where the offset came from: 'account_time_zone' (rollUp windows carry none)"),
)
SOURCE = (
    C("source_key", "STRING", "Stable hash of the data source (device + platform + application); part of raw keys"),
    C("source_platform", "STRING", "dataSource.platform, e.g. FITBIT, HEALTH_CONNECT"),
    C("source_recording_method", "STRING", "dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL"),
    C("source_device", "STRING", "dataSource.device.displayName"),
    C("source_form_factor", "STRING", "dataSource.device.formFactor, e.g. WATCH, PHONE"),
    C("source_application", "STRING", "dataSource.application.packageName or client id"),
)
DATA_POINT_NAME = C("data_point_name", "STRING", "API resource name of an identifiable point (sleep, exercise)")
LINEAGE = (
    C("raw_object", "STRING", "Raw-store object this row was parsed from"),
    C("parser_version", "STRING", "Version of the parser that produced the row"),
    C("fetched_at", "TIMESTAMP", "When extract fetched the page; newer fetches win on reload"),
    C("loaded_at", "TIMESTAMP", "When the row was merged into the table"),
)
# The lineage the parser writes; ``loaded_at`` is stamped by transform_load.
PARSED_LINEAGE = tuple(c.name for c in LINEAGE if c.name != "loaded_at")


def time_columns(record_type: str, method: str) -> tuple[Column, ...]:
    if method == "dailyRollUp" or record_type == "daily":
        return ()
    if method == "rollUp":
        return ROLLUP_TIME
    if record_type == "sample":
        return SAMPLE_TIME
    return INTERVAL_TIME


def common_columns(record_type: str, method: str, *, identifiable: bool, with_source: bool) -> tuple[Column, ...]:
    """All non-value columns that lead a read's table, in table order (value columns, then lineage, follow)."""
    cols: list[Column] = [PARTICIPANT, CIVIL_DATE, *time_columns(record_type, method)]
    if identifiable and method in ("list", "reconcile"):
        cols.append(DATA_POINT_NAME)
    if with_source:
        cols.extend(SOURCE)
    return tuple(cols)
