"""The HTML cohort report: self-contained, six well-formed charts, and honest about missing data.

Rendering is checked as markup here (every chart parses as XML, nothing is fetched); reading the views of a
real warehouse through `make report` is checked in tests/local/test_make_report.py. Looking at it in
a browser is a manual check, because a headless browser is not on a fresh machine: docs/reporting.md
gives the Chromium command.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from tools.report import MAX_LINES, ReportData, render

DAYS = [date(2026, 11, 2) + timedelta(days=i) for i in range(4)]
TITLES = ["Distributions across participants", "Wear-time completeness", "Daily steps", "Sleep stages per night",
          "Active-zone minutes per week", "Resting heart rate"]
CHART = {title: n for n, title in enumerate(TITLES)}


def _data(participants: int = 2, **overrides) -> ReportData:
    ids = [f"p{i}" for i in range(participants)]
    fields = dict(
        steps={p: {d: 1000.0 * (i + 1) for i, d in enumerate(DAYS)} for p in ids},
        resting_hr={p: {d: 55.0 for d in DAYS} for p in ids},
        sleep={p: {d: {"deep": 90.0, "light": 240.0, "rem": 100.0, "awake": 30.0} for d in DAYS} for p in ids},
        weeks={p: {date(2026, 11, 2): (10.0, 20.0, 4.0, 4)} for p in ids},
        wear={p: {d: (23.0, True) for d in DAYS} for p in ids},
        threshold_h=10.0,
    )
    fields.update(overrides)
    return ReportData(**fields)


def _svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(block) for block in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


def _charts(html: str) -> list[ET.Element]:
    """The cohort charts, without the small per-participant charts inside the action cards."""
    return [s for s in _svgs(html) if not s.find("title").text.endswith(": days")]


def test_the_report_has_six_charts_each_well_formed_and_titled():
    svgs = _charts(render(_data(), dataset="fitbit"))
    assert [svg.find("title").text for svg in svgs] == TITLES


def test_the_report_loads_nothing_from_anywhere():
    html = render(_data(), dataset="fitbit")
    assert "default-src 'none'" in html
    assert not re.search(r"https?:|<script|<link|<img|src=|url\(", html)


def test_a_day_without_steps_breaks_the_line_instead_of_drawing_a_zero():
    steps = {"p0": {DAYS[0]: 1000.0, DAYS[1]: 2000.0, DAYS[3]: 4000.0}}
    chart = _charts(render(_data(1, steps=steps), dataset="fitbit"))[CHART["Daily steps"]]
    lines = chart.findall("polyline")
    assert len(lines) == 1 and len(lines[0].get("points").split()) == 2, "Nov 2-3 joined, Nov 5 alone"
    points = [c.find("title").text for c in chart.findall("circle")]
    assert points == ["p0 2026-11-02: 1,000", "p0 2026-11-03: 2,000", "p0 2026-11-05: 4,000"]


def test_a_night_still_being_processed_is_a_dashed_outline_not_a_night_without_sleep():
    sleep = {"p0": {DAYS[0]: {"deep": 60.0, "light": 200.0}, DAYS[1]: {}}}
    chart = _charts(render(_data(1, sleep=sleep), dataset="fitbit"))[CHART["Sleep stages per night"]]
    pending = [r for r in chart.iter("rect") if r.get("class") == "pending" and r.find("title") is not None]
    assert [r.find("title").text for r in pending] == ["p0 2026-11-03: Google is still processing this night"]


def test_days_below_the_valid_day_threshold_are_outlined_and_say_so():
    wear = {"p0": {DAYS[0]: (12.0, True), DAYS[1]: (3.5, False)}}
    chart = _charts(render(_data(1, wear=wear), dataset="fitbit"))[CHART["Wear-time completeness"]]
    cells = {r.find("title").text: r.get("stroke") for r in chart.iter("rect") if r.find("title") is not None}
    assert cells["p0 2026-11-02: 12.0 h worn"] is None
    assert cells["p0 2026-11-03: 3.5 h worn (not a valid day)"] == "#d7263d"
    assert cells["p0 2026-11-04: 0.0 h worn (not a valid day)"] == "#d7263d", "a day with no row is not hidden"


def test_a_large_cohort_draws_the_median_over_percentile_bands_and_one_mean_strip_of_sleep():
    participants = MAX_LINES + 1
    steps = {f"p{i}": {DAYS[0]: 1000.0 * (i + 1), DAYS[1]: 500.0} for i in range(participants)}
    charts = _charts(render(_data(participants, steps=steps), dataset="fitbit"))
    chart, sleep = charts[CHART["Daily steps"]], charts[CHART["Sleep stages per night"]]
    assert len(chart.findall("polyline")) == 1, "one median line, no line per participant"
    assert len(chart.findall("polygon")) == 2, "the 10th-90th and 25th-75th percentile bands"
    medians = [c.find("title").text for c in chart.findall("circle")]
    assert medians == ["cohort median 2026-11-02: 6,000", "cohort median 2026-11-03: 500"]
    assert [t.text for t in sleep.iter("text") if t.get("class") == "strip"] == [f"mean of {participants}"]


def test_an_empty_warehouse_still_gives_a_report_that_says_there_is_no_data_yet():
    html = render(ReportData({}, {}, {}, {}, {}, 10.0), dataset="fitbit")
    assert html.count("No data yet.") == 6 and len(_svgs(html)) == 6
    assert "Nobody needs action." in html


@pytest.mark.parametrize("participant", ["<b>x</b>", "a&b"])
def test_text_from_the_warehouse_is_escaped(participant):
    html = render(_data(1, steps={participant: {DAYS[0]: 1.0}}), dataset="fitbit")
    assert participant not in html and len(_charts(html)) == 6
