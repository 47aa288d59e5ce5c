"""``fitbit-pipeline export --to-sheet SPREADSHEET_ID``: the daily summary, sleep and completeness views into a
Google Sheet, one tab each, replacing only the exported range's rows (``helper.sheet_export``).

Credentials (``--sheets-credentials FILE``, read with google-auth, scope ``spreadsheets``):

- a service account key (``"type": "service_account"``): share the sheet with the account's e-mail as Editor;
- an authorised-user file (``"type": "authorized_user"``: your own Google account, e.g. what
  ``gcloud auth application-default login --scopes=…/auth/spreadsheets,…/auth/cloud-platform`` writes);
- without the option, Application Default Credentials (on Google Cloud: the job's service account).

Every failure is one line and exit code 2, before anything is written when it can be known beforehand.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from helper.sheet_export import SHEET_VIEWS, Selection, export_views
from helper.sheets import SCOPE, SHEETS_API, SheetsClient, SheetsError, spreadsheet_id
from tools.cli.common import EXIT_OK, EXIT_USAGE, CliError, Context

HELP = {
    "to_sheet": "write the views " + ", ".join(SHEET_VIEWS) + " into this Google Sheet (its id or URL), one tab "
                "each, replacing only the rows of --from/--to (for Tableau Public; no Workspace edition needed)",
    "credentials": "a service account key the sheet is shared with, or an authorised-user JSON (default: "
                   "Application Default Credentials)",
    "api": "the Sheets API's base URL (a local fake, in tests)",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to-sheet", metavar="SPREADSHEET_ID", help=HELP["to_sheet"])
    p.add_argument("--sheets-credentials", type=Path, metavar="FILE", help=HELP["credentials"])
    p.add_argument("--sheets-api-url", default=SHEETS_API, metavar="URL", help=HELP["api"])


def credentials(path: Path | None, oauth_base_url: str | None = None) -> tuple[Any, str | None]:
    """The credentials and, for a service account, its e-mail (named in the fix when the sheet is not shared).

    ``oauth_base_url`` (the global ``--oauth-base-url``) points an authorised-user file's token refresh at a
    stand-in's ``/token``; google-auth otherwise always refreshes those at Google's endpoint.

    Raises:
        CliError: no file, an unreadable one, or one of another kind.
    """
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    if path is None:
        try:
            creds, _ = google.auth.default(scopes=[SCOPE])
        except DefaultCredentialsError:
            raise CliError("no credentials for the Sheets API: pass --sheets-credentials FILE (a service account key "
                           "the sheet is shared with, or an authorised-user JSON; docs/reporting.md)") from None
        return creds, getattr(creds, "service_account_email", None)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read --sheets-credentials {path}: {type(exc).__name__}") from None
    kind = info.get("type") if isinstance(info, dict) else None
    try:
        if kind == "service_account":
            return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE]), info["client_email"]
        if kind == "authorized_user":
            creds = user_credentials.Credentials.from_authorized_user_info(info, scopes=[SCOPE])
            return (creds.with_token_uri(oauth_base_url.rstrip("/") + "/token") if oauth_base_url else creds), None
    except (KeyError, ValueError) as exc:
        raise CliError(f"--sheets-credentials {path} is incomplete ({exc})") from None
    raise CliError(f"--sheets-credentials {path} is neither a service account key nor an authorised-user file "
                   f"(type {kind!r})")


def export_to_sheet(args: argparse.Namespace, ctx: Context, warehouse: Any, *, rename: Any,
                    drop: frozenset[str]) -> int:
    """The ``--to-sheet`` branch of ``export``: checks first, then one tab per view from ``warehouse``."""
    from google.auth.transport.requests import AuthorizedSession

    if args.tables or args.out:
        raise CliError("--to-sheet writes the views " + ", ".join(SHEET_VIEWS) + "; --tables and --out are for files")
    try:
        sheet = spreadsheet_id(args.to_sheet)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    creds, principal = credentials(args.sheets_credentials, ctx.oauth_base_url)
    selection = Selection(args.start, args.end, frozenset(args.participants) if args.participants else None)
    client = SheetsClient(AuthorizedSession(creds), sheet, base_url=args.sheets_api_url, principal=principal)
    try:
        results = export_views(warehouse, client, selection, rename=rename, drop=drop)
    except SheetsError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    for r in results:
        change = "created" if r.created else f"{r.removed} rows replaced"
        print(f"{r.title}: {r.written} rows ({change})", file=ctx.out)
    span = f"{args.start or 'first day'} to {args.end or 'last day'}"
    print(f"export: {len(results)} tabs of spreadsheet {sheet} ({span}), {client.requests} Sheets requests",
          file=ctx.out)
    return EXIT_OK
