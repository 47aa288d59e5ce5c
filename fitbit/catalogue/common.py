"""Columns every row carries, decided by the record type and the read method.

Time is explicit: each row keeps the physical UTC instant, the user's civil (wall-clock) time and the
UTC offset, because the API stores all three (offsets as Duration strings such as "-18000s") and a
participant who travels or crosses DST cannot be reconstructed from one of them. Daily types carry
only a civil date (no instant, no offset) and must never be turned into one. rollUp windows are UTC
buckets without an offset; their civil time is derived from the account's IANA zone, and the column
``offset_source`` says so.

The partition field is the civil date for everything: it is what every analysis groups by, and it is
present on every table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fitbit.catalogue.model import Column

if TYPE_CHECKING:
    from fitbit.catalogue.model import DataType, Read


def _c(name: str, type_: str, description: str) -> Column:
    # path is unused for common columns: the parser fills them from the envelope, not the value.
    return Column(name=name, type=type_, path="unused", description=description)  # type: ignore[arg-type]


PARTICIPANT = _c("participant_id", "STRING", "Study participant id (the enrolment id, not the Google account)")
CIVIL_DATE = _c("civil_date", "DATE", "The participant's local calendar day the row belongs to (partition field)")

INTERVAL_TIME = (
    _c("start_time", "TIMESTAMP", "Interval start, physical UTC instant"),
    _c("end_time", "TIMESTAMP", "Interval end (exclusive), physical UTC instant"),
    _c("start_utc_offset_s", "INT64", "User's UTC offset at the start, seconds"),
    _c("end_utc_offset_s", "INT64", "User's UTC offset at the end, seconds"),
    _c("civil_start_time", "DATETIME", "Interval start on the user's wall clock"),
    _c("civil_end_time", "DATETIME", "Interval end on the user's wall clock"),
)
SAMPLE_TIME = (
    _c("sample_time", "TIMESTAMP", "Sample instant, physical UTC"),
    _c("utc_offset_s", "INT64", "User's UTC offset at the sample, seconds"),
    _c("civil_time", "DATETIME", "Sample time on the user's wall clock"),
)
ROLLUP_TIME = (
    _c("start_time", "TIMESTAMP", "Rollup window start, physical UTC instant"),
    _c("end_time", "TIMESTAMP", "Rollup window end (exclusive), physical UTC instant"),
    _c("utc_offset_s", "INT64", "UTC offset at the window start from the account time zone, seconds"),
    _c("civil_start_time", "DATETIME", "Window start on the user's wall clock (derived from the account time zone)"),
    _c("offset_source", "STRING", "Where the offset came from: 'account_time_zone' (rollUp windows carry none)"),
)
SOURCE = (
    _c("source_key", "STRING", "Stable hash of the data source (device + platform + application); part of raw keys"),
    _c("source_platform", "STRING", "dataSource.platform, e.g. FITBIT, HEALTH_CONNECT"),
    _c("source_recording_method", "STRING", "dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL"),
    _c("source_device", "STRING", "dataSource.device.displayName"),
    _c("source_form_factor", "STRING", "dataSource.device.formFactor, e.g. WATCH, PHONE"),
    _c("source_application", "STRING", "dataSource.application.packageName or client id"),
)
DATA_POINT_NAME = _c("data_point_name", "STRING", "API resource name of an identifiable point (sleep, exercise)")
LINEAGE = (
    _c("raw_object", "STRING", "Raw-store object this row was parsed from"),
    _c("parser_version", "STRING", "Version of the parser that produced the row"),
    _c("fetched_at", "TIMESTAMP", "When extract fetched the page; newer fetches win on reload"),
    _c("loaded_at", "TIMESTAMP", "When the row was merged into the table"),
)


def time_columns(data_type: DataType, read: Read) -> tuple[Column, ...]:
    if read.method == "dailyRollUp" or data_type.record_type == "daily":
        return ()
    if read.method == "rollUp":
        return ROLLUP_TIME
    if data_type.record_type == "sample":
        return SAMPLE_TIME
    return INTERVAL_TIME


def common_columns(data_type: DataType, read: Read) -> tuple[Column, ...]:
    """All non-value columns of a read's table, in table order (value columns follow them)."""
    cols: list[Column] = [PARTICIPANT, CIVIL_DATE, *time_columns(data_type, read)]
    if data_type.identifiable and read.method in ("list", "reconcile"):
        cols.append(DATA_POINT_NAME)
    if read.with_source:
        cols.extend(SOURCE)
    return tuple(cols)


def common_column_names(data_type: DataType, read: Read) -> tuple[str, ...]:
    return tuple(c.name for c in common_columns(data_type, read)) + tuple(c.name for c in LINEAGE)
