"""The page: one self-contained HTML document holding the five charts, and writing it to a file.

The file loads nothing: no script, no font, no image, no link; a Content-Security-Policy of
``default-src 'none'`` makes the browser enforce that.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

from fitbit.ports import Warehouse
from tools.report.charts import azm_chart, heatmap, line_chart, sleep_chart
from tools.report.data import ReportData, collect


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
