"""The cohort report: one self-contained HTML file of inline SVG, read from the views, readable at 1,000 participants.

Sections: who needs action (consent problems, failing units, silent participants, low wear; a card with detail
each), distributions across participants, the adherence map (participants x days, least complete first),
daily steps, sleep stages, active-zone minutes, resting heart rate, and a table of every participant. Up to
``MAX_LINES`` participants the daily charts draw one line each; above, the cohort's median and percentile
bands. The seams:

- ``data.py``: ``ReportData``, ``collect`` (the views' SQL and the processing log, through ``Warehouse.query``)
  and ``read_grants`` (the dates of the stored consents);
- ``attention.py``: who needs action and why (pure);
- ``svg.py``: SVG primitives (geometry, ticks, axes, labels, legends);
- ``charts.py``: the daily charts and the labelled heat map;
- ``cohort.py``: distributions and the compact adherence map;
- ``detail.py``: the action cards and the participants table;
- ``page.py``: the HTML page (``render``) and ``write_report``, the entry point of ``make report``.
"""

from tools.report.charts import MAX_LINES
from tools.report.data import DEFAULT_DAYS, ReportData, Window, collect
from tools.report.page import render, write_report

__all__ = ["DEFAULT_DAYS", "MAX_LINES", "ReportData", "Window", "collect", "render", "write_report"]
