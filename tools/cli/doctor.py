"""``fitbit-pipeline doctor``: checks the setup, one line per check: ok / warn / fail, with the fix.

Checks (stable names, for scripts that grep): settings, state-dir, oauth-client, api, clock, grant:<id>
(the refresh works, the scopes are exactly the catalogue's), time-zone:<id>, schema (the warehouse's tables
and columns against the catalogue), disk. With --runtime gcp: settings, api, clock, grants and time zones
from the deployment's secret store, schema of the BigQuery dataset, and bucket (the raw bucket answers) in
place of state-dir and disk. Exit 0 with warnings only, 1 on any failure, 3 when a grant needs a new consent.
"""

from __future__ import annotations

import argparse
import shutil
import stat
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from fitbit.catalogue import all_tables, required_scopes
from fitbit.errors import PipelineError, ReconsentNeeded
from fitbit.oauth import TokenSource
from helper.secrets import load_grant, load_oauth_client
from tools.cli.common import EXIT_ACTION, EXIT_FAILURES, EXIT_OK, CliError, Context, duckdb_connection

SKEW_WARN_S, SKEW_FAIL_S = 60, 300
DISK_WARN, DISK_FAIL = 1 << 30, 100 << 20


@dataclass(frozen=True)
class Check:
    name: str
    level: str  # ok / warn / fail
    detail: str
    fix: str = ""
    consent: bool = False  # only a new consent fixes it (exit 3)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check settings, API, grants, time zones, schema, disk, clock",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(handler=doctor)


def _state(ctx: Context) -> list[Check]:
    mode = stat.S_IMODE(ctx.state_dir.stat().st_mode)
    if mode & 0o077:
        return [Check("state-dir", "warn", f"{ctx.state_dir} is mode {mode:04o} (holds refresh tokens)",
                      f"chmod 700 {ctx.state_dir}")]
    return [Check("state-dir", "ok", str(ctx.state_dir))]


def _api(ctx: Context, base_url: str) -> list[Check]:
    try:
        response = requests.get(base_url, timeout=10)
    except requests.RequestException as exc:
        return [Check("api", "fail", f"{base_url} unreachable ({type(exc).__name__})",
                      "check the network, or --api-base-url")]
    checks = [Check("api", "ok", f"{base_url} answered HTTP {response.status_code}")]
    date_header = response.headers.get("Date")
    if not date_header:
        return [*checks, Check("clock", "warn", "the API sent no Date header; skew unknown")]
    skew = abs((parsedate_to_datetime(date_header) - ctx.now).total_seconds())
    level = "fail" if skew > SKEW_FAIL_S else "warn" if skew > SKEW_WARN_S else "ok"
    return [*checks, Check("clock", level, f"{skew:.0f} s from the API's clock",
                           "" if level == "ok" else "enable time sync (timedatectl set-ntp true)")]


def _grants(ctx: Context) -> list[Check]:
    store = ctx.store()
    config = load_oauth_client(store)
    if config is None:
        return [Check("oauth-client", "fail", "no OAuth client stored",
                      "fitbit-pipeline authorise PARTICIPANT --client-secrets FILE")]
    if ctx.oauth_base_url:
        config = config.with_endpoints_of(ctx.oauth_base_url)
    checks = [Check("oauth-client", "ok", config.client_id[:12] + "...")]
    wanted = set(required_scopes())
    for participant in ctx.enrolled():
        fix = f"fitbit-pipeline authorise {participant}"
        try:
            grant = load_grant(store, participant)
            tokens = TokenSource(config, grant.refresh_token, grant.scopes, participant_id=participant)
            tokens()
            granted = set(tokens.granted_scopes or grant.scopes)
        except ReconsentNeeded as exc:
            checks.append(Check(f"grant:{participant}", "fail", f"refresh refused: {exc}", fix, consent=True))
            continue
        except (PipelineError, ValueError) as exc:
            checks.append(Check(f"grant:{participant}", "fail", f"refresh failed ({type(exc).__name__})",
                                getattr(exc, "fix", fix)))
            continue
        missing, extra = wanted - granted, granted - wanted
        if missing:
            checks.append(Check(f"grant:{participant}", "fail", f"{len(missing)} scope(s) not granted", fix,
                                consent=True))
        elif extra:
            checks.append(Check(f"grant:{participant}", "warn", f"{len(extra)} scope(s) beyond the catalogue's",
                                f"{fix} (asks for exactly the catalogue's scopes)"))
        else:
            checks.append(Check(f"grant:{participant}", "ok", f"refresh works, {len(granted)} scopes exact"))
        checks.append(_zone(participant, grant.time_zone, fix))
    return checks


def _zone(participant: str, zone: str | None, fix: str) -> Check:
    if not zone:
        return Check(f"time-zone:{participant}", "warn", "unknown: rollUp times fall back to UTC",
                     f"set the time zone in the Fitbit app, then {fix}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return Check(f"time-zone:{participant}", "fail", f"{zone!r} is not an IANA zone here",
                     "pip install tzdata, or update the system's zoneinfo")
    return Check(f"time-zone:{participant}", "ok", zone)


def _columns(ctx: Context) -> list[tuple[str, str]]:
    with ctx.warehouse(read_only=True) as wh:
        if ctx.gcp:
            return wh.query(f"SELECT table_name, column_name FROM `{wh.dataset}`.INFORMATION_SCHEMA.COLUMNS")
        return duckdb_connection(wh).execute("SELECT table_name, column_name FROM information_schema.columns "
                                             "WHERE table_schema = ?", [wh.dataset]).fetchall()


def _schema(ctx: Context) -> list[Check]:
    if not ctx.gcp and not ctx.settings().warehouse_file.is_file():
        return [Check("schema", "warn", "no warehouse yet", "fitbit-pipeline run")]
    try:
        columns = _columns(ctx)
    except CliError:
        raise
    except Exception as exc:  # noqa: BLE001 - any Google API error: the check fails with its class
        return [Check("schema", "fail", f"dataset {ctx.settings().dataset} unreadable ({type(exc).__name__})",
                      "check BQ_DATASET and GCP_PROJECT, and that provisioning created the dataset")]
    have: dict[str, set[str]] = {}
    for table, column in columns:
        have.setdefault(table, set()).add(column)
    missing = [f"{t.name}.{c}" for t in all_tables() for c in t.column_names if c not in have.get(t.name, set())]
    if missing:
        return [Check("schema", "fail", f"{len(missing)} column(s) missing, e.g. {missing[0]}",
                      "the warehouse predates this version: export what you need and start a new state dir")]
    return [Check("schema", "ok", f"{len(all_tables())} tables match the catalogue")]


def _bucket(ctx: Context) -> Check:
    bucket = ctx.settings().raw_bucket
    try:
        ctx.adapters().store.exists("raw/")
    except Exception as exc:  # noqa: BLE001 - any Google API error: the check fails with its class
        return Check("bucket", "fail", f"gs://{bucket} unreadable ({type(exc).__name__})",
                     "check RAW_BUCKET and GCP_PROJECT, and this account's storage.objects.list on it")
    return Check("bucket", "ok", f"gs://{bucket} answers")


def _disk(ctx: Context) -> Check:
    free = shutil.disk_usage(ctx.state_dir).free
    level = "fail" if free < DISK_FAIL else "warn" if free < DISK_WARN else "ok"
    return Check("disk", level, f"{free / (1 << 30):.1f} GiB free", "" if level == "ok" else "free some space")


def doctor(args: argparse.Namespace, ctx: Context) -> int:
    ctx.require_state_dir()
    try:
        settings = ctx.settings()
        where = f"project {settings.gcp_project}, dataset {settings.dataset}" if ctx.gcp else "local"
        checks = [Check("settings", "ok", f"runtime {where}, API {settings.api_base_url}")]
    except CliError as exc:
        checks = [Check("settings", "fail", str(exc), "fix the environment variable it names")]
        settings = None
    checks += [] if ctx.gcp else _state(ctx)
    if settings is not None:
        checks += _api(ctx, settings.api_base_url) + _grants(ctx) + _schema(ctx)
        checks += [_bucket(ctx)] if ctx.gcp else []
    checks += [] if ctx.gcp else [_disk(ctx)]
    for c in checks:
        print(f"{c.level:4}  {c.name}: {c.detail}" + (f"\n      fix: {c.fix}" if c.fix else ""), file=ctx.out)
    fails = [c for c in checks if c.level == "fail"]
    print(f"doctor: {len(checks) - len(fails)} passed or warned, {len(fails)} failed", file=ctx.out)
    if any(c.consent for c in fails):
        return EXIT_ACTION
    return EXIT_FAILURES if fails else EXIT_OK
