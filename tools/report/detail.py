"""Per-participant detail on demand: the action list (one ``<details>`` card each) and the participants table.

A card holds every reason with its fix and a small chart of the participant's days (steps, hours asleep,
hours worn). Cards are rendered for the participants needing action only, at most ``CARDS_MAX`` (most urgent
first), because a card costs a few kilobytes and the file must stay small at 1,000 participants; everybody
gets a row in the participants table (measured: docs/reporting.md). Anchors: ``#d-<id>`` a card, ``#p-<id>``
a table row.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape

from tools.report import svg
from tools.report.attention import Action
from tools.report.cohort import BANDS, band, completeness_order, mean_sleep_h, mean_steps, mean_wear_h, valid_share
from tools.report.data import ReportData
from tools.report.svg import LEFT, RIGHT, WIDTH

CARDS_MAX = 50
DETAIL_DAYS = 28  # a card shows the latest four weeks: its size must not grow with the study's length


def anchor(participant: str, prefix: str) -> str:
    return f"{prefix}-" + "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in participant)


def links(actions: list[Action]) -> dict[str, str]:
    """The fragment each participant's heat-map row points to: their card if they have one."""
    return {a.participant: "#" + anchor(a.participant, "d") for a in actions[:CARDS_MAX]}


GROUPS = {0: "Consent needed", 1: "Failing units", 2: "No recent data", 3: "Low wear"}  # by Reason.rank
OPEN_MAX = 30  # a group this small (or a consent or failure group) starts open


def action_list(data: ReportData, actions: list[Action]) -> str:
    """One group per most urgent reason, each a list of cards; beyond ``CARDS_MAX`` a one-line entry each."""
    if not actions:
        return '<p class="ok">Nobody needs action.</p>'
    carded = set(links(actions))
    out = ['<p class="counts">' + " · ".join(
        f'<span class="r{rank}">{name}: {sum(a.rank == rank for a in actions):,}</span>'
        for rank, name in GROUPS.items() if any(a.rank == rank for a in actions)) + "</p>"]
    for rank, name in GROUPS.items():
        group = [a for a in actions if a.rank == rank]
        if not group:
            continue
        cards = "".join(_card(data, a) for a in group if a.participant in carded)
        rest = [a for a in group if a.participant not in carded]
        if rest:
            cards += (f'<p class="note">{len(rest):,} more without a card (the file stays small; see the table): '
                      + ", ".join(f'<a href="#{anchor(a.participant, "p")}">{escape(a.participant)}</a>'
                                  for a in rest) + "</p>")
        opened = " open" if rank <= 1 or len(group) <= OPEN_MAX else ""
        out.append(f'<details class="group"{opened}><summary class="r{rank}">{name} ({len(group):,})</summary>'
                   f"{cards}</details>")
    return "".join(out)


def _card(data: ReportData, a: Action) -> str:
    items = "".join(f"<li>{escape(r.what)}. <i>Fix:</i> {escape(r.fix)}</li>" for r in a.reasons)
    more = f" (+{len(a.reasons) - 1} more)" if len(a.reasons) > 1 else ""
    return (f'<details class="card" id="{anchor(a.participant, "d")}"><summary><b>{escape(a.participant)}</b> '
            f'<span class="r{a.rank}">{escape(a.reasons[0].what)}</span>{more}</summary><ul>{items}</ul>'
            f'{mini_chart(data, a.participant)}</details>')


def mini_chart(data: ReportData, p: str) -> str:
    """Steps and hours asleep as bars, hours worn as banded cells, one column per civil day (the last
    ``DETAIL_DAYS``). Drawn in day units (``scale``); hovering a column shows the day's numbers."""
    days = data.days[-DETAIL_DAYS:]
    if not days:
        return ""
    rows = (("steps", 34, "#0072B2", data.steps.get(p, {})),
            ("h asleep", 24, "#9b59b6", {d: sum(m for k, m in s.items() if k != "awake") / 60
                              for d, s in data.sleep.get(p, {}).items() if s}))
    col = (WIDTH - LEFT - RIGHT) / len(days)
    labels, marks, y = [], [], 6
    for label, h, color, values in rows:
        top = max(values.values(), default=0) or 1
        bars = "".join(f"M{i + 0.05:g} {y + h}v-{values[d] / top * h:.1f}h.9v{values[d] / top * h:.1f}z"
                       for i, d in enumerate(days) if d in values)
        labels.append(f'<text x="{LEFT - 6}" y="{y + h - 2}" class="tick" text-anchor="end">{label}</text>'
                      f'<text x="{WIDTH - RIGHT + 6}" y="{y + 10}" class="tick">max {svg.fmt(top)}</text>')
        marks.append(f'<path d="{bars}" fill="{color}"/>' if bars else "")
        y += h + 6
    wear, cells, hits = data.wear.get(p, {}), [""] * len(BANDS), []
    for i, d in enumerate(days):
        hours, valid = wear.get(d, (0.0, False))
        steps, sleep = rows[0][3].get(d), rows[1][3].get(d)
        tip = (f"{d.isoformat()}: {'no steps' if steps is None else svg.fmt(steps) + ' steps'}, "
               f"{'no finished night' if sleep is None else f'{sleep:.1f} h asleep'}, "
               f"{hours:.1f} h worn{'' if valid else ' (not valid)'}" if d in wear or steps or sleep else
               f"{d.isoformat()}: not covered")
        if d in wear:
            cells[band(hours, data.threshold_h)] += f"M{i + 0.05:g} {y}h.9v12h-.9z"
        hits.append(f'<rect x="{i}" y="6" width="1" height="{y + 6}" class="hit"><title>{escape(tip)}</title></rect>')
    marks += [f'<path d="{d}" fill="{color}"/>' for d, (_, color) in zip(cells, BANDS, strict=True) if d]
    labels.append(f'<text x="{LEFT - 6}" y="{y + 10}" class="tick" text-anchor="end">worn</text>')
    every = max(1, math.ceil(len(days) / 8))
    labels += [f'<text x="{LEFT + (i + 0.5) * col:.1f}" y="{y + 28}" class="tick" text-anchor="middle">'
               f'{svg.day_label(d)}</text>' for i, d in enumerate(days) if i % every == 0]
    grid = f'<g transform="translate({LEFT} 0) scale({col:.4f} 1)">' + "".join(marks + hits) + "</g>"
    return svg.document(f"{p}: days", y + 34, [*labels, grid])


def participants_table(data: ReportData, actions: list[Action]) -> str:
    """One row per participant, least complete first (the heat map's order), in a closed ``<details>``."""
    reasons, carded = {a.participant: a for a in actions}, set(links(actions))
    order = completeness_order(data)
    order += [p for p in data.participants if p not in set(order)]
    last = {p: max((d for d, (h, _) in per.items() if h > 0), default=None) for p, per in data.wear.items()}
    rows = []
    for p in order:
        a = reasons.get(p)
        flag = (f'<a href="#{anchor(p, "d")}">{escape(a.reasons[0].what)}</a>' if a and p in carded
                else escape(a.reasons[0].what) if a else "")
        rows.append(f'<tr id="{anchor(p, "p")}"><td>{escape(p)}</td><td>{_cell(valid_share(data, p), "{:.0f} %")}'
                    f'</td><td>{_cell(mean_wear_h(data, p), "{:.1f}")}</td><td>{_cell(mean_steps(data, p), "{:,.0f}")}'
                    f'</td><td>{_cell(mean_sleep_h(data, p), "{:.1f}")}</td><td>{_day(last.get(p))}</td>'
                    f'<td>{flag}</td></tr>')
    return (f'<details class="table"><summary>All {len(order):,} participants, least complete first</summary>'
            "<table><thead><tr><th>participant</th><th>valid days</th><th>h worn / day</th><th>steps / day</th>"
            "<th>h asleep / night</th><th>last worn</th><th>needs action</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></details>")


def _cell(value: float | None, pattern: str) -> str:
    return "–" if value is None else pattern.format(value)


def _day(day: date | None) -> str:
    return "never" if day is None else day.isoformat()
