"""The cohort report: one self-contained HTML file with five inline SVG charts, read from the views.

Charts: daily steps, sleep stages per night, active-zone minutes per week, resting heart rate, and
wear-time completeness (participants x days). The file loads nothing: no script, no font, no image,
no link; a Content-Security-Policy of ``default-src 'none'`` makes the browser enforce that. It is
meant for a demo or a small cohort (line charts switch to grey lines plus the cohort median above
ten participants); dashboards over a large cohort belong in Looker Studio (docs/reporting.md).

Every number comes from the analytics views (``helper/views.py``) through ``Warehouse.query``, so the
same code reports on DuckDB and on BigQuery.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from fitbit.ports import Warehouse

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#999933", "#882255",
           "#44AA99")  # Okabe-Ito first: distinguishable with the common colour-vision deficiencies
STAGES = (("deep", "Deep", "#1f3a93"), ("light", "Light", "#5b8def"), ("rem", "REM", "#9b59b6"),
          ("awake", "Awake", "#f39c12"), ("asleep", "Asleep (classic)", "#7fb3d5"),
          ("restless", "Restless (classic)", "#f1948a"))
ZONES = (("fat_burn", "Fat burn (x1)", "#f6c344"), ("cardio", "Cardio (x2)", "#f08a24"),
         ("peak", "Peak (x2)", "#d7263d"))
MAX_LINES = 10
WIDTH, LEFT, RIGHT, TOP, BOTTOM = 1100, 80, 170, 16, 44
MAX_BAR = 56  # px: a lone week must not become a wall
Scale = Callable[[float], float]  # a value to a y pixel
Position = Callable[[int], float]  # an index to an x pixel


@dataclass(frozen=True)
class ReportData:
    """What the charts need, keyed by participant then civil day (or ISO week start)."""

    steps: dict[str, dict[date, float]]
    resting_hr: dict[str, dict[date, float]]
    sleep: dict[str, dict[date, dict[str, float]]]   # stage key -> minutes; {} while Google processes the night
    weeks: dict[str, dict[date, tuple[float, float, float, int]]]  # fat burn, cardio, peak, days with data
    wear: dict[str, dict[date, tuple[float, bool]]]  # hours worn, valid day
    threshold_h: float

    @property
    def participants(self) -> list[str]:
        return sorted(set(self.wear) | set(self.steps) | set(self.sleep))

    @property
    def days(self) -> list[date]:
        known = {d for per in self.wear.values() for d in per} | {d for per in self.steps.values() for d in per} \
            | {d for per in self.sleep.values() for d in per}
        if not known:
            return []
        first, last = min(known), max(known)
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def collect(warehouse: Warehouse) -> ReportData:
    """Read the five charts' data from the views (BigQuery SQL; runs on either warehouse)."""
    steps: dict[str, dict[date, float]] = {}
    resting: dict[str, dict[date, float]] = {}
    for participant, day, n_steps, bpm in warehouse.query(
            "SELECT participant_id, civil_date, steps, resting_heart_rate_bpm FROM daily_summary"):
        if n_steps is not None:
            steps.setdefault(participant, {})[day] = float(n_steps)
        if bpm is not None:
            resting.setdefault(participant, {})[day] = float(bpm)
    sleep: dict[str, dict[date, dict[str, float]]] = {}
    for participant, day, processed, *minutes in warehouse.query(
            "SELECT participant_id, civil_date, LOGICAL_AND(processed), SUM(deep_minutes), SUM(light_minutes), "
            "SUM(rem_minutes), SUM(minutes_awake), SUM(asleep_stage_minutes), SUM(restless_minutes) "
            "FROM sleep_quality GROUP BY participant_id, civil_date"):
        stages = {key: float(m) for (key, _, _), m in zip(STAGES, minutes, strict=True) if m}
        sleep.setdefault(participant, {})[day] = stages if processed else {}
    weeks: dict[str, dict[date, tuple[float, float, float, int]]] = {}
    for participant, week, fat_burn, cardio, peak, n_days in warehouse.query(
            "SELECT participant_id, week_start, azm_fat_burn, azm_cardio, azm_peak, days_with_data "
            "FROM active_zones_weekly"):
        weeks.setdefault(participant, {})[week] = (_num(fat_burn) or 0.0, _num(cardio) or 0.0, _num(peak) or 0.0,
                                                   int(n_days))
    wear: dict[str, dict[date, tuple[float, bool]]] = {}
    threshold = 10.0
    for participant, day, hours, valid, threshold_h in warehouse.query(
            "SELECT participant_id, civil_date, wear_hours, valid_day, valid_day_min_wear_hours "
            "FROM data_completeness"):
        wear.setdefault(participant, {})[day] = (float(hours), bool(valid))
        threshold = float(threshold_h)
    return ReportData(steps, resting, sleep, weeks, wear, threshold)


# --- SVG primitives ---------------------------------------------------------------------------------

def _ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``high``."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def _svg(title: str, height: int, body: list[str]) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower())
    return (f'<svg role="img" aria-labelledby="{slug}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}"><title id="{slug}">{escape(title)}</title>{"".join(body)}</svg>')


def _axes(ticks: list[float], y_of: Scale, plot_h: float, unit: str) -> list[str]:
    out = []
    for t in ticks:
        y = y_of(t)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{LEFT - 8}" y="{y + 4:.1f}" class="tick" text-anchor="end">{_fmt(t)}</text>')
    out.append(f'<text x="16" y="{TOP + plot_h / 2:.0f}" class="axis" transform="rotate(-90 16 {TOP + plot_h / 2:.0f})"'
               f' text-anchor="middle">{escape(unit)}</text>')
    return out


def _x_labels(labels: list[str], x_of: Position, y: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 16))
    return [f'<text x="{x_of(i):.1f}" y="{y:.1f}" class="tick" text-anchor="middle">{escape(text)}</text>'
            for i, text in enumerate(labels) if i % every == 0]


def _legend(items: list[tuple[str, str]], top: float = TOP) -> list[str]:
    x = WIDTH - RIGHT + 16
    return [f'<rect x="{x}" y="{top + i * 20:.0f}" width="12" height="12" fill="{color}" rx="2"/>'
            f'<text x="{x + 18}" y="{top + i * 20 + 10:.0f}" class="legend">{escape(name)}</text>'
            for i, (name, color) in enumerate(items)]


def _day_label(day: date) -> str:
    return day.strftime("%b %d").replace(" 0", " ")


# --- charts -----------------------------------------------------------------------------------------

def line_chart(title: str, series: dict[str, dict[date, float]], days: list[date], unit: str,
               *, from_zero: bool = True, height: int = 300) -> str:
    """One line per participant over civil days; a missing day breaks the line (absence is not zero).

    Above ``MAX_LINES`` participants the lines turn grey and the cohort median is drawn on top.
    """
    values = [v for per in series.values() for v in per.values()]
    if not values or not days:
        return _empty(title)
    low = 0.0 if from_zero else max(0.0, math.floor(min(values) / 5) * 5 - 5)
    ticks = [low + t for t in _ticks(max(values) - low)]
    plot_h = height - TOP - BOTTOM
    span = ticks[-1] - low or 1.0
    step = (WIDTH - LEFT - RIGHT) / max(1, len(days) - 1) if len(days) > 1 else 0

    def x_of(i: int) -> float:
        return LEFT + (i * step if len(days) > 1 else (WIDTH - LEFT - RIGHT) / 2)

    def y_of(v: float) -> float:
        return TOP + plot_h - (v - low) / span * plot_h

    body = _axes(ticks, y_of, plot_h, unit) + _x_labels([_day_label(d) for d in days], x_of, height - BOTTOM + 20)
    many = len(series) > MAX_LINES
    legend = []
    for n, (participant, per_day) in enumerate(sorted(series.items())):
        color = "#b8b8b8" if many else PALETTE[n % len(PALETTE)]
        body += _polyline(per_day, days, x_of, y_of, color, participant, width=1.2 if many else 2.2)
        if not many:
            legend.append((participant, color))
    if many:
        median = {d: statistics.median(per[d] for per in series.values() if d in per)
                  for d in days if any(d in per for per in series.values())}
        body += _polyline(median, days, x_of, y_of, "#0072B2", "cohort median", width=3)
        legend = [(f"cohort median ({len(series)})", "#0072B2"), ("one participant", "#b8b8b8")]
    return _svg(title, height, body + _legend(legend))


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
                f'<title>{escape(label)} {d.isoformat()}: {_fmt(per_day[d])}</title></circle>' for x, y, d in run]
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
        return _empty(title)
    if len(sleep) > MAX_LINES:
        sleep = {f"mean of {len(sleep)}": _cohort_nights(sleep)}
    strip_h, gap = 120, 34
    height = TOP + len(sleep) * (strip_h + gap) + 24
    hours = max((sum(stages.values()) for per in sleep.values() for stages in per.values()), default=0) / 60
    ticks = _ticks(hours or 1.0, 3)
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
                        f'<text x="{LEFT - 8}" y="{y_of(t) + 4:.1f}" class="tick" text-anchor="end">{_fmt(t)} h</text>')
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
    body += _x_labels([_day_label(d) for d in days], lambda i: LEFT + (i + 0.5) * band, height - 8)
    used = {k for per in sleep.values() for stages in per.values() for k, v in stages.items() if v}
    legend = [(n, c) for k, n, c in STAGES if k in used]
    body += _legend(legend, TOP + gap)
    if pending:
        x, y = WIDTH - RIGHT + 16, TOP + gap + 20 * len(legend)
        body.append(f'<rect x="{x}" y="{y}" width="12" height="12" class="pending"/>'
                    f'<text x="{x + 18}" y="{y + 10}" class="legend">still processing</text>')
    return _svg(title, height, body)


def azm_chart(weeks: dict[str, dict[date, tuple[float, float, float, int]]], height: int = 340) -> str:
    """Active-zone minutes per ISO week, stacked by zone; one bar per participant (or the cohort mean).

    Each bar is named under the axis; a week with fewer than seven days of data says so in its label.
    """
    title = "Active-zone minutes per week"
    starts = sorted({w for per in weeks.values() for w in per})
    if not starts:
        return _empty(title)
    if len(weeks) > MAX_LINES:
        means: dict[date, tuple[float, float, float, int]] = {}
        for w in starts:
            rows = [per[w] for per in weeks.values() if w in per]
            fat_burn, cardio, peak = (sum(r[k] for r in rows) / len(rows) for k in range(3))
            means[w] = (fat_burn, cardio, peak, max(r[3] for r in rows))
        weeks = {f"mean of {len(weeks)}": means}
    plot_h = height - TOP - BOTTOM - 40
    top_value = max(sum(v[:3]) for per in weeks.values() for v in per.values()) or 1.0
    ticks = _ticks(top_value)
    group = (WIDTH - LEFT - RIGHT) / len(starts)
    bar = min(group * 0.8 / len(weeks), MAX_BAR)
    inset = (group - bar * len(weeks)) / 2
    baseline = TOP + plot_h

    def y_of(v: float) -> float:
        return baseline - v / ticks[-1] * plot_h

    body = _axes(ticks, y_of, plot_h, "AZM (credits)")
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
        labels.append(f"week of {_day_label(w)}" + ("" if covered == 7 else f" ({covered} of 7 days)"))
    body += _x_labels(labels, lambda i: LEFT + (i + 0.5) * group, height - 12)
    return _svg(title, height, body + _legend([(n, c) for _, n, c in ZONES]))


def heatmap(wear: dict[str, dict[date, tuple[float, bool]]], days: list[date], threshold_h: float) -> str:
    """Hours worn per participant and civil day; days below the valid-day threshold are outlined in red."""
    title = "Wear-time completeness"
    if not wear or not days:
        return _empty(title)
    cell_h = 26 if len(wear) <= 40 else 12  # a large cohort stays one screen wide and a few screens tall
    left = LEFT + 46
    cell_w = (WIDTH - left - RIGHT) / len(days)
    labelled = cell_h >= 20 and cell_w >= 18
    height = TOP + len(wear) * cell_h + 40
    body: list[str] = []
    for row, (participant, per_day) in enumerate(sorted(wear.items())):
        y = TOP + row * cell_h
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
    body += _x_labels([_day_label(d) for d in days], lambda i: left + (i + 0.5) * cell_w, height - 18)
    legend = [("24 h worn", "rgba(8, 81, 156, 0.93)"), ("12 h worn", "rgba(8, 81, 156, 0.50)"),
              ("no data", "#e6e6e6")]
    body += _legend(legend)
    x, y = WIDTH - RIGHT + 16, TOP + 20 * len(legend)
    body.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="none" stroke="#d7263d" stroke-width="2"/>'
                f'<text x="{x + 18}" y="{y + 10}" class="legend">below {threshold_h:g} h</text>')
    return _svg(title, height, body)


def _empty(title: str) -> str:
    return _svg(title, 60, [f'<text x="{LEFT}" y="36" class="tick">No data yet.</text>'])


# --- the page ---------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}
main{max-width:1120px;margin:auto}h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 4px}
p.note{color:#555;font-size:13px;margin:0 0 8px}dl{display:flex;gap:28px;margin:12px 0 0;flex-wrap:wrap}
dt{color:#555;font-size:12px}dd{margin:0;font-size:20px;font-weight:600}
svg{display:block;max-width:100%;height:auto}.grid{stroke:#e3e3e3}.tick{font-size:12px;fill:#555}
.axis{font-size:12px;fill:#333}.legend{font-size:12px;fill:#333}.strip{font-size:13px;font-weight:600;fill:#333}
.bar{font-size:10px;fill:#333}.pending{fill:none;stroke:#888;stroke-dasharray:4 3}
.cell{font-size:11px;fill:#333}.cell-dark{font-size:11px;fill:#fff}
footer{color:#777;font-size:12px;margin-top:32px}
"""


def render(data: ReportData, *, dataset: str, generated_at: datetime | None = None) -> str:
    """The report as one HTML document (inline CSS and SVG only)."""
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    days, participants = data.days, data.participants
    cells = [v for per in data.wear.values() for v in per.values()]
    valid = sum(1 for _, ok in cells if ok)
    nights = sum(1 for per in data.sleep.values() for stages in per.values() if stages)
    period = f"{days[0].isoformat()} to {days[-1].isoformat()}" if days else "no data"
    facts = [("Participants", str(len(participants))), ("Civil days", f"{len(days)} ({period})"),
             (f"Valid days (≥ {data.threshold_h:g} h worn)", f"{valid} of {len(cells)}"),
             ("Nights with sleep stages", str(nights))]
    sections = [
        ("Daily steps", "daily_summary.steps (the app's daily total, dailyRollUp). A gap is a day without data.",
         line_chart("Daily steps", data.steps, days, "steps")),
        ("Sleep stages per night", "sleep_quality: minutes per stage, all sessions ending that civil day (naps "
         "included, as classic asleep / restless). A dashed outline marks a night Google is still processing.",
         sleep_chart(data.sleep, days)),
        ("Active-zone minutes per week", "active_zones_weekly: ISO weeks from Monday, one bar per participant; a "
         "week with fewer than 7 days of data says so. Credits: fat burn 1 per minute, cardio and peak 2.",
         azm_chart(data.weeks)),
        ("Resting heart rate", "daily_summary.resting_heart_rate_bpm (daily-resting-heart-rate).",
         line_chart("Resting heart rate", data.resting_hr, days, "bpm", from_zero=False, height=260)),
        ("Wear-time completeness", f"data_completeness: hours with heart-rate data per civil day; a valid day has at "
         f"least {data.threshold_h:g} h.", heatmap(data.wear, days, data.threshold_h)),
    ]
    parts = [f"<h2>{escape(h)}</h2><p class=\"note\">{escape(note)}</p>{svg}" for h, note, svg in sections]
    facts_html = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Fitbit cohort report: {escape(dataset)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>Fitbit cohort report</h1><p class=\"note\">Dataset <b>{escape(dataset)}</b>, generated {generated}. "
        f"Civil days are each participant's local calendar days.</p><dl>{facts_html}</dl>"
        + "".join(parts)
        + "<footer>Self-contained: every chart is inline SVG generated from the analytics views "
          "(bigquery_sql/views/); the file loads nothing from the network.</footer></main></body></html>\n"
    )


def write_report(warehouse: Warehouse, path: Path, *, dataset: str | None = None) -> Path:
    """Read the views and write the report to ``path`` (parent folders are created; replaced atomically).

    Args:
        warehouse: either warehouse adapter.
        path: the HTML file to write.
        dataset: the name shown in the title; the warehouse's own ``dataset`` by default.

    Returns:
        The path written.
    """
    dataset = dataset or str(getattr(warehouse, "dataset", ""))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render(collect(warehouse), dataset=dataset)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
