"""What every subcommand shares: exit codes, the state dir, settings, participants, dates, the warehouse.

Exit codes (the README documents them): 0 done; 1 failures were recorded (the run finished, some units
failed; ``status`` says which); 2 usage or configuration (bad arguments, unknown participant, missing state
dir: nothing was changed); 3 action needed by a person (re-consent, a grant about to expire, another run
holding the state dir).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from helper.secrets import LocalSecretStore, SecretStore, check_participant_id, enrolled_participants
from helper.settings import Settings, SettingsError
from helper.warehouse import DuckDbWarehouse

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_ACTION = 0, 1, 2, 3
APP_NAME = "fitbit-pipeline"
# Failures a person must act on (a new consent); the run cannot fix them by trying again.
ACTION_ERRORS = frozenset({"ReconsentNeeded", "ScopeMissing", "AccountNotLinked"})


class CliError(Exception):
    """A failure the command reports as one message and an exit code (never a traceback)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def default_state_dir() -> Path:
    """The per-user data directory (``~/.local/share/fitbit-pipeline`` on Linux, XDG_DATA_HOME honoured)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


@dataclass
class Context:
    """The global options, resolved once; ``out``/``err`` are injectable for tests.

    ``runtime`` "local" (default): the state dir's DuckDB warehouse, raw files and secrets file. "gcp": the
    deployment the environment describes, as on Cloud Functions (``FITBIT_RUNTIME=gcp``, ``GCP_PROJECT``,
    ``RAW_BUCKET``, ``BQ_DATASET``, ``SECRETS_BACKEND``...): BigQuery, Cloud Storage, Secret Manager.
    """

    state_dir: Path
    api_base_url: str | None = None
    oauth_base_url: str | None = None
    out: TextIO = field(default=sys.stdout)
    err: TextIO = field(default=sys.stderr)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    runtime: str = "local"
    state_dir_given: bool = True

    @classmethod
    def from_args(cls, args: argparse.Namespace, out: TextIO, err: TextIO) -> Context:
        return cls(Path(args.state_dir) if args.state_dir else default_state_dir(), args.api_base_url,
                   args.oauth_base_url, out, err, runtime=getattr(args, "runtime", "local"),
                   state_dir_given=bool(args.state_dir))

    @property
    def gcp(self) -> bool:
        return self.runtime == "gcp"

    def require_state_dir(self) -> Path:
        """The state dir, which must exist (commands that read it never create an empty one).

        On ``--runtime gcp`` nothing lives in it (a file secrets backend, for the emulated stack, names its
        own ``FITBIT_STATE_DIR``), so it is not required.
        """
        if not self.gcp and not self.state_dir.is_dir():
            raise CliError(f"no state dir at {self.state_dir}: pass --state-dir, or start with "
                           f"`{APP_NAME} authorise PARTICIPANT`")
        return self.state_dir

    def settings(self) -> Settings:
        """Settings from the environment, with this command's runtime, state dir and base URLs over them."""
        env = dict(os.environ)
        env["FITBIT_RUNTIME"] = self.runtime
        if not self.gcp or self.state_dir_given:
            env["FITBIT_STATE_DIR"] = str(self.state_dir)
        if self.api_base_url:
            env["HEALTH_API_BASE_URL"] = self.api_base_url
        if self.oauth_base_url:
            env["OAUTH_BASE_URL"] = self.oauth_base_url
        try:
            return Settings.from_env(env)
        except SettingsError as exc:
            raise CliError(f"configuration: {exc}") from None

    def adapters(self) -> Any:
        """The deployment's adapters (``--runtime gcp``), built from the settings as the functions build theirs.

        The pipeline's JSON log lines go to stderr here (first configuration wins): stdout is the command's
        output, which ``status --json`` keeps machine-readable.
        """
        from helper import logs
        from helper.compose import adapters

        logs.configure(stream=sys.stderr)
        return adapters(self.settings())

    def store(self) -> SecretStore:
        if self.gcp:
            return self.adapters().secrets
        return LocalSecretStore(self.state_dir / "secrets.json")

    def enrolled(self) -> list[str]:
        try:
            return enrolled_participants(self.store())
        except (OSError, ValueError) as exc:
            raise CliError(f"cannot read the grants: {exc}") from None

    def participants(self, wanted: Sequence[str] | None) -> list[str]:
        """The enrolled participants, or the ``wanted`` ones after checking each is enrolled."""
        enrolled = self.enrolled()
        if not wanted:
            return enrolled
        unknown = [p for p in wanted if p not in enrolled]
        if unknown:
            raise CliError(f"unknown participant(s): {', '.join(unknown)}; enrolled: "
                           f"{', '.join(enrolled) or 'none (run `fitbit-pipeline authorise PARTICIPANT`)'}")
        return list(wanted)

    @contextmanager
    def warehouse(self, *, read_only: bool = False) -> Iterator[Any]:
        """The warehouse: BigQuery on ``--runtime gcp``, else the embedded one of an existing state dir.

        Writable: its schema and views are brought up to date first (``ensure_schema``). Read-only: the file is
        not touched at all (what validation and reporting use, so a refused command changes nothing). DuckDB
        lets one process write: while a run has the file open, a read-only open fails, and the message names
        the run (the state lock's holder) instead of DuckDB's lock error.
        """
        settings = self.settings()
        if self.gcp:
            warehouse = self.adapters().warehouse()
            if not read_only:
                warehouse.ensure_schema()
            yield warehouse
            return
        if not settings.warehouse_file.is_file():
            raise CliError(f"no warehouse in {self.state_dir} yet: run `{APP_NAME} run` first")
        try:
            warehouse = DuckDbWarehouse(settings.warehouse_file, settings.dataset, self.state_dir / "staging",
                                        read_only=read_only)
        except Exception as exc:  # noqa: BLE001 - duckdb's lock error has no stable class to name
            raise self._busy(f"cannot open {settings.warehouse_file} ({type(exc).__name__})") from None
        try:
            if not read_only:
                warehouse.ensure_schema()
            yield warehouse
        finally:
            warehouse.close()

    def _busy(self, fallback: str) -> CliError:
        from tools.state_lock import holder

        pid = holder(self.state_dir)
        if pid is not None:
            return CliError(f"a run is in progress (pid {pid or 'unknown'}); try again when it ends", EXIT_ACTION)
        return CliError(f"{fallback}: is another program using it?", EXIT_ACTION)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the state dir as a run does (withdraw): refused with exit 3 while a run holds it."""
        if self.gcp:
            yield
            return
        from tools.state_lock import AnotherRunInProgress, StateLock

        try:
            lock = StateLock.acquire(self.state_dir)
        except AnotherRunInProgress as exc:
            raise CliError(f"a run is in progress (pid {exc.pid or 'unknown'}); try again when it ends",
                           EXIT_ACTION) from None
        try:
            yield
        finally:
            lock.release()


def duckdb_connection(warehouse: DuckDbWarehouse) -> Any:
    """The embedded warehouse's DuckDB connection, in its dataset's schema (``COPY ... TO`` and
    ``information_schema`` need the connection itself, not ``query``'s BigQuery-to-DuckDB transpiling)."""
    db = warehouse._db
    db.execute(f'SET schema = "{warehouse.dataset}"')
    return db


def unsupported_on_gcp(ctx: Context, command: str, instead: str) -> None:
    """Refuse ``--runtime gcp`` for a command that only runs locally, saying what to do instead (exit 2)."""
    if ctx.gcp:
        raise CliError(f"`{command}` does not run with --runtime gcp: {instead}")


def civil_date(text: str) -> date:
    """argparse type for YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def participant_list(text: str) -> list[str]:
    """argparse type for a comma-separated participant list (each a valid participant id)."""
    ids = [p.strip() for p in text.split(",") if p.strip()]
    try:
        for p in ids:
            check_participant_id(p)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not ids:
        raise argparse.ArgumentTypeError("no participant given")
    return ids


def date_range(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise CliError(f"--from {start} is after --to {end}")


def sql_list(values: Sequence[str]) -> str:
    """A SQL IN-list of checked identifiers (participant ids, data types are [A-Za-z0-9_-])."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def rows_filter(columns: Collection[str], args: argparse.Namespace) -> str:
    """`` WHERE ...`` for ``--from``/``--to``/``--participants``, on the relations that have the column (or "")."""
    where = []
    if "civil_date" in columns and args.start:
        where.append(f"civil_date >= DATE '{args.start}'")
    if "civil_date" in columns and args.end:
        where.append(f"civil_date <= DATE '{args.end}'")
    if "participant_id" in columns and args.participants:
        where.append(f"participant_id IN ({sql_list(args.participants)})")
    return f" WHERE {' AND '.join(where)}" if where else ""
