"""Account reads: ``users.*`` endpoints read once per participant per run, each with its own table.

- ``settings`` → ``participant_settings``: users.getSettings (IANA time zone, offset, units) snapshotted
  per day; the time zone is how rollUp windows get a civil time.
- ``paired-devices`` → ``paired_devices``: users.pairedDevices.list; ``last_sync_time`` explains
  "missing" days.
"""

from __future__ import annotations

from fitbit.calls import ApiCall, paired_devices_call, settings_call
from fitbit.catalogue.columns import value_column
from fitbit.catalogue.kinds import AccountRead
from fitbit.catalogue.model import SETTINGS

C = value_column


def _settings(page_token: str | None) -> ApiCall:
    return settings_call()  # one object, never paged


SETTINGS_READ = AccountRead(
    "settings", SETTINGS, _settings, "participant_settings",
    "The participant's account settings per day they were read (time zone drives civil times)",
    (
        C("time_zone", "STRING", "timeZone", "IANA time zone of the account"),
        C("utc_offset_s", "INT64", "utcOffset", "Current UTC offset, seconds", conversion="duration_s"),
        C("distance_unit", "STRING", "distanceUnit", "Preferred distance unit"),
        C("weight_unit", "STRING", "weightUnit", "Preferred weight unit"),
        C("language_locale", "STRING", "languageLocale", "Locale"),
    ),
    ("participant_id", "civil_date"),
)

PAIRED_DEVICES_READ = AccountRead(
    "paired-devices", SETTINGS, paired_devices_call, "paired_devices",
    "Paired trackers and scales per day they were read; last_sync_time explains gaps",
    (
        C("device_name", "STRING", "name", "Device resource name"),
        C("device_type", "STRING", "deviceType", "TRACKER or SCALE"),
        C("device_version", "STRING", "deviceVersion", "Model, e.g. Charge 6"),
        C("battery_status", "STRING", "batteryStatus", "High, Medium, Low, Empty"),
        C("battery_level", "INT64", "batteryLevel", "Battery percent"),
        C("last_sync_time", "TIMESTAMP", "lastSyncTime", "Last time the device synced"),
    ),
    ("participant_id", "civil_date", "device_name"),
)

ACCOUNT_READS: tuple[AccountRead, ...] = (SETTINGS_READ, PAIRED_DEVICES_READ)
