"""``fitbit-pipeline export --to-sheet`` against a local fake of the Sheets API over real HTTP (tests/sheets_fake.py),
which checks every request against the Sheets v4 discovery document. The warehouse is a real DuckDB file of a
synthetic cohort (tools/cohort_warehouse.py); credentials are a real service account key (signed JWT) and a real
authorised-user file, both exchanged at the fake's token endpoint."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from helper import sheets
from helper.secrets import LocalSecretStore, ParticipantGrant, save_grant
from tests.sheets_fake import FakeSheets, Spreadsheet, Tab
from tools.cli.export import pseudonym
from tools.cli.main import main
from tools.cohort_warehouse import build

SHEET, OTHER = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd", "1NotSharedWithTheExporter0123456789-_abcdef"
ROBOT = "exporter@study-project.iam.gserviceaccount.com"
VIEWS = {"daily_summary": "civil_date, participant_id", "sleep_quality": "civil_date, participant_id, start_time",
         "data_completeness": "civil_date, participant_id"}
KEY = b"a study key of at least sixteen bytes"


@pytest.fixture
def fake():
    server = FakeSheets().serve()
    yield server
    server.close()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):
    return build(tmp_path_factory.mktemp("state"), 4, 10)


@pytest.fixture
def state(cohort, tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "warehouse.duckdb").write_bytes(cohort.path.read_bytes())
    store = LocalSecretStore(folder / "secrets.json")
    for p in cohort.participants:
        save_grant(store, ParticipantGrant(p, "refresh-token-not-used", ("scope",), None, None,
                                           datetime(2026, 10, 1, tzinfo=UTC), None))
    return folder


@pytest.fixture
def robot_key(fake, tmp_path: Path) -> Path:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = tmp_path / "robot.json"
    path.write_text(json.dumps({"type": "service_account", "project_id": "study-project", "private_key_id": "k1",
                                "private_key": pem, "client_email": ROBOT, "client_id": "1",
                                "token_uri": fake.url + "/token",
                                # not googleapis.com: google-auth then skips its background lookup of the
                                # account's regional access boundary at iamcredentials.googleapis.com
                                "universe_domain": "fake.test"}))
    fake.books[SHEET] = Spreadsheet({ROBOT, "user:me"})
    fake.books[OTHER] = Spreadsheet({"user:someone-else"})
    return path


def export(state: Path, fake: FakeSheets, *args: str, sheet: str = SHEET) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["--state-dir", str(state), "--oauth-base-url", fake.url, "export", "--to-sheet", sheet, "--sheets-api-url", fake.url, *args],
                out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _trimmed(row):
    row = list(row)
    while row and row[-1] == "":
        row.pop()
    return row


def expected(state: Path, view: str, where: str = "") -> tuple[list[str], list[list]]:
    db = duckdb.connect(str(state / "warehouse.duckdb"), read_only=True)
    try:
        db.execute("SET TimeZone = 'UTC'")
        cursor = db.execute(f"SELECT * FROM fitbit.{view} {where} ORDER BY {VIEWS[view]}")
        header = [d[0] for d in cursor.description]
        return header, [_trimmed(_cell(v) for v in row) for row in cursor.fetchall()]
    finally:
        db.close()


def test_a_first_export_creates_one_tab_per_view_with_its_header_and_the_views_rows(state, fake, robot_key):
    code, out, err = export(state, fake, "--sheets-credentials", str(robot_key))
    assert (code, err) == (0, "")
    book = fake.books[SHEET]
    assert list(book.tabs) == list(VIEWS)
    for view in VIEWS:
        header, rows = expected(state, view)
        assert rows, view
        assert book.table(view) == [header, *rows], view
        assert book.tabs[view].frozen == 1
    assert "daily_summary: 40 rows (created)" in out
    assert fake.violations == []


def test_a_re_export_of_a_sub_range_replaces_only_those_days_rows_in_place(state, fake, robot_key):
    book = fake.books[SHEET]
    book.tabs["notes"] = Tab(99, 2, 2)
    book.tabs["notes"].cells[0][0] = "kept as it is"
    assert export(state, fake, "--sheets-credentials", str(robot_key))[0] == 0
    before = book.table("daily_summary")
    db = duckdb.connect(str(state / "warehouse.duckdb"))
    db.execute("UPDATE fitbit.steps_daily SET steps = steps + 1000")  # every day changes in the warehouse
    db.close()
    code, out, _ = export(state, fake, "--sheets-credentials", str(robot_key), "--from", "2026-11-01", "--to", "2026-11-02")
    assert code == 0 and "daily_summary: 8 rows (8 rows replaced)" in out
    header, now = expected(state, "daily_summary")
    after = book.table("daily_summary")
    day = header.index("civil_date")
    in_range = [r for r in after[1:] if "2026-11-01" <= r[day] <= "2026-11-02"]
    assert in_range == [r for r in now if "2026-11-01" <= r[day] <= "2026-11-02"]
    assert [r for r in after if r not in in_range] == [r for r in before if not "2026-11-01" <= str(r[day]) <= "2026-11-02"]
    assert after[1:] == sorted(after[1:], key=lambda r: (r[day], r[0]))  # in place: the tab keeps its order
    keys = [(r[0], r[day]) for r in after[1:]]
    assert len(keys) == len(set(keys)) == 40
    assert book.table("notes") == [["kept as it is"]]
    assert fake.violations == []


def test_two_exports_of_the_same_range_leave_no_duplicate(state, fake, robot_key):
    for _ in range(2):
        code, _, err = export(state, fake, "--sheets-credentials", str(robot_key), "--from", "2026-10-30")
        assert (code, err, fake.violations) == (0, "", [])
    for view in VIEWS:
        header, rows = expected(state, view, "WHERE civil_date >= DATE '2026-10-30'")
        assert fake.books[SHEET].table(view) == [header, *rows]


def test_an_unknown_spreadsheet_exits_2_with_the_fix(state, fake, robot_key):
    code, _, err = export(state, fake, "--sheets-credentials", str(robot_key), sheet="1ThisSpreadsheetDoesNotExist0000000000000")
    assert code == 2
    assert "not found (404)" in err and "between /d/ and /edit" in err


def test_a_sheet_not_shared_with_the_service_account_exits_2_saying_whom_to_share_it_with(state, fake, robot_key):
    code, _, err = export(state, fake, "--sheets-credentials", str(robot_key), sheet=OTHER)
    assert code == 2
    assert f"share it with {ROBOT} as Editor" in err
    assert fake.books[OTHER].tabs == {}


def test_bad_ids_and_missing_or_unreadable_credentials_exit_2_before_any_request(state, fake, robot_key, tmp_path,
                                                                                   monkeypatch):
    assert "not a spreadsheet id" in export(state, fake, "--sheets-credentials", str(robot_key), sheet="no/such id")[2]
    assert "are for files" in export(state, fake, "--sheets-credentials", str(robot_key), "--tables", "steps_daily")[2]
    missing = export(state, fake, "--sheets-credentials", str(tmp_path / "nope.json"))
    assert missing[0] == 2 and "cannot read --sheets-credentials" in missing[2]
    (tmp_path / "odd.json").write_text('{"type": "external_account"}')
    assert "neither a service account key" in export(state, fake, "--sheets-credentials", str(tmp_path / "odd.json"))[2]
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    code, _, err = export(state, fake)
    assert code == 2 and "no credentials for the Sheets API" in err
    assert fake.calls == []


def test_pseudonymised_exports_carry_stable_hmac_ids_and_no_identifying_column(state, fake, robot_key, monkeypatch):
    monkeypatch.setenv("FITBIT_STUDY_KEY", KEY.decode())
    assert export(state, fake, "--sheets-credentials", str(robot_key), "--pseudonymise")[0] == 0
    book = fake.books[SHEET]
    header, rows = expected(state, "sleep_quality")
    drop = header.index("data_point_name")
    sleep = book.table("sleep_quality")
    assert sleep[0] == [c for c in header if c != "data_point_name"]
    assert sleep[1:] == [[pseudonym(KEY, r[0]), *r[1:drop], *r[drop + 1:]] for r in rows]
    ids = {r[0] for view in VIEWS for r in book.table(view)[1:]}
    assert ids and all(re.fullmatch(r"p_[0-9a-f]{24}", p) for p in ids)
    monkeypatch.delenv("FITBIT_STUDY_KEY")
    code, _, err = export(state, fake, "--sheets-credentials", str(robot_key))  # real ids into a pseudonymised tab
    assert code == 2 and "holds pseudonyms" in err


def test_a_persons_own_oauth_credentials_work_too(state, fake, robot_key, tmp_path):
    user = tmp_path / "me.json"
    user.write_text(json.dumps({"type": "authorized_user", "client_id": "me", "client_secret": "s",
                                "refresh_token": "r", "token_uri": fake.url + "/token"}))
    code, _, err = export(state, fake, "--sheets-credentials", str(user), "--participants", "p0001,p0002")
    assert (code, err) == (0, "")
    assert {r[0] for r in fake.books[SHEET].table("daily_summary")[1:]} == {"p0001", "p0002"}
    code, _, err = export(state, fake, "--sheets-credentials", str(user), sheet=OTHER)
    assert code == 2 and "share it with your Google account as Editor" in err


def test_large_ranges_go_in_chunks_and_a_429_is_retried(state, fake, robot_key, monkeypatch):
    monkeypatch.setattr(sheets, "CHUNK_CELLS", 200)
    fake.inject = [429, 503]
    assert export(state, fake, "--sheets-credentials", str(robot_key))[0] == 0
    assert fake.calls.count("spreadsheets.values.batchUpdate") > 3 * 3
    for view in VIEWS:
        header, rows = expected(state, view)
        assert fake.books[SHEET].table(view) == [header, *rows]


def test_an_export_that_would_pass_ten_million_cells_writes_nothing(state, fake, robot_key):
    big = Tab(50, 1, 1)
    big.rows = 9_999_000  # the grid the API reports; the fake keeps no cells for it
    fake.books[SHEET].tabs["archive"] = big
    code, _, err = export(state, fake, "--sheets-credentials", str(robot_key))
    assert code == 2 and "over the Sheets limit of 10,000,000" in err
    assert list(fake.books[SHEET].tabs) == ["archive"]


def test_the_fake_refuses_what_the_discovery_document_does_not_allow(fake, robot_key):
    import requests

    token = fake._token({"grant_type": ["refresh_token"], "client_id": ["me"],
                         "scope": ["https://www.googleapis.com/auth/spreadsheets"]})["access_token"]
    base = f"{fake.url}/v4/spreadsheets/{SHEET}"
    auth = {"Authorization": f"Bearer {token}"}
    bad_field = requests.post(base + ":batchUpdate", json={"requests": [{"addSheet": {"props": {}}}]}, headers=auth,
                              timeout=5)
    bad_enum = requests.get(base + "/values/A1", params={"valueRenderOption": "PRETTY"}, headers=auth, timeout=5)
    assert (bad_field.status_code, bad_enum.status_code) == (400, 400)
    assert fake.violations == ["spreadsheets.batchUpdate: body.requests[0].addSheet.props: unknown field",
                               "spreadsheets.values.get: valueRenderOption=PRETTY not in the enum"]


def test_the_daily_step_after_the_flush_keeps_the_last_three_days_current(state, fake, robot_key):
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    from helper.sheet_export import DailySheetExport
    from helper.warehouse import DuckDbWarehouse

    def session():
        creds = service_account.Credentials.from_service_account_file(str(robot_key), scopes=[sheets.SCOPE])
        return AuthorizedSession(creds), ROBOT

    warehouse = DuckDbWarehouse(state / "warehouse.duckdb", "fitbit", state / "staging", read_only=True)  # BigQuery SQL in
    try:
        step = DailySheetExport(warehouse, SHEET, 8, session=session, base_url=fake.url)
        assert step(datetime(2026, 11, 5, 9, 30, tzinfo=UTC)) is None and fake.calls == []
        assert step(datetime(2026, 11, 5, 8, 30, tzinfo=UTC)).startswith(f"sheet {SHEET}: daily_summary 12 rows")
        assert step(datetime(2026, 11, 6, 8, 30, tzinfo=UTC)).startswith(f"sheet {SHEET}: daily_summary 12 rows")
    finally:
        warehouse.close()
    for view in VIEWS:
        header, rows = expected(state, view, "WHERE civil_date BETWEEN DATE '2026-11-02' AND DATE '2026-11-05'")
        assert fake.books[SHEET].table(view) == [header, *rows], view
    assert fake.violations == []
