"""The report at cohort scale: who needs action and why, distributions, the compact adherence map, the cards.

Pure rendering from hand-built ``ReportData``; the same from a real DuckDB warehouse of 60 synthetic
participants is in tests/local/test_report_cohort_warehouse.py, and the figures at 1,000 in ``benchmarks`` (report_cohort).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

from tools.report import ReportData, render
from tools.report.attention import needs_action
from tools.report.cohort import LABELLED_MAX, adherence, bins, distributions, five_numbers, histogram
from tools.report.data import Failure, Grant
from tools.report.detail import CARDS_MAX, action_list, links

DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(7)]
NOW = datetime(2026, 11, 8, 9, tzinfo=UTC)


def _cohort(worn: dict[str, list[float]], **overrides) -> ReportData:
    """Participants with hours worn per day of ``DAYS``; 0 h is a covered day without a worn minute."""
    fields = dict(steps={p: {d: 5000.0 for d, h in zip(DAYS, hours) if h} for p, hours in worn.items()},
                  resting_hr={}, sleep={}, weeks={},
                  wear={p: {d: (h, h >= 10) for d, h in zip(DAYS, hours)} for p, hours in worn.items()},
                  threshold_h=10.0)
    fields.update(overrides)
    return ReportData(**fields)


def _reasons(data: ReportData) -> dict[str, list[str]]:
    return {a.participant: [r.what for r in a.reasons] for a in needs_action(data, NOW)}


def test_a_participant_silent_for_three_days_needs_action_and_a_two_day_gap_does_not():
    data = _cohort({"silent": [20, 20, 20, 20, 0, 0, 0], "gap": [20, 20, 20, 20, 20, 0, 0], "fine": [20] * 7})
    assert _reasons(data) == {"silent": ["no data for 3 days (last worn 2026-11-04)"]}


def test_a_participant_never_worn_and_one_enrolled_without_any_row_both_need_action():
    granted = Grant(NOW - timedelta(days=1), None)
    data = _cohort({"unworn": [0.0] * 7, "fine": [20] * 7}, grants={p: granted for p in ("unworn", "fine", "new")})
    assert _reasons(data) == {"unworn": ["no worn minute yet"], "new": ["enrolled, no data yet"]}


def test_consent_problems_come_first_each_with_the_consent_script_as_its_fix():
    grants = {"expiring": Grant(NOW - timedelta(days=6), NOW + timedelta(days=1)),
              "broken": Grant(None, None), "fine": Grant(NOW - timedelta(days=6), None)}
    data = _cohort({"expiring": [20] * 7, "broken": [20] * 7, "fine": [20] * 7, "withdrawn": [20] * 7},
                   grants=grants)
    actions = needs_action(data, NOW)
    assert [a.participant for a in actions] == ["broken", "expiring", "withdrawn"]
    assert actions[1].reasons[0].what == "re-consent needed: the grant expires 2026-11-09 09:00 UTC"
    assert all("authorise.py --participant " + a.participant in a.reasons[0].fix for a in actions)


def test_failed_units_carry_the_fix_the_processing_log_recorded():
    failures = {"p1": [Failure("sleep", "UnexpectedResponse", "keep the raw object and report it", 2,
                               date(2026, 11, 6))]}
    action, = needs_action(_cohort({"p1": [20] * 7}, failures=failures), NOW)
    assert action.reasons[0].what == "2 failed units: sleep, UnexpectedResponse (last 2026-11-06)"
    assert action.reasons[0].fix == "keep the raw object and report it"


def test_a_tracker_that_stopped_syncing_is_measured_against_the_cohorts_latest_sync():
    synced = {"late": NOW - timedelta(days=4), "fresh": NOW - timedelta(hours=2)}
    data = _cohort({"late": [20] * 7, "fresh": [20] * 7}, last_sync=synced)
    assert _reasons(data) == {"late": ["tracker last synced 2026-11-04 09:00 UTC, 3 days before the cohort's "
                                       "latest sync"]}


def test_low_wear_needs_a_full_week_and_fewer_than_half_of_its_days_valid():
    data = _cohort({"low": [20, 4, 20, 4, 20, 4, 4], "half": [20, 4, 20, 4, 20, 4, 20]})
    assert _reasons(data) == {"low": ["low wear: 3 of the last 7 days valid (≥ 10 h)"]}


def test_bins_are_round_cover_every_value_and_close_the_last_bin():
    edges = bins([0.0, 37.0, 100.0], low=0.0, high=100.0, min_step=10.0)
    assert edges == [float(e) for e in range(0, 101, 10)]
    assert histogram([0.0, 37.0, 100.0], edges) == [1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    assert bins([23.1, 23.3], min_step=0.5) == [22.5, 23.0, 23.5, 24.0, 24.5], "a narrow spread gets 4 bins"
    assert five_numbers([1.0, 2.0, 3.0, 4.0, 5.0]) == (1.0, 2.0, 3.0, 4.0, 5.0)


def test_distributions_count_each_participant_once_per_measure():
    data = _cohort({f"p{i}": [float(i)] * 7 for i in range(1, 51)})
    chart = ET.fromstring(distributions(data))
    counts = [t.text for t in chart.iter("text") if t.text and t.text.startswith("n = ")]
    assert counts == ["n = 50 (steps)", "n = 50 (h worn)", "n = 50 (% of days)"]
    assert not chart.findall("circle"), "no dot per participant above 40"
    bars = [r.find("title").text for r in chart.iter("rect") if r.find("title") is not None]
    assert sum(int(re.search(r": ([\d,]+) participant", b).group(1)) for b in bars) == 150


def test_a_large_adherence_map_is_sorted_least_complete_first_and_does_not_draw_a_cell_per_day():
    worn = {f"p{i:03d}": [20.0] * 7 for i in range(LABELLED_MAX + 20)}
    worn["p007"], worn["p011"] = [0, 0, 0, 0, 0, 0, 12], [2, 20, 20, 20, 20, 20, 20]
    chart = ET.fromstring(adherence(_cohort(worn), links={"p007": "#d-p007"}))
    rows = [r.find("title").text for r in chart.iter("rect") if r.get("class") == "hit"]
    assert rows[:3] == ["p007: 1/7 valid days, 1.7 h/day", "p011: 6/7 valid days, 17.4 h/day",
                        "p000: 7/7 valid days, 20.0 h/day"]
    assert len(rows) == len(worn) and len(list(chart.iter("path"))) == 4, "one path per wear band used"
    assert [a.get("href") for a in chart.iter("a")] == ["#d-p007"]


def test_cards_stop_at_the_cap_and_the_rest_are_listed_by_name():
    data = _cohort({f"p{i:03d}": [20, 20, 20, 20, 0, 0, 0] for i in range(CARDS_MAX + 3)})
    actions = needs_action(data, NOW)
    html = action_list(data, actions)
    assert html.count('<details class="card"') == CARDS_MAX == len(links(actions))
    assert "3 more without a card" in html and 'href="#p-p052"' in html


def test_the_report_for_a_large_cohort_stays_self_contained_and_escaped():
    data = _cohort({f"p{i}": [20, 20, 20, 20, 0, 0, 0] for i in range(60)} | {"<i>x</i>": [1] * 7})
    html = render(data, dataset="fitbit", generated_at=NOW)
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html
    assert not re.search(r"https?:|<script|<link|<img|src=|url\(", html)
    for block in re.findall(r"<svg .*?</svg>", html, flags=re.S):
        ET.fromstring(block)
