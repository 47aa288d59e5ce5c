"""Columns every row carries, decided by the record type and the read method.

Time is explicit: each row keeps the physical UTC instant, the user's civil (wall-clock) time and the
UTC offset, because the API stores all three (offsets as Duration strings such as "-18000s") and a
participant who travels or crosses DST cannot be reconstructed from one of them. Daily types carry
only a civil date (no instant, no offset) and must never be turned into one. rollUp windows are UTC
buckets without an offset, and points synced through Health Connect may arrive with neither offsets nor
civil times (live reports, team spec §12): their offset is derived from the participant's IANA zone at
that instant, and the column ``offset_source`` says which rows that holds for ('point' or
'account_time_zone'). A zero offset is omitted by proto3 JSON, so a point that carries any of its own
time fields (an offset or a civil time) has a zero where one is missing.

The partition field is the civil date for everything: it is what every analysis groups by, and it is
present on every table. ``LINEAGE`` closes every parsed table; the parser fills all of it but
``loaded_at``, which transform_load stamps when it stages the rows.
"""

from __future__ import annotations

from fitbit.catalogue.columns import Column

C = Column

PARTICIPANT = C("participant_id", "STRING", "Study participant id (the enrolment id, not the Google account)")
CIVIL_DATE = C("civil_date", "DATE", "The participant's local calendar day the row belongs to (partition field)")

OFFSET_SOURCE = C("offset_source", "STRING",
                  "Where the offsets came from: 'point' (the point's own offsets or civil times) or "
                  "'account_time_zone' (the participant's IANA zone at that instant: rollUp windows, and points "
                  "sent without offsets or civil times, e.g. through Health Connect)")
INTERVAL_TIME = (
    C("start_time", "TIMESTAMP", "Interval start, physical UTC instant"),
    C("end_time", "TIMESTAMP", "Interval end (exclusive), physical UTC instant"),
    C("start_utc_offset_s", "INT64", "User's UTC offset at the start, seconds"),
    C("end_utc_offset_s", "INT64", "User's UTC offset at the end, seconds"),
    C("civil_start_time", "DATETIME", "Interval start on the user's wall clock"),
    C("civil_end_time", "DATETIME", "Interval end on the user's wall clock"),
    OFFSET_SOURCE,
)
SAMPLE_TIME = (
    C("sample_time", "TIMESTAMP", "Sample instant, physical UTC"),
    C("utc_offset_s", "INT64", "User's UTC offset at the sample, seconds"),
    C("civil_time", "DATETIME", "Sample time on the user's wall clock"),
    OFFSET_SOURCE,
)
ROLLUP_TIME = (
    C("start_time", "TIMESTAMP", "Rollup window start, physical UTC instant"),
    C("end_time", "TIMESTAMP", "Rollup window end (exclusive), physical UTC instant"),
    C("utc_offset_s", "INT64", "UTC offset at the window start from the account time zone, seconds"),
    C("civil_start_time", "DATETIME", "Window start on the user's wall clock (derived from the account time zone)"),
    OFFSET_SOURCE,
)
SOURCE = (
    C("source_key", "STRING", "Stable hash of the data source (device + platform + application); part of raw keys"),
    C("source_platform", "STRING", "dataSource.platform, e.g. FITBIT, HEALTH_CONNECT"),
    C("source_recording_method", "STRING", "dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL"),
    C("source_device", "STRING", "dataSource.device.displayName"),
    C("source_manufacturer", "STRING", "dataSource.device.manufacturer"),
    C("source_form_factor", "STRING", "dataSource.device.formFactor, e.g. WATCH, PHONE"),
    C("source_application", "STRING", "dataSource.application.packageName or client id"),
)
DATA_POINT_NAME = C("data_point_name", "STRING",
                    "API resource name of the point; for sessions sent without one, 'derived/<source_key>/<start>'")
POINT_NAME = C("data_point_name", "STRING", "API resource name of the point (NULL when the API sent none)")
NAME_DERIVED = C("name_derived", "BOOL",
                 "True when the API sent no resource name and data_point_name was derived from source and start")
# The warehouse, not the parser, sets this one (helper/tombstones.py): the API has no tombstones.
DELETED_AT = C("deleted_at", "TIMESTAMP",
               "When a complete re-fetch of the row's window no longer returned it (deleted at the source); "
               "NULL while the API returns it. Views leave deleted rows out; the table keeps them")
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


def common_columns(record_type: str, method: str, *, identifiable: bool, with_source: bool,
                   named: bool = False) -> tuple[Column, ...]:
    """All non-value columns that lead a read's table, in table order (value columns, then lineage, follow).

    ``identifiable`` types are keyed by their resource name (derived when the API sent none, and marked);
    ``named`` ones carry it as a plain column (weight, body fat: it is how a deletion can be told apart).
    """
    cols: list[Column] = [PARTICIPANT, CIVIL_DATE, *time_columns(record_type, method)]
    if identifiable and method in ("list", "reconcile"):
        cols += [DATA_POINT_NAME, NAME_DERIVED]
    elif named and method in ("list", "reconcile"):
        cols.append(POINT_NAME)
    if with_source:
        cols.extend(SOURCE)
    return tuple(cols)
