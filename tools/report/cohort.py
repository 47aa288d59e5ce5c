"""The cohort overview: per-participant distributions and the adherence map, readable at 1,000 participants.

One mark per participant never scales, so the overview summarises each participant to one number per measure
(mean steps per day with data, hours asleep per finished night, hours worn per covered day, share of valid
days) and draws the cohort's distribution: a histogram with a box summary (quartiles, whiskers to the extremes)
above it. Up to ``DOTS_MAX`` participants each also gets a dot with their id in its tooltip.

The adherence map has one row per participant, least complete first (share of valid days, then mean hours
worn). Up to ``LABELLED_MAX`` rows it is the labelled heat map of ``charts.heatmap``; above that each row is a
pixel or a few, the days are coloured by wear band, runs of one band in a row are merged into one rectangle,
and each band is one ``<path>``, so the file grows with the changes in wear, not with participants x days.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from html import escape

from tools.report import svg
from tools.report.charts import heatmap
from tools.report.data import ReportData
from tools.report.svg import LEFT, RIGHT, TOP, WIDTH

DOTS_MAX = 40
LABELLED_MAX = 40
PANEL_GAP = 28
# title, unit, value per participant, the narrowest bin worth drawing
Measure = tuple[str, str, Callable[[ReportData, str], float | None], float]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def mean_steps(data: ReportData, p: str) -> float | None:
    return _mean(list(data.steps.get(p, {}).values()))


def mean_sleep_h(data: ReportData, p: str) -> float | None:
    nights = [sum(m for k, m in stages.items() if k != "awake") / 60 for stages in data.sleep.get(p, {}).values()
              if stages]
    return _mean(nights)


def mean_wear_h(data: ReportData, p: str) -> float | None:
    return _mean([hours for hours, _ in data.wear.get(p, {}).values()])


def valid_share(data: ReportData, p: str) -> float | None:
    days = data.wear.get(p, {})
    return 100 * sum(ok for _, ok in days.values()) / len(days) if days else None


MEASURES: tuple[Measure, ...] = (
    ("Steps per day", "steps", mean_steps, 500.0), ("Sleep per night", "h asleep", mean_sleep_h, 0.25),
    ("Wear per day", "h worn", mean_wear_h, 0.5), ("Valid days", "% of days", valid_share, 10.0))


def completeness_order(data: ReportData) -> list[str]:
    """Participants with wear data, least complete first: share of valid days, then mean hours, then id."""
    return sorted(data.wear, key=lambda p: (valid_share(data, p) or 0.0, mean_wear_h(data, p) or 0.0, p))


def bins(values: list[float], *, low: float | None = None, high: float | None = None, count: int = 10,
         min_step: float = 0.0) -> list[float]:
    """Round bin edges covering ``values`` (or ``low``..``high``): about ``count`` bins, none narrower than
    ``min_step``. The maximum falls in the last bin (``histogram`` closes it on the right)."""
    lo = min(values) if low is None else low
    hi = max(values) if high is None else high
    step = max(svg.ticks(max(hi - lo, 1e-9), count)[1], min_step)
    start = math.floor(lo / step) * step
    n = max(1, math.ceil((hi - start) / step - 1e-9))
    if high is None and start + n * step <= hi:  # a free maximum sits on an edge: give it a bin of its own
        n += 1
    if low is None and high is None and n < 4:  # a narrow spread still gets a few bins around it
        start = max(0.0, start - (4 - n) // 2 * step) if lo >= 0 else start - (4 - n) // 2 * step
        n = 4
    return [start + i * step for i in range(n + 1)]


def histogram(values: list[float], edges: list[float]) -> list[int]:
    """Values per bin; bins are closed on the left, the last one on both sides."""
    counts = [0] * (len(edges) - 1)
    for v in values:
        i = min(max(0, int((v - edges[0]) // (edges[1] - edges[0]))), len(counts) - 1)
        counts[i] += 1
    return counts


def five_numbers(values: list[float]) -> tuple[float, float, float, float, float]:
    """Minimum, lower quartile, median, upper quartile, maximum."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return (ordered[0],) * 5  # type: ignore[return-value]
    q1, q2, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return ordered[0], q1, q2, q3, ordered[-1]


def distributions(data: ReportData) -> str:
    """One panel per measure: histogram of the per-participant values, box summary on top."""
    title = "Distributions across participants"
    panels = [(name, unit, {p: v for p in data.participants if (v := f(data, p)) is not None}, step)
              for name, unit, f, step in MEASURES]
    if not any(values for _, _, values, _ in panels):
        return svg.empty(title)
    height, panel_w = 250, (WIDTH - 20 - PANEL_GAP * (len(panels) - 1)) / len(panels)
    body: list[str] = []
    for n, (name, unit, values, step) in enumerate(panels):
        nums = list(values.values())
        edges = (bins(nums, low=0.0, high=100.0, min_step=step) if unit.startswith("%") else
                 bins(nums, min_step=step)) if nums else []
        body += _panel(name, unit, values, edges, 10 + n * (panel_w + PANEL_GAP), panel_w, height)
    return svg.document(title, height, body)


def _panel(name: str, unit: str, values: dict[str, float], edges: list[float], x0: float, w: float,
           height: int) -> list[str]:
    out = [f'<text x="{x0:.1f}" y="16" class="strip">{escape(name)}</text>']
    if not values:
        return out + [f'<text x="{x0:.1f}" y="60" class="tick">No data yet.</text>']
    nums = list(values.values())
    counts = histogram(nums, edges)
    box_y, base, plot_h = 44, height - 40, height - 40 - 86
    top = max(counts)
    label = _label(edges[1] - edges[0])

    def x_of(v: float) -> float:
        return x0 + (v - edges[0]) / (edges[-1] - edges[0]) * w

    out.append(f'<text x="{x0 + w:.1f}" y="16" class="tick" text-anchor="end">n = {len(nums):,} ({escape(unit)})</text>')
    low, q1, med, q3, high = five_numbers(nums)
    out.append(f'<g><title>{escape(name)}: min {label(low)}, quartiles {label(q1)} / {label(med)} / '
               f'{label(q3)}, max {label(high)}</title>'
               f'<line x1="{x_of(low):.1f}" x2="{x_of(high):.1f}" y1="{box_y}" y2="{box_y}" stroke="#555"/>'
               f'<rect x="{x_of(q1):.1f}" y="{box_y - 8}" width="{max(x_of(q3) - x_of(q1), 1):.1f}" height="16" '
               f'fill="#cfe3f3" stroke="#0072B2"/><line x1="{x_of(med):.1f}" x2="{x_of(med):.1f}" y1="{box_y - 8}" '
               f'y2="{box_y + 8}" stroke="#0072B2" stroke-width="3"/></g>')
    if len(values) <= DOTS_MAX:
        out += [f'<circle cx="{x_of(v):.1f}" cy="{box_y + 16}" r="3.5" fill="#E69F00"><title>{escape(p)}: '
                f'{label(v)} {escape(unit)}</title></circle>' for p, v in sorted(values.items())]
    bar_w = w / len(counts)
    for i, c in enumerate(counts):
        h = c / top * plot_h
        out.append(f'<rect x="{x0 + i * bar_w + 1:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                   f'fill="#0072B2" fill-opacity="0.75"><title>{label(edges[i])} to {label(edges[i + 1])} '
                   f'{escape(unit)}: {c:,} participant{"" if c == 1 else "s"}</title></rect>')
        if c and len(counts) <= 24:
            out.append(f'<text x="{x0 + (i + 0.5) * bar_w:.1f}" y="{base - h - 3:.1f}" class="bar" '
                       f'text-anchor="middle">{c:,}</text>')
    out.append(f'<line x1="{x0:.1f}" x2="{x0 + w:.1f}" y1="{base}" y2="{base}" stroke="#999"/>')
    every = max(1, math.ceil((len(edges) - 1) / 4))
    for i, e in enumerate(edges):
        if i in (0, len(edges) - 1) or (i % every == 0 and len(edges) - 1 - i >= 1.5 * every):
            anchor = "start" if i == 0 else "end" if i == len(edges) - 1 else "middle"
            out.append(f'<text x="{x_of(e):.1f}" y="{base + 16}" class="tick" text-anchor="{anchor}">{label(e)}</text>')
    return out


def _label(step: float) -> Callable[[float], str]:
    """Formats a value as finely as the bins are wide (1,000 steps; 6.25 h; 90 %)."""
    decimals = next(n for n in (0, 1, 2, 3) if abs(step * 10 ** n - round(step * 10 ** n)) < 1e-9 or n == 3)
    return lambda v: f"{v:,.{decimals}f}"


BANDS = (("no data", "#d9d9d9"), ("under half the threshold", "#e66101"), ("under the threshold", "#fdb863"),
         ("valid", "#92c5de"), ("20 h or more", "#0571b0"))


def band(hours: float, threshold_h: float) -> int:
    """Index into ``BANDS`` of a day worn ``hours``."""
    if hours <= 0:
        return 0
    if hours < threshold_h / 2:
        return 1
    if hours < threshold_h:
        return 2
    return 4 if hours >= 20 else 3


def adherence(data: ReportData, links: dict[str, str] | None = None) -> str:
    """Participants x days, least complete first; labelled cells up to ``LABELLED_MAX`` participants."""
    days, order = data.days, completeness_order(data)
    if len(order) <= LABELLED_MAX:
        return heatmap(data.wear, days, data.threshold_h, order=order)
    title = "Wear-time completeness"
    row_h = max(1.0, min(4.0, 900 / len(order)))
    left = LEFT + 46
    cell_w = (WIDTH - left - RIGHT) / len(days)
    height = math.ceil(TOP + len(order) * row_h + 44)
    paths: list[list[str]] = [[] for _ in BANDS]  # in grid units: a day is 1 wide, a participant 1 high
    hits = []
    for row, p in enumerate(order):
        per_day = data.wear[p]
        start, current = 0, band(per_day.get(days[0], (0.0, False))[0], data.threshold_h)
        for i in range(1, len(days) + 1):
            b = band(per_day.get(days[i], (0.0, False))[0], data.threshold_h) if i < len(days) else -1
            if b != current:
                paths[current].append(f"M{start} {row}h{i - start}v1h-{i - start}z")
                start, current = i, b
        hit = (f'<rect y="{row}" width="{len(days)}" height="1" class="hit"><title>{escape(p)}: '
               f'{sum(ok for _, ok in per_day.values())}/{len(per_day)} valid days, '
               f'{mean_wear_h(data, p) or 0:.1f} h/day</title></rect>')
        hits.append(f'<a href="{escape(links[p])}">{hit}</a>' if links and p in links else hit)
    body = [f'<g transform="translate({left} {TOP}) scale({cell_w:.4f} {row_h:g})" shape-rendering="crispEdges">']
    body += [f'<path d="{"".join(d)}" fill="{color}"/>' for d, (_, color) in zip(paths, BANDS, strict=True) if d]
    body += hits + ["</g>"]
    for t in svg.ticks(len(order), 4):
        if 1 <= t <= len(order):
            y = TOP + (t - 0.5) * row_h
            body.append(f'<text x="{left - 8}" y="{y + 4:.1f}" class="tick" text-anchor="end">{t:,.0f}</text>')
    body.append(f'<text x="16" y="{TOP + len(order) * row_h / 2:.0f}" class="axis" text-anchor="middle" '
                f'transform="rotate(-90 16 {TOP + len(order) * row_h / 2:.0f})">participants, least complete first'
                f'</text>')
    body += svg.x_labels([svg.day_label(d) for d in days], lambda i: left + (i + 0.5) * cell_w, height - 18)
    t = data.threshold_h
    names = ["no data", f"under {t / 2:g} h", f"{t / 2:g} to {t:g} h (not valid)", f"{t:g} to 20 h (valid)",
             "20 h or more"]
    legend = [(name, color) for name, (_, color) in zip(names, BANDS, strict=True)]
    return svg.document(title, height, body + svg.legend(legend))

