"""The report from a real DuckDB warehouse of a synthetic cohort (tools/cohort_warehouse.py): the views, the
processing log and the stored grants end up in the action list, the adherence map and the participants table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from helper.secrets import LocalSecretStore, ParticipantGrant, save_grant
from helper.warehouse import DuckDbWarehouse
from tools.cohort_warehouse import DATASET, END, build
from tools.report import write_report

PARTICIPANTS = 60


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory):
    return build(tmp_path_factory.mktemp("cohort"), PARTICIPANTS, 10, seed=3)


def _report(cohort, tmp_path: Path, store: LocalSecretStore | None) -> str:
    warehouse = DuckDbWarehouse(cohort.path, DATASET, tmp_path / "staging")
    try:
        return write_report(warehouse, tmp_path / "report.html", secrets=store, today=END).read_text()
    finally:
        warehouse.close()


def _group(html: str, name: str) -> list[str]:
    block = re.search(rf'<summary class="r\d">{name} \(\d+\)</summary>(.*?)</details>(?=<details class="group"|<h2>)',
                      html, flags=re.S)
    return re.findall(r'<details class="card" id="d-([^"]+)"', block.group(1)) if block else []


def test_dropouts_and_consent_failures_from_the_warehouse_need_action_with_their_fixes(cohort, tmp_path):
    assert cohort.dropped_out and cohort.reconsent, "the seed gives both shapes"
    html = _report(cohort, tmp_path, LocalSecretStore(tmp_path / "no-grants.json"))  # an empty store: not checked
    consent = _group(html, "Consent needed")
    assert consent == cohort.reconsent
    assert f"run `python scripts/authorise.py --participant {cohort.reconsent[0]}` again" in html
    assert set(cohort.dropped_out) - set(consent) <= set(_group(html, "No recent data"))
    assert "Consent was not checked" in html


def test_stored_grants_flag_a_withdrawn_participant_and_an_expiring_consent(cohort, tmp_path):
    store = LocalSecretStore(tmp_path / "secrets.json")
    now = datetime.now(UTC)
    withdrawn, expiring = cohort.participants[1], cohort.participants[2]
    for p in cohort.participants:
        if p != withdrawn:
            save_grant(store, ParticipantGrant(p, "refresh-token-not-used", ("scope",), None, None, now,
                                               now + timedelta(hours=12) if p == expiring else None))
    html = _report(cohort, tmp_path, store)
    consent = _group(html, "Consent needed")
    assert {withdrawn, expiring} <= set(consent)
    assert "no consent stored (withdrawn or never granted)" in html and "refresh-token-not-used" not in html


def test_every_participant_gets_one_map_row_and_one_table_row_and_the_map_draws_no_cell_per_day(cohort, tmp_path):
    html = _report(cohort, tmp_path, None)
    section = html[html.index("<h2>Wear-time completeness"):html.index("<h2>Daily steps")]
    assert section.count('class="hit"') == PARTICIPANTS and "<text" in section
    assert section.count("<path ") <= 5, "one path per wear band"
    table = html[html.index("<h2>Participants"):]
    assert table.count('<tr id="p-') == PARTICIPANTS
