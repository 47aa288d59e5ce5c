"""``fitbit-pipeline export``: tables and views to CSV or Parquet (one file each), for R, pandas, Sheets, Tableau.

DuckDB writes both formats itself (``COPY ... TO``), so no extra library is needed. ``--pseudonymise``
replaces ``participant_id`` with a stable HMAC-SHA256 id under a study key (the same key gives the same ids
in every export, so exports can be joined; without the key they cannot be traced back) and drops the
columns that name a participant or an account another way (raw object paths, API resource names).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
from pathlib import Path

from fitbit.catalogue import CONSENT_LOG_TABLE, all_tables
from helper.views import VIEWS
from tools.cli import bigquery_export, sheets
from tools.cli.common import EXIT_OK, CliError, Context, civil_date, date_range, duckdb_connection, participant_list, \
    rows_filter, sql_list

# Columns that identify a participant or their Google account besides participant_id.
IDENTIFYING = frozenset({"raw_object", "data_point_name", "health_user_id"})
MIN_KEY_BYTES = 16


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export tables and views to CSV or Parquet (one file each), or to a Google Sheet",
                       description="Writes OUT/<table>.<csv|parquet> for every table and view (the audit log "
                       "consent_log is never exported). Filters apply to relations with the column. With "
                       "--to-sheet: three views into a Google Sheet instead (tools/cli/sheets.py).")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--out", type=Path, metavar="DIR", help="folder for the files (created; required without --to-sheet)")
    p.add_argument("--from", dest="start", type=civil_date, metavar="DATE", help="first civil day")
    p.add_argument("--to", dest="end", type=civil_date, metavar="DATE", help="last civil day")
    p.add_argument("--participants", type=participant_list, metavar="ID,ID", help="only these")
    p.add_argument("--tables", type=lambda s: [t for t in s.split(",") if t], metavar="NAME,NAME",
                   help="only these tables or views (default: all)")
    p.add_argument("--pseudonymise", action="store_true",
                   help="replace participant ids with HMAC-SHA256 ids under the study key; drop identifying columns")
    p.add_argument("--study-key-file", type=Path, metavar="FILE",
                   help="the study key (>= 16 bytes; default: $FITBIT_STUDY_KEY)")
    sheets.add_arguments(p)
    p.set_defaults(handler=export)


def pseudonym(key: bytes, participant_id: str) -> str:
    """The stable pseudonymous id of a participant under a study key."""
    return "p_" + hmac.new(key, participant_id.encode(), hashlib.sha256).hexdigest()[:24]


def study_key(args: argparse.Namespace) -> bytes:
    if args.study_key_file:
        try:
            key = args.study_key_file.read_bytes().strip()
        except OSError as exc:
            raise CliError(f"cannot read the study key: {exc}") from None
    else:
        key = os.environ.get("FITBIT_STUDY_KEY", "").encode()
    if len(key) < MIN_KEY_BYTES:
        raise CliError(f"--pseudonymise needs a study key of at least {MIN_KEY_BYTES} bytes (--study-key-file or "
                       "FITBIT_STUDY_KEY); keep it secret and keep it: the same key gives the same ids")
    return key


def relations(wanted: list[str] | None) -> list[str]:
    known = [t.name for t in all_tables() if t is not CONSENT_LOG_TABLE] + list(VIEWS)
    if not wanted:
        return known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise CliError(f"unknown table or view: {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def export(args: argparse.Namespace, ctx: Context) -> int:
    ctx.require_state_dir()
    date_range(args.start, args.end)
    if args.to_sheet is None and args.out is None:
        raise CliError("--out DIR is required (or --to-sheet SPREADSHEET_ID)")
    names = relations(args.tables)
    key = study_key(args) if args.pseudonymise else None
    with ctx.warehouse(read_only=True) as wh:
        if args.participants:
            known = set(ctx.enrolled()) | {p for (p,) in wh.query("SELECT DISTINCT participant_id FROM processing_log")}
            unknown = sorted(set(args.participants) - known)
            if unknown:
                raise CliError(f"unknown participant(s): {', '.join(unknown)}")
        if args.to_sheet is not None:
            rename = (lambda p: pseudonym(key, p)) if key is not None else None
            return sheets.export_to_sheet(args, ctx, wh, rename=rename, drop=IDENTIFYING if key else frozenset())
        args.out.mkdir(parents=True, exist_ok=True)
        total = 0
        for name in names:
            if ctx.gcp:  # BigQuery: the exported rows into a scratch DuckDB, written by the same code
                with bigquery_export.scratch(wh, name, args) as db:
                    rows = _copy(db, name, args, key)
            else:
                rows = _copy(duckdb_connection(wh), name, args, key)
            total += rows
            print(f"{name}: {rows} rows", file=ctx.out)
    print(f"export: {len(names)} files ({args.format}), {total} rows in {args.out.resolve()}", file=ctx.out)
    return EXIT_OK


def _pseudonyms(db: object, name: str, key: bytes) -> str:
    """participant_id mapped to its pseudonym as a CASE expression (an id not in the map becomes NULL, never itself)."""
    ids = [p for (p,) in db.execute(f'SELECT DISTINCT participant_id FROM "{name}"').fetchall()  # type: ignore[attr-defined]
           if p is not None]
    if not ids:
        return "CAST(NULL AS VARCHAR)"
    cases = " ".join(f"WHEN {sql_list([p])} THEN '{pseudonym(key, p)}'" for p in ids)
    return f"CASE participant_id {cases} ELSE NULL END"


def _copy(db: object, name: str, args: argparse.Namespace, key: bytes | None) -> int:
    columns = [d[0] for d in db.execute(f'SELECT * FROM "{name}" LIMIT 0').description]  # type: ignore[attr-defined]
    select = []
    for c in columns:
        if key is not None and c in IDENTIFYING:
            continue
        if key is not None and c == "participant_id":
            select.append(f'{_pseudonyms(db, name, key)} AS "participant_id"')
        else:
            select.append(f'"{c}"')
    query = f'SELECT {", ".join(select)} FROM "{name}"' + rows_filter(columns, args)
    target = args.out / f"{name}.{args.format}"
    options = "FORMAT parquet" if args.format == "parquet" else "FORMAT csv, HEADER true"
    path = str(target).replace("'", "''")
    db.execute(f"COPY ({query}) TO '{path}' ({options})")  # type: ignore[attr-defined]
    return int(db.execute(f"SELECT COUNT(*) FROM ({query})").fetchone()[0])  # type: ignore[attr-defined]
