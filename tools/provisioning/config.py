"""Deployment settings for provisioning: names, region, schedule, retention and retry knobs, validated.

Each field is one ``scripts/provision.py`` flag (``raw_bucket`` → ``--raw-bucket``); its help text lives in
the field's metadata, so ``--help`` and the flag table of docs/deploy.md (``--flags-table``) are one text.

The time zone is checked without depending on a tz database: the post-deploy phase runs on gcloud's own
Python in the Cloud SDK image, which may carry none (there even ``ZoneInfo("UTC")`` fails). A name is
checked against the database where one exists, and only for its IANA shape where none does; Cloud
Scheduler validates it again when the job is written.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field, fields
from typing import Literal

from tools.cloud_functions import FUNCTIONS

Phase = Literal["pre-deploy", "post-deploy"]
PHASES: tuple[Phase, ...] = ("pre-deploy", "post-deploy")
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
PROJECT_NUMBER_PLACEHOLDER = "<project-number>"
# The names helper.secrets uses (not imported: it needs the Google client libraries at import).
PARTICIPANT_SECRET_PREFIX = "participant-"
OAUTH_CLIENT_SECRET = "oauth-client"
# The names helper.webhooks uses: the webhook endpoint secret and the healthUserId → participant index.
WEBHOOK_SECRET = "webhook-authorization"
PARTICIPANT_INDEX_SECRET = "webhook-participants"
SECRET_LABELS = (("app", "fitbit-pipeline"),)

# Deployed names: Cloud Run service names allow no underscores, so the function name is spelled with
# hyphens and the entry point keeps the Python name (tools/cloud_functions.py declares them).
FUNCTION_NAMES = {f.name: f.deployed_name for f in FUNCTIONS}

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
# The shape of a tz database name ("UTC", "Europe/London", "America/Argentina/Buenos_Aires", "Etc/GMT-2").
_ZONE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+){0,2}$")


class ProvisioningError(RuntimeError):
    """A step cannot be done as planned; the message says what to do."""


@dataclass(frozen=True)
class Config:
    """What differs between deployments. Defaults are the documented ones (docs/deploy.md).

    Raises:
        ValueError: a value Google Cloud would reject, or an inconsistent pair (names the field).
    """

    project: str = field(metadata={"help": "Google Cloud project id"})
    region: str = field(default="europe-west1", metadata={
        "help": "region of the functions, buckets, dataset and scheduler (a bucket cannot move later)"})
    project_number: str | None = field(default=None, metadata={
        "help": "the project's number (looked up with gcloud when omitted)"})
    raw_bucket: str = field(default="", metadata={
        "help": "raw bucket (bucket names are global); staging is <raw bucket>-staging, webhook claims "
                "<raw bucket>-claims", "shown": "<project>-fitbit-raw"})
    build_bucket: str = field(default="", metadata={
        "help": "where `gcloud builds submit` uploads the source", "shown": "<project>-fitbit-build"})
    units_topic: str = field(default="fitbit-units", metadata={
        "help": "work-message topic; its dead-letter topic is <topic>-dead-letter"})
    dataset: str = field(default="fitbit", metadata={"help": "BigQuery dataset of the tables and views"})
    time_zone: str = field(default="UTC", metadata={"help": "IANA time zone of the two scheduler jobs"})
    daily_hour: int = field(default=6, metadata={"help": "hour of the daily run, `0 <hour> * * *` in --time-zone"})
    flush_minute: int = field(default=30, metadata={"help": "minute of each hourly flush, `<minute> * * * *`"})
    refetch_days: int = field(default=3, metadata={
        "help": "days each daily run re-reads (late syncs, sleep still processing)"})
    raw_nearline_after_days: int = field(default=30, metadata={
        "help": "raw objects move to NEARLINE after this many days (0: never)"})
    raw_delete_after_days: int = field(default=400, metadata={
        "help": "raw objects are deleted after this many days (0 keeps them forever)"})
    staging_delete_after_days: int = field(default=14, metadata={
        "help": "sweeps staged files a failed flush left behind (each flush deletes its own)"})
    max_delivery_attempts: int = field(default=30, metadata={
        "help": "deliveries before a message is dead-lettered (5-100)"})
    min_retry_delay_s: int = field(default=10, metadata={"help": "shortest backoff between deliveries, seconds"})
    max_retry_delay_s: int = field(default=600, metadata={"help": "longest backoff between deliveries, seconds (≤ 600)"})

    def __post_init__(self) -> None:
        if not _PROJECT_ID.match(self.project):
            raise ValueError(f"project {self.project!r} is not a Google Cloud project id")
        if not self.raw_bucket:
            object.__setattr__(self, "raw_bucket", f"{self.project}-fitbit-raw")
        if not self.build_bucket:
            object.__setattr__(self, "build_bucket", f"{self.project}-fitbit-build")
        if self.project_number is not None and not self.project_number.isdigit():
            raise ValueError("project_number must be the project's number (digits only)")
        for name in (self.raw_bucket, self.staging_bucket, self.claims_bucket, self.build_bucket):
            if not _BUCKET.match(name) or ".." in name or name.startswith("goog"):
                raise ValueError(f"bucket name {name!r} is not valid (3-63 of a-z 0-9 - _ .); shorten raw_bucket")
        for name in (self.units_topic, self.dead_letter_topic):
            if not _NAME.match(name) or name.startswith("goog"):
                raise ValueError(f"topic name {name!r} is not a valid Pub/Sub id")
        if not _DATASET.match(self.dataset):
            raise ValueError(f"dataset {self.dataset!r} may hold only letters, digits and underscores")
        _check_time_zone(self.time_zone)
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
    def claims_bucket(self) -> str:
        """The bucket helper.settings gives the notify function for its idempotency keys (no trigger on it)."""
        return f"{self.raw_bucket}-claims"

    @property
    def dead_letter_topic(self) -> str:
        return f"{self.units_topic}-dead-letter"

    @property
    def number(self) -> str:
        return self.project_number or PROJECT_NUMBER_PLACEHOLDER

    def service_account(self, account_id: str) -> str:
        return f"{account_id}@{self.project}.iam.gserviceaccount.com"


def flag(name: str) -> str:
    """The command-line spelling of a Config field: ``raw_bucket`` → ``--raw-bucket``."""
    return "--" + name.replace("_", "-")


def substitution(name: str) -> str:
    """The Cloud Build substitution that carries a Config field: ``raw_bucket`` → ``_RAW_BUCKET``."""
    return "_" + name.upper()


FIELDS = tuple(f.name for f in fields(Config))
# What cloudbuild.yaml's deploy steps read besides the plan's post-deploy resources: the region of every
# function and trigger, the raw bucket of the storage trigger, the units topic, and the env vars.
DEPLOY_FIELDS = ("region", "raw_bucket", "units_topic", "dataset")


def _check_time_zone(name: str) -> None:
    """Refuse a name that is not an IANA zone; consult the tz database only where there is one."""
    if not _ZONE.match(name):
        raise ValueError(f"time_zone {name!r} is not an IANA time zone name (e.g. Europe/London)")
    try:
        zoneinfo.ZoneInfo(name)
    except zoneinfo.ZoneInfoNotFoundError:
        if _has_tz_database():
            raise ValueError(f"time_zone {name!r} is not in the tz database") from None


def _has_tz_database() -> bool:
    try:
        zoneinfo.ZoneInfo("UTC")
    except zoneinfo.ZoneInfoNotFoundError:
        return False
    return True


def _between(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, not {value!r}")
