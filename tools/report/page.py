"""The page: one self-contained HTML document (overview, action list, charts, participants) and writing it.

The file loads nothing: no script, no font, no image, no link; a Content-Security-Policy of
``default-src 'none'`` makes the browser enforce that. Sections, in reading order: the facts; who needs
action (cards with detail); the cohort's distributions; the adherence map; the daily charts (one line per
participant up to ``MAX_LINES``, the cohort's median and bands above); the participants table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from pathlib import Path

from fitbit.ports import Warehouse
from helper.secrets import SecretStore
from tools.report.attention import SILENT_DAYS, needs_action
from tools.report.charts import azm_chart, line_chart, sleep_chart
from tools.report.cohort import adherence, distributions
from tools.report.data import DEFAULT_DAYS, ReportData, Window, collect, read_grants
from tools.report.detail import action_list, links, participants_table

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;background:#fff}
main{max-width:1120px;margin:auto}h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 4px}
p.note{color:#555;font-size:13px;margin:0 0 8px}dl{display:flex;gap:28px;margin:12px 0 0;flex-wrap:wrap}
dt{color:#555;font-size:12px}dd{margin:0;font-size:20px;font-weight:600}
svg{display:block;max-width:100%;height:auto}.grid{stroke:#e3e3e3}.tick{font-size:12px;fill:#555}
.axis{font-size:12px;fill:#333}.legend{font-size:12px;fill:#333}.strip{font-size:13px;font-weight:600;fill:#333}
.bar{font-size:10px;fill:#333}.pending{fill:none;stroke:#888;stroke-dasharray:4 3}
.cell{font-size:11px;fill:#333}.cell-dark{font-size:11px;fill:#fff}.hit{fill:transparent}.hit:hover{fill:#0003}
details.card{border:1px solid #ddd;border-radius:6px;margin:4px 0;padding:4px 10px}details.group{margin:6px 0}
details.group>summary{font-weight:600;font-size:15px;margin:4px 0}p.counts{font-size:14px;font-weight:600}
details.card[open]{background:#fafafa}summary{cursor:pointer;font-size:14px}details ul{font-size:13px;margin:6px 0}
.r0{color:#b2182b}.r1{color:#d6604d}.r2{color:#8c510a}.r3{color:#555}p.ok{color:#1b7837;font-weight:600}
table{border-collapse:collapse;font-size:12px;margin-top:6px}td,th{padding:2px 10px;text-align:right}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}tbody tr:nth-child(odd){background:#f6f6f6}
:target{outline:2px solid #E69F00}footer{color:#777;font-size:12px;margin-top:32px}
"""


def render(data: ReportData, *, dataset: str, generated_at: datetime | None = None) -> str:
    """The report as one HTML document (inline CSS and SVG only)."""
    now = generated_at or datetime.now(UTC)
    days, participants = data.days, data.participants
    actions = needs_action(data, now)
    cells = [v for per in data.wear.values() for v in per.values()]
    valid = sum(1 for _, ok in cells if ok)
    nights = sum(1 for per in data.sleep.values() for stages in per.values() if stages)
    period = f"{days[0].isoformat()} to {days[-1].isoformat()}" if days else "no data"
    facts = [("Participants", f"{len(participants):,}"), ("Civil days", f"{len(days)} ({period})"),
             (f"Valid days (≥ {data.threshold_h:g} h worn)", f"{valid:,} of {len(cells):,}"),
             ("Nights with sleep stages", f"{nights:,}"), ("Needing action", f"{len(actions):,}")]
    grants = "" if data.grants is not None else " Consent was not checked: no grant records were read."
    sections = [
        ("Needing action", f"Most urgent first: consent problems and failing units (processing_log), no worn minute "
         f"for {SILENT_DAYS}+ days or a stale tracker sync, then low wear. Open a line for the reasons, their fixes "
         f"and the participant's days.{grants}", action_list(data, actions)),
        ("Distributions across participants", "One value per participant: the mean over their days with data "
         "(steps per day, hours asleep per finished night), hours worn per covered day, and the share of valid "
         "days. Box: quartiles and median; whiskers: minimum to maximum.", distributions(data)),
        ("Wear-time completeness", f"data_completeness: hours with heart-rate data per civil day, one row per "
         f"participant, least complete first; a valid day has at least {data.threshold_h:g} h.",
         adherence(data, links(actions))),
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
        ("Participants", "Per participant: share of valid days, means over days with data, last day worn.",
         participants_table(data, actions)),
    ]
    parts = [f"<h2>{escape(h)}</h2><p class=\"note\">{escape(note)}</p>{body}" for h, note, body in sections]
    facts_html = "".join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in facts)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>Fitbit cohort report: {escape(dataset)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>Fitbit cohort report</h1><p class=\"note\">Dataset <b>{escape(dataset)}</b>, generated "
        f"{now:%Y-%m-%d %H:%M} UTC. Civil days are each participant's local calendar days.</p><dl>{facts_html}</dl>"
        + "".join(parts)
        + "<footer>Self-contained: every chart is inline SVG generated from the analytics views "
          "(bigquery_sql/views/); the file loads nothing from the network.</footer></main></body></html>\n"
    )


def write_report(warehouse: Warehouse, path: Path, *, dataset: str | None = None,
                 secrets: SecretStore | None = None, today: date | None = None, days: int = DEFAULT_DAYS) -> Path:
    """Read the views (and the consent records, given a secret store) and write the report to ``path``.

    Parent folders are created; the file is replaced atomically.

    Args:
        warehouse: either warehouse adapter.
        path: the HTML file to write.
        dataset: the name shown in the title; the warehouse's own ``dataset`` by default.
        secrets: where the participants' grants are stored; only their dates are read, to flag expired or
            missing consent. Without it, or when it holds no grant at all, the report says consent was not
            checked (rather than flag every participant).
        today: the last day of the report's window (default: today in UTC; the window reaches one day past it).
        days: the window's length in days (widened back to a Monday); only those days are read, which is what
            lets BigQuery prune partitions.

    Returns:
        The path written.
    """
    dataset = dataset or str(getattr(warehouse, "dataset", ""))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    grants = (read_grants(secrets) or None) if secrets is not None else None  # an empty store says nothing
    window = Window.ending(today or datetime.now(UTC).date(), days)
    html = render(collect(warehouse, grants, window=window), dataset=dataset)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
    return path
