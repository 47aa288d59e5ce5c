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

Runtime = Literal["local", "gcp"]
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

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.json"

    @property
    def raw_dir(self) -> Path:
        return self.state_dir / "raw"

    @property
    def warehouse_file(self) -> Path:
        return self.state_dir / "warehouse.duckdb"

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
        )


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
