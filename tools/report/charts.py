"""The five charts: daily lines, sleep stages per night, active-zone minutes per week, wear-time heatmap.

Absence is not zero: a missing day breaks a line, a night Google is still processing is a dashed outline,
and a day without data is an empty, outlined cell. Above ``MAX_LINES`` participants the line charts show the
cohort median over its interquartile and 10th-90th percentile bands, and the sleep and AZM charts the cohort
mean.
"""

from __future__ import annotations

import math
import statistics
from datetime import date
from html import escape

from tools.report import svg
from tools.report.data import SLEEP_STAGES
from tools.report.svg import BOTTOM, LEFT, RIGHT, TOP, WIDTH, Position, Scale

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#999933", "#882255",
           "#44AA99")  # Okabe-Ito first: distinguishable with the common colour-vision deficiencies
_STAGE_LOOK = {"deep": ("Deep", "#1f3a93"), "light": ("Light", "#5b8def"), "rem": ("REM", "#9b59b6"),
               "awake": ("Awake", "#f39c12"), "asleep": ("Asleep (classic)", "#7fb3d5"),
               "restless": ("Restless (classic)", "#f1948a")}
STAGES = tuple((key, *_STAGE_LOOK[key]) for key in SLEEP_STAGES)  # (key, label, colour), stacking order
ZONES = (("fat_burn", "Fat burn (x1)", "#f6c344"), ("cardio", "Cardio (x2)", "#f08a24"),
         ("peak", "Peak (x2)", "#d7263d"))
MAX_LINES = 10
MAX_BAR = 56  # px: a lone week must not become a wall


def line_chart(title: str, series: dict[str, dict[date, float]], days: list[date], unit: str,
               *, from_zero: bool = True, height: int = 300) -> str:
    """One line per participant over civil days; a missing day breaks the line (absence is not zero).

    Above ``MAX_LINES`` participants the cohort's median and percentile bands replace the lines.
    """
    many = len(series) > MAX_LINES
    cuts = _cuts(series, days) if many else {}
    values = [v for c in cuts.values() for v in (c[1], c[17])] if many else \
        [v for per in series.values() for v in per.values()]
    if not values or not days:
        return svg.empty(title)
    low = 0.0 if from_zero else max(0.0, math.floor(min(values) / 5) * 5 - 5)
    ticks = [low + t for t in svg.ticks(max(values) - low)]
    plot_h = height - TOP - BOTTOM
    span = ticks[-1] - low or 1.0
    step = (WIDTH - LEFT - RIGHT) / max(1, len(days) - 1) if len(days) > 1 else 0

    def x_of(i: int) -> float:
        return LEFT + (i * step if len(days) > 1 else (WIDTH - LEFT - RIGHT) / 2)

    def y_of(v: float) -> float:
        return TOP + plot_h - (v - low) / span * plot_h

    body = svg.axes(ticks, y_of, plot_h, unit) + svg.x_labels([svg.day_label(d) for d in days], x_of, height - BOTTOM + 20)
    if many:
        return svg.document(title, height, body + _bands(cuts, len(series), days, x_of, y_of))
    legend = []
    for n, (participant, per_day) in enumerate(sorted(series.items())):
        color = PALETTE[n % len(PALETTE)]
        body += _polyline(per_day, days, x_of, y_of, color, participant, width=2.2)
        legend.append((participant, color))
    return svg.document(title, height, body + svg.legend(legend))


def _cuts(series: dict[str, dict[date, float]], days: list[date]) -> dict[date, list[float]]:
    """Per day with data, 19 cut points: index k is the (k + 1) * 5th percentile of the participants' values."""
    cuts = {}
    for d in days:
        values = sorted(per[d] for per in series.values() if d in per)
        if values:
            cuts[d] = statistics.quantiles(values, n=20, method="inclusive") if len(values) > 1 else values * 19
    return cuts


def _bands(cuts: dict[date, list[float]], participants: int, days: list[date], x_of: Position,
           y_of: Scale) -> list[str]:
    """The cohort per day: the median over its interquartile and 10th-90th percentile bands (the axis spans the
    bands, not the extremes). A day nobody has data for breaks the median; the bands join the days with data."""
    index = {d: i for i, d in enumerate(days)}
    out = []
    for lo, hi, color in ((1, 17, "#deebf7"), (4, 14, "#9ecae1")):
        upper = " ".join(f"{x_of(index[d]):.1f},{y_of(c[hi]):.1f}" for d, c in cuts.items())
        lower = " ".join(f"{x_of(index[d]):.1f},{y_of(c[lo]):.1f}" for d, c in reversed(cuts.items()))
        out.append(f'<polygon points="{upper} {lower}" fill="{color}"/>')
    out += _polyline({d: c[9] for d, c in cuts.items()}, days, x_of, y_of, "#0072B2", "cohort median", width=2.5)
    return out + svg.legend([(f"median of {participants:,}", "#0072B2"), ("middle 50 %", "#9ecae1"),
                             ("middle 80 %", "#deebf7")])


def _polyline(per_day: dict[date, float], days: list[date], x_of: Position, y_of: Scale, color: str,
              label: str, *, width: float) -> list[str]:
    out, run = [], []
    for i, day in enumerate([*days, None]):
        if day is not None and day in per_day:
            run.append((x_of(i), y_of(per_day[day]), day))
            continue
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in run)
            out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="{width}"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{width + 1:.1f}" fill="{color}">'
                f'<title>{escape(label)} {d.isoformat()}: {svg.fmt(per_day[d])}</title></circle>' for x, y, d in run]
        run = []
    return out


def _cohort_nights(sleep: dict[str, dict[date, dict[str, float]]]) -> dict[date, dict[str, float]]:
    """Mean minutes per stage per night over the participants with a finished night that day."""
    out: dict[date, dict[str, float]] = {}
    for day in sorted({d for per in sleep.values() for d in per}):
        finished = [per[day] for per in sleep.values() if per.get(day)]
        out[day] = {key: sum(n.get(key, 0.0) for n in finished) / len(finished) for key, _, _ in STAGES} \
            if finished else {}
    return out


def sleep_chart(sleep: dict[str, dict[date, dict[str, float]]], days: list[date]) -> str:
    """Stacked stage minutes per night (dated by wake-up day), one strip per participant.

    A night Google is still processing has no stages yet: it is drawn as a dashed outline. Above
    ``MAX_LINES`` participants one strip shows the cohort's mean night.
    """
    title = "Sleep stages per night"
    if not sleep or not days:
        return svg.empty(title)
    if len(sleep) > MAX_LINES:
        sleep = {f"mean of {len(sleep):,}": _cohort_nights(sleep)}
    strip_h, gap = 120, 34
    height = TOP + len(sleep) * (strip_h + gap) + 24
    hours = max((sum(stages.values()) for per in sleep.values() for stages in per.values()), default=0) / 60
    ticks = svg.ticks(hours or 1.0, 3)
    band = (WIDTH - LEFT - RIGHT) / len(days)
    body: list[str] = []
    pending = False
    for row, (participant, nights) in enumerate(sorted(sleep.items())):
        top = TOP + row * (strip_h + gap) + gap

        def y_of(h: float, top: float = top) -> float:
            return top + strip_h - h / ticks[-1] * strip_h

        body.append(f'<text x="{LEFT}" y="{top - 12}" class="strip">{escape(participant)}</text>')
        for t in ticks:
            body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y_of(t):.1f}" y2="{y_of(t):.1f}" class="grid"/>'
                        f'<text x="{LEFT - 8}" y="{y_of(t) + 4:.1f}" class="tick" text-anchor="end">{svg.fmt(t)} h</text>')
        for i, day in enumerate(days):
            x = LEFT + i * band + band * 0.15
            if day in nights and not nights[day]:
                pending = True
                body.append(f'<rect x="{x:.1f}" y="{top + strip_h * 0.5:.1f}" width="{band * 0.7:.1f}" '
                            f'height="{strip_h * 0.5:.1f}" class="pending"><title>{escape(participant)} '
                            f'{day.isoformat()}: Google is still processing this night</title></rect>')
            level = 0.0
            for key, name, color in STAGES:
                minutes = nights.get(day, {}).get(key, 0.0)
                if not minutes:
                    continue
                y0, y1 = y_of(level / 60), y_of((level + minutes) / 60)
                body.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{band * 0.7:.1f}" height="{y0 - y1:.1f}" '
                            f'fill="{color}"><title>{escape(participant)} {day.isoformat()} {name}: '
                            f'{minutes:.0f} min</title></rect>')
                level += minutes
    body += svg.x_labels([svg.day_label(d) for d in days], lambda i: LEFT + (i + 0.5) * band, height - 8)
    used = {k for per in sleep.values() for stages in per.values() for k, v in stages.items() if v}
    legend = [(n, c) for k, n, c in STAGES if k in used]
    body += svg.legend(legend, TOP + gap)
    if pending:
        x, y = WIDTH - RIGHT + 16, TOP + gap + 20 * len(legend)
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" class="pending"/>'
                    f'<text x="{x + 18}" y="{y + 10}" class="legend">still processing</text>')
    return svg.document(title, height, body)


def azm_chart(weeks: dict[str, dict[date, tuple[float, float, float, int]]], height: int = 340) -> str:
    """Active-zone minutes per ISO week, stacked by zone; one bar per participant (or the cohort mean).

    Each bar is named under the axis; a week with fewer than seven days of data says so in its label.
    """
    title = "Active-zone minutes per week"
    starts = sorted({w for per in weeks.values() for w in per})
    if not starts:
        return svg.empty(title)
    if len(weeks) > MAX_LINES:
        means: dict[date, tuple[float, float, float, int]] = {}
        for w in starts:
            rows = [per[w] for per in weeks.values() if w in per]
            fat_burn, cardio, peak = (sum(r[k] for r in rows) / len(rows) for k in range(3))
            means[w] = (fat_burn, cardio, peak, max(r[3] for r in rows))
        weeks = {f"mean of {len(weeks):,}": means}
    plot_h = height - TOP - BOTTOM - 40
    top_value = max(sum(v[:3]) for per in weeks.values() for v in per.values()) or 1.0
    ticks = svg.ticks(top_value)
    group = (WIDTH - LEFT - RIGHT) / len(starts)
    bar = min(group * 0.8 / len(weeks), MAX_BAR)
    inset = (group - bar * len(weeks)) / 2
    baseline = TOP + plot_h

    def y_of(v: float) -> float:
        return baseline - v / ticks[-1] * plot_h

    body = svg.axes(ticks, y_of, plot_h, "AZM (credits)")
    for n, (participant, per_week) in enumerate(sorted(weeks.items())):
        for i, week in enumerate(starts):
            if week not in per_week:
                continue
            x = LEFT + i * group + inset + n * bar
            level = 0.0
            for (_, name, color), value in zip(ZONES, per_week[week][:3], strict=True):
                if value:
                    y0, y1 = y_of(level), y_of(level + value)
                    body.append(f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar * 0.88:.1f}" height="{y0 - y1:.1f}" '
                                f'fill="{color}"><title>{escape(participant)} week of {week.isoformat()} {name}: '
                                f'{value:.0f}</title></rect>')
                level += value
            cx, cy = x + bar * 0.44, baseline + 12
            turn = f' transform="rotate(-35 {cx:.1f} {cy:.1f})" text-anchor="end"' if bar < 40 else \
                ' text-anchor="middle"'
            body.append(f'<text x="{cx:.1f}" y="{cy:.1f}" class="bar"{turn}>{escape(participant)}</text>')
    labels = []
    for w in starts:
        covered = max(per[w][3] for per in weeks.values() if w in per)
        labels.append(f"week of {svg.day_label(w)}" + ("" if covered == 7 else f" ({covered} of 7 days)"))
    body += svg.x_labels(labels, lambda i: LEFT + (i + 0.5) * group, height - 12)
    return svg.document(title, height, body + svg.legend([(n, c) for _, n, c in ZONES]))


def heatmap(wear: dict[str, dict[date, tuple[float, bool]]], days: list[date], threshold_h: float,
            order: list[str] | None = None) -> str:
    """Hours worn per participant and civil day; days below the valid-day threshold are outlined in red.

    Rows follow ``order`` (by id when ``None``).
    """
    title = "Wear-time completeness"
    if not wear or not days:
        return svg.empty(title)
    cell_h = 26 if len(wear) <= 40 else 12  # a large cohort stays one screen wide and a few screens tall
    left = LEFT + 46
    cell_w = (WIDTH - left - RIGHT) / len(days)
    labelled = cell_h >= 20 and cell_w >= 18
    height = TOP + len(wear) * cell_h + 40
    body: list[str] = []
    for row, participant in enumerate(order if order is not None else sorted(wear)):
        y, per_day = TOP + row * cell_h, wear[participant]
        body.append(f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.1f}" class="tick" '
                    f'text-anchor="end">{escape(participant)}</text>')
        for i, day in enumerate(days):
            x = left + i * cell_w
            hours, valid = per_day.get(day, (0.0, False))
            shade = 0.08 + 0.85 * min(hours, 24) / 24
            fill = "#e6e6e6" if hours == 0 else f"rgba(8, 81, 156, {shade:.2f})"
            stroke = "" if valid else ' stroke="#d7263d" stroke-width="2"'
            body.append(f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{max(cell_w - 2, 1):.1f}" height="{cell_h - 2}" '
                        f'fill="{fill}"{stroke}><title>{escape(participant)} {day.isoformat()}: {hours:.1f} h worn'
                        f'{"" if valid else " (not a valid day)"}</title></rect>')
            if labelled:
                body.append(f'<text x="{x + cell_w / 2:.1f}" y="{y + cell_h / 2 + 4:.1f}" '
                            f'class="{"cell-dark" if shade > 0.5 else "cell"}" text-anchor="middle">{hours:.0f}</text>')
    body += svg.x_labels([svg.day_label(d) for d in days], lambda i: left + (i + 0.5) * cell_w, height - 18)
    legend = [("24 h worn", "rgba(8, 81, 156, 0.93)"), ("12 h worn", "rgba(8, 81, 156, 0.50)"),
              ("no data", "#e6e6e6")]
    body += svg.legend(legend)
    x, y = WIDTH - RIGHT + 16, TOP + 20 * len(legend)
    body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="none" stroke="#d7263d" stroke-width="2"/>'
                f'<text x="{x + 18}" y="{y + 10}" class="legend">below {threshold_h:g} h</text>')
    return svg.document(title, height, body)
