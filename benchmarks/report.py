"""report_cohort: the HTML report's size and time at 5 and 1,000 participants (issue #14, item 6).

Each cohort is written by ``tools.cohort_warehouse.build`` into a fresh embedded warehouse (the catalogue's
tables and the real views; the pipeline on the simulator would take most of an hour for 1,000). Timed:
``query_s``, reading the views and the processing log (``tools.report.collect``, the views already created),
and ``render_s``, the HTML (``tools.report.render``), each the best of ``rounds``. ``html_kib`` is the UTF-8
size of the file ``write_report`` would write, ``needing_action`` the length of its action list. Consent
records are the cohort's synthetic grants (no secret store is read).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.timing import interleaved
from helper.warehouse import DuckDbWarehouse
from tools.cohort_warehouse import DATASET, build
from tools.report import Window, collect, render
from tools.report.attention import needs_action

NOW = datetime(2026, 11, 6, 9, tzinfo=UTC)  # the morning after the cohort's last day


def bench(sizes: tuple[int, ...] = (5, 1000), days: int = 14, rounds: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        return {"name": "report_cohort", "points": [_point(Path(tmp) / str(n), n, days, rounds) for n in sizes]}


def _point(folder: Path, participants: int, days: int, rounds: int) -> dict[str, Any]:
    started = time.perf_counter()
    cohort = build(folder, participants, days)
    build_s = time.perf_counter() - started
    warehouse = DuckDbWarehouse(cohort.path, DATASET, folder / "staging")
    try:
        window = Window.ending(NOW.date())
        data = collect(warehouse, cohort.grants, window=window)
        best = interleaved({"query": lambda: collect(warehouse, cohort.grants, window=window),
                            "render": lambda: render(data, dataset=DATASET, generated_at=NOW)}, rounds)
    finally:
        warehouse.close()
    html = render(data, dataset=DATASET, generated_at=NOW)
    return {"participants": participants, "days": days, "html_kib": round(len(html.encode()) / 1024, 1),
            "query_s": round(best["query"], 3), "render_s": round(best["render"], 3),
            "needing_action": len(needs_action(data, NOW)), "build_s": round(build_s, 1)}


def summary(figures: dict[str, Any]) -> str:
    cells = "; ".join(f"{p['participants']:,} x {p['days']} days: {p['html_kib']:,} KiB, query {p['query_s']} s, "
                      f"render {p['render_s']} s, {p['needing_action']} needing action" for p in figures["points"])
    return f"{figures['name']}: {cells}"
