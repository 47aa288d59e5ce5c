"""Tables that do not come from a data type's read: account state, follow-up details, processing log.

- ``participant_settings``: users.getSettings (IANA time zone, offset, units) snapshotted per day; the
  time zone is how rollUp windows get a civil time.
- ``paired_devices``: users.pairedDevices.list; ``last_sync_time`` explains "missing" days.
- ``exercise_tcx_points``: the exercise_tcx follow-up's track points.
- ``processing_log``: one row per raw object (status, counts, error class; never a health value).
"""

from __future__ import annotations

from dataclasses import dataclass

from fitbit.catalogue.common import CIVIL_DATE, LINEAGE, PARTICIPANT
from fitbit.catalogue.entries import SETTINGS
from fitbit.catalogue.model import Column, TableSpec

C = Column


@dataclass(frozen=True)
class AccountRead:
    """A users.* endpoint read once per participant per run."""

    name: str  # the unit's data_type value in work messages
    path: str  # relative to v4/users/me
    scope: str
    table: TableSpec
    items_key: str | None  # the array holding rows; None when the body is one row


SETTINGS_TABLE = TableSpec(
    "participant_settings",
    "The participant's account settings per day they were read (time zone drives civil times)",
    (
        PARTICIPANT, CIVIL_DATE,
        C("time_zone", "STRING", "timeZone", "IANA time zone of the account"),
        C("utc_offset_s", "INT64", "utcOffset", "Current UTC offset, seconds", conversion="duration_s"),
        C("distance_unit", "STRING", "distanceUnit", "Preferred distance unit"),
        C("weight_unit", "STRING", "weightUnit", "Preferred weight unit"),
        C("language_locale", "STRING", "languageLocale", "Locale"),
        *LINEAGE,
    ),
    ("participant_id", "civil_date"),
)

DEVICES_TABLE = TableSpec(
    "paired_devices",
    "Paired trackers and scales per day they were read; last_sync_time explains gaps",
    (
        PARTICIPANT, CIVIL_DATE,
        C("device_name", "STRING", "name", "Device resource name"),
        C("device_type", "STRING", "deviceType", "TRACKER or SCALE"),
        C("device_version", "STRING", "deviceVersion", "Model, e.g. Charge 6"),
        C("battery_status", "STRING", "batteryStatus", "High, Medium, Low, Empty"),
        C("battery_level", "INT64", "batteryLevel", "Battery percent"),
        C("last_sync_time", "TIMESTAMP", "lastSyncTime", "Last time the device synced"),
        *LINEAGE,
    ),
    ("participant_id", "civil_date", "device_name"),
)

TCX_TABLE = TableSpec(
    "exercise_tcx_points",
    "Track points of exercise sessions exported as TCX (exercise_tcx follow-up)",
    (
        PARTICIPANT, CIVIL_DATE,
        C("data_point_name", "STRING", "unused", "The exercise session the track belongs to"),
        C("point_time", "TIMESTAMP", "unused", "Track point instant, UTC"),
        C("latitude", "FLOAT64", "unused", "Latitude, degrees"),
        C("longitude", "FLOAT64", "unused", "Longitude, degrees"),
        C("altitude_m", "FLOAT64", "unused", "Altitude, metres"),
        C("distance_m", "FLOAT64", "unused", "Cumulative distance, metres"),
        C("heart_rate_bpm", "INT64", "unused", "Heart rate, bpm"),
        *LINEAGE,
    ),
    ("participant_id", "data_point_name", "point_time"),
)

PROCESSING_LOG_TABLE = TableSpec(
    "processing_log",
    "One row per raw object: outcome, row counts and error class. Never holds health values.",
    (
        PARTICIPANT, CIVIL_DATE,
        C("raw_object", "STRING", "unused", "The raw-store object processed"),
        C("data_type", "STRING", "unused", "Catalogue data type (or account read) of the unit"),
        C("method", "STRING", "unused", "Read method of the unit"),
        C("status", "STRING", "unused", "loaded, empty, failed, deferred or skipped"),
        C("error_class", "STRING", "unused", "Error class name when status is failed"),
        C("fix", "STRING", "unused", "What a person should do about a failure"),
        C("row_counts", "JSON", "unused", "Rows produced per table", conversion="json"),
        C("attempt", "INT64", "unused", "Delivery attempt of the unit"),
        C("parser_version", "STRING", "unused", "Parser version"),
        C("processed_at", "TIMESTAMP", "unused", "When the object was processed"),
    ),
    ("raw_object",),
)

ACCOUNT_READS: tuple[AccountRead, ...] = (
    AccountRead("settings", "settings", SETTINGS, SETTINGS_TABLE, None),
    AccountRead("paired-devices", "pairedDevices", SETTINGS, DEVICES_TABLE, "pairedDevices"),
)
