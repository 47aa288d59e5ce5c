"""Typed settings, read once from the environment over local defaults.

Why typed: a flag read as a raw string makes "False" true (seen in a seed project). Booleans, numbers
and paths are parsed here and rejected with a message naming the variable, so a bad deployment fails
at the first event instead of half-working. Nothing is read at import; ``Settings.from_env()`` is
called by the composition function of each entry point.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping

from fitbit.webhooks.signature import GOOGLE_KEYSET_URL as WEBHOOK_KEYSET_URL

Runtime = Literal["local", "gcp"]
# Where grants live: a 0600 file (local default) or Secret Manager (gcp default). "file" on gcp is for the
# emulated stack only: Secret Manager has no emulator.
SecretsBackend = Literal["file", "secret-manager"]
GOOGLE_HEALTH_API = "https://health.googleapis.com/"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    runtime: Runtime = "local"
    state_dir: Path = Path(".state")
    api_base_url: str = GOOGLE_HEALTH_API
    # Base URL of the OAuth endpoints when they are not Google's (the simulator serves both).
    oauth_base_url: str | None = None
    gcp_project: str | None = None
    raw_bucket: str = "fitbit-raw"
    units_topic: str = "fitbit-units"
    dataset: str = "fitbit"
    bigquery_endpoint: str | None = None
    refetch_days: int = 3
    max_attempts: int = 8
    sleep_refetch_delay_s: float = 3600.0
    max_sleep_refetches: int = 6
    heart_rate_seconds: bool = False
    oauth_app_verified: bool = False  # Google verified the OAuth app: 300 requests/min per user, > 100 users
    secrets_backend: SecretsBackend = "file"
    # Webhooks (functions/notify): Google's public signing keyset, the coalescing window, and whether a
    # notification must carry the endpoint secret (one live report: Google sends it only while verifying).
    webhook_keyset_url: str = WEBHOOK_KEYSET_URL
    webhook_coalesce_s: float = 60.0
    webhook_require_authorization: bool = False
    # Google Sheets kept current by the scheduled flush (helper/sheet_export.py): the spreadsheet shared with the
    # transform_load service account, and the UTC hour whose flush writes the last days (None: no export).
    sheets_export_spreadsheet_id: str | None = None
    sheets_export_hour_utc: int = 8

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.json"

    @property
    def raw_dir(self) -> Path:
        return self.state_dir / "raw"

    @property
    def claims_bucket(self) -> str:
        """Where notify claims its idempotency keys: a bucket without a trigger (tools/cloud_functions.py)."""
        return f"{self.raw_bucket}-claims"

    @property
    def claims_dir(self) -> Path:
        return self.state_dir / "claims"

    @property
    def warehouse_file(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

    def to_env(self) -> dict[str, str]:
        """The environment that makes ``from_env`` rebuild exactly these settings.

        The local runtime exports it so the functions, which read their settings from the environment
        as they do on Cloud Functions, see the runtime's own configuration.
        """
        env = {
            "FITBIT_RUNTIME": self.runtime, "FITBIT_STATE_DIR": str(self.state_dir),
            "HEALTH_API_BASE_URL": self.api_base_url, "RAW_BUCKET": self.raw_bucket,
            "UNITS_TOPIC": self.units_topic, "BQ_DATASET": self.dataset, "REFETCH_DAYS": str(self.refetch_days),
            "MAX_ATTEMPTS": str(self.max_attempts), "SLEEP_REFETCH_DELAY_S": repr(self.sleep_refetch_delay_s),
            "MAX_SLEEP_REFETCHES": str(self.max_sleep_refetches),
            "HEART_RATE_SECONDS": "true" if self.heart_rate_seconds else "false",
            "OAUTH_APP_VERIFIED": "true" if self.oauth_app_verified else "false",
            "SECRETS_BACKEND": self.secrets_backend,
            "WEBHOOK_KEYSET_URL": self.webhook_keyset_url, "WEBHOOK_COALESCE_S": repr(self.webhook_coalesce_s),
            "WEBHOOK_REQUIRE_AUTHORIZATION": "true" if self.webhook_require_authorization else "false",
        }
        optional = {"OAUTH_BASE_URL": self.oauth_base_url, "GCP_PROJECT": self.gcp_project,
                    "BIGQUERY_EMULATOR_HOST": self.bigquery_endpoint,
                    "SHEETS_EXPORT_SPREADSHEET_ID": self.sheets_export_spreadsheet_id}
        env["SHEETS_EXPORT_HOUR_UTC"] = str(self.sheets_export_hour_utc)
        env.update({k: v for k, v in optional.items() if v})
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        runtime = env.get("FITBIT_RUNTIME", "local")
        if runtime not in ("local", "gcp"):
            raise SettingsError(f"FITBIT_RUNTIME must be 'local' or 'gcp', not {runtime!r}")
        project = env.get("GCP_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or None
        if runtime == "gcp" and not project:
            raise SettingsError("GCP_PROJECT (or GOOGLE_CLOUD_PROJECT) is required when FITBIT_RUNTIME=gcp")
        return cls(
            runtime=runtime,  # type: ignore[arg-type]
            state_dir=Path(env.get("FITBIT_STATE_DIR", ".state")),
            api_base_url=_url(env, "HEALTH_API_BASE_URL", GOOGLE_HEALTH_API),
            oauth_base_url=_url(env, "OAUTH_BASE_URL", None),
            gcp_project=project,
            raw_bucket=env.get("RAW_BUCKET", "fitbit-raw"),
            units_topic=env.get("UNITS_TOPIC", "fitbit-units"),
            dataset=env.get("BQ_DATASET", "fitbit"),
            bigquery_endpoint=env.get("BIGQUERY_EMULATOR_HOST") or None,
            refetch_days=_int(env, "REFETCH_DAYS", 3, low=1, high=90),
            max_attempts=_int(env, "MAX_ATTEMPTS", 8, low=1, high=100),
            sleep_refetch_delay_s=_float(env, "SLEEP_REFETCH_DELAY_S", 3600.0, low=0.0),
            max_sleep_refetches=_int(env, "MAX_SLEEP_REFETCHES", 6, low=0, high=100),
            heart_rate_seconds=_bool(env, "HEART_RATE_SECONDS", False),
            oauth_app_verified=_bool(env, "OAUTH_APP_VERIFIED", False),
            secrets_backend=_secrets_backend(env, runtime),
            webhook_keyset_url=(_url(env, "WEBHOOK_KEYSET_URL", WEBHOOK_KEYSET_URL) or "").rstrip("/"),
            webhook_coalesce_s=_float(env, "WEBHOOK_COALESCE_S", 60.0, low=1.0),
            webhook_require_authorization=_bool(env, "WEBHOOK_REQUIRE_AUTHORIZATION", False),
            sheets_export_spreadsheet_id=env.get("SHEETS_EXPORT_SPREADSHEET_ID") or None,
            sheets_export_hour_utc=_int(env, "SHEETS_EXPORT_HOUR_UTC", 8, low=0, high=23),
        )


def _secrets_backend(env: Mapping[str, str], runtime: str) -> SecretsBackend:
    value = env.get("SECRETS_BACKEND") or ("secret-manager" if runtime == "gcp" else "file")
    if value not in ("file", "secret-manager"):
        raise SettingsError(f"SECRETS_BACKEND must be 'file' or 'secret-manager', not {value!r}")
    return value  # type: ignore[return-value]


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = env.get(name) or default
    if value is None:
        return None
    if not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http(s) URL")
    return value if value.endswith("/") else value + "/"


def _int(env: Mapping[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, low: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < low:
        raise SettingsError(f"{name} must be at least {low}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")
