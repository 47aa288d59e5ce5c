"""The cohort report: one self-contained HTML file with five inline SVG charts, read from the views.

Charts: daily steps, sleep stages per night, active-zone minutes per week, resting heart rate, and
wear-time completeness (participants x days). It is meant for a demo or a small cohort; dashboards over a
large cohort belong in Looker Studio (docs/reporting.md). The seams:

- ``data.py``: ``ReportData`` and ``collect`` (the views' SQL, run through ``Warehouse.query``);
- ``svg.py``: SVG primitives (geometry, ticks, axes, labels, legends);
- ``charts.py``: the five charts;
- ``page.py``: the HTML page (``render``) and ``write_report``.
"""

from tools.report.charts import MAX_LINES
from tools.report.data import ReportData, collect
from tools.report.page import render, write_report

__all__ = ["MAX_LINES", "ReportData", "collect", "render", "write_report"]
