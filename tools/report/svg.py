"""SVG primitives for the report's charts: the page geometry, round ticks, axes, labels, legends.

Everything returns markup strings; text is escaped here, so a participant id can never inject markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from html import escape

WIDTH, LEFT, RIGHT, TOP, BOTTOM = 1100, 80, 170, 16, 44
Scale = Callable[[float], float]  # a value to a y pixel
Position = Callable[[int], float]  # an index to an x pixel


def ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``high``."""
    if high <= 0:
        return [0.0, 1.0]
    raw = high / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(high / step - 1e-9) + 1)]


def fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def document(title: str, height: int, body: list[str]) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower())
    return (f'<svg role="img" aria-labelledby="{slug}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}"><title id="{slug}">{escape(title)}</title>{"".join(body)}</svg>')


def axes(ticks: list[float], y_of: Scale, plot_h: float, unit: str) -> list[str]:
    out = []
    for t in ticks:
        y = y_of(t)
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{LEFT - 8}" y="{y + 4:.1f}" class="tick" text-anchor="end">{fmt(t)}</text>')
    out.append(f'<text x="16" y="{TOP + plot_h / 2:.0f}" class="axis" transform="rotate(-90 16 {TOP + plot_h / 2:.0f})"'
               f' text-anchor="middle">{escape(unit)}</text>')
    return out


def x_labels(labels: list[str], x_of: Position, y: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 16))
    return [f'<text x="{x_of(i):.1f}" y="{y:.1f}" class="tick" text-anchor="middle">{escape(text)}</text>'
            for i, text in enumerate(labels) if i % every == 0]


def legend(items: list[tuple[str, str]], top: float = TOP) -> list[str]:
    x = WIDTH - RIGHT + 16
    return [f'<rect x="{x}" y="{top + i * 20:.0f}" width="12" height="12" fill="{color}" rx="2"/>'
            f'<text x="{x + 18}" y="{top + i * 20 + 10:.0f}" class="legend">{escape(name)}</text>'
            for i, (name, color) in enumerate(items)]


def day_label(day: date) -> str:
    return day.strftime("%b %d").replace(" 0", " ")



def empty(title: str) -> str:
    return document(title, 60, [f'<text x="{LEFT}" y="36" class="tick">No data yet.</text>'])
