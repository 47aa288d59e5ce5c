"""Deployment settings for provisioning: names, region, schedule, retention and retry knobs, validated."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from typing import Literal

Phase = Literal["pre-deploy", "post-deploy"]
PHASES: tuple[Phase, ...] = ("pre-deploy", "post-deploy")
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
PROJECT_NUMBER_PLACEHOLDER = "<project-number>"
# The names helper.secrets uses (not imported: it needs the Google client libraries at import).
PARTICIPANT_SECRET_PREFIX = "participant-"
OAUTH_CLIENT_SECRET = "oauth-client"
SECRET_LABELS = (("app", "fitbit-pipeline"),)

EXTRACT, TRANSFORM_LOAD = "extract", "transform_load"
# Deployed names: Cloud Run service names allow no underscores, so the function name is spelled with
# hyphens and the entry point keeps the Python name.
FUNCTION_NAMES = {EXTRACT: "fitbit-extract", TRANSFORM_LOAD: "fitbit-transform-load"}

APIS = (
    "artifactregistry.googleapis.com", "bigquery.googleapis.com", "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com", "cloudresourcemanager.googleapis.com", "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com", "health.googleapis.com", "iam.googleapis.com", "logging.googleapis.com",
    "pubsub.googleapis.com", "run.googleapis.com", "secretmanager.googleapis.com", "storage.googleapis.com",
)

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.~+%-]{2,254}$")  # Pub/Sub topic and subscription ids
_DATASET = re.compile(r"^[A-Za-z0-9_]{1,1024}$")


class ProvisioningError(RuntimeError):
    """A step cannot be done as planned; the message says what to do."""


@dataclass(frozen=True)
class Config:
    """What differs between deployments. Defaults are the documented ones (docs/deploy.md).

    Raises:
        ValueError: a value Google Cloud would reject, or an inconsistent pair (names the field).
    """

    project: str
    region: str = "europe-west1"
    project_number: str | None = None
    raw_bucket: str = ""  # "" → "<project>-fitbit-raw" (bucket names are global)
    build_bucket: str = ""  # "" → "<project>-fitbit-build": where `gcloud builds submit` uploads the source
    units_topic: str = "fitbit-units"
    dataset: str = "fitbit"
    time_zone: str = "UTC"
    daily_hour: int = 6
    flush_minute: int = 30
    refetch_days: int = 3
    raw_nearline_after_days: int = 30
    raw_delete_after_days: int = 400  # 0 keeps raw objects forever
    staging_delete_after_days: int = 14
    max_delivery_attempts: int = 30
    min_retry_delay_s: int = 10
    max_retry_delay_s: int = 600

    def __post_init__(self) -> None:
        if not _PROJECT_ID.match(self.project):
            raise ValueError(f"project {self.project!r} is not a Google Cloud project id")
        if not self.raw_bucket:
            object.__setattr__(self, "raw_bucket", f"{self.project}-fitbit-raw")
        if not self.build_bucket:
            object.__setattr__(self, "build_bucket", f"{self.project}-fitbit-build")
        if self.project_number is not None and not self.project_number.isdigit():
            raise ValueError("project_number must be the project's number (digits only)")
        for name in (self.raw_bucket, self.staging_bucket, self.build_bucket):
            if not _BUCKET.match(name) or ".." in name or name.startswith("goog"):
                raise ValueError(f"bucket name {name!r} is not valid (3-63 of a-z 0-9 - _ .); shorten raw_bucket")
        for name in (self.units_topic, self.dead_letter_topic):
            if not _NAME.match(name) or name.startswith("goog"):
                raise ValueError(f"topic name {name!r} is not a valid Pub/Sub id")
        if not _DATASET.match(self.dataset):
            raise ValueError(f"dataset {self.dataset!r} may hold only letters, digits and underscores")
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time_zone {self.time_zone!r} is not an IANA time zone") from None
        _between("daily_hour", self.daily_hour, 0, 23)
        _between("flush_minute", self.flush_minute, 0, 59)
        _between("refetch_days", self.refetch_days, 1, 90)
        _between("raw_nearline_after_days", self.raw_nearline_after_days, 0, 3650)
        _between("raw_delete_after_days", self.raw_delete_after_days, 0, 36500)
        _between("staging_delete_after_days", self.staging_delete_after_days, 1, 3650)
        _between("max_delivery_attempts", self.max_delivery_attempts, 5, 100)
        _between("min_retry_delay_s", self.min_retry_delay_s, 0, 600)
        _between("max_retry_delay_s", self.max_retry_delay_s, self.min_retry_delay_s, 600)
        if self.raw_delete_after_days and self.raw_delete_after_days <= self.raw_nearline_after_days:
            raise ValueError("raw_delete_after_days must be later than raw_nearline_after_days (or 0 to keep)")

    @property
    def staging_bucket(self) -> str:
        """The bucket helper.compose gives BigQueryWarehouse for staged NDJSON."""
        return f"{self.raw_bucket}-staging"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.units_topic}-dead-letter"

    @property
    def number(self) -> str:
        return self.project_number or PROJECT_NUMBER_PLACEHOLDER

    def service_account(self, account_id: str) -> str:
        return f"{account_id}@{self.project}.iam.gserviceaccount.com"


def _between(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}")
