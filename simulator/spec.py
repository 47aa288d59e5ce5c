"""What a type's generator declares: how to build a participant-day of its points, and how rollups add them up.

One ``Generator`` per catalogue data type, declared next to its build function (``gen_activity``,
``gen_vitals``, ``gen_sessions``); ``generators`` collects them. A ``RollupSpec`` is given only for types
whose JSON key is a member of the discovery ``RollupDataPoint`` union (a contract test checks it).

Aggregation kinds:
- ``sum``: counts attributed to the window containing the record's start (minute records always fit
  a window of 60 s or more; a multi-minute phone chunk counts where it starts);
- ``clip``: durations (sedentary, time in zone) clipped to each window by overlap;
- ``mean``: average of the samples in the window (weight, body fat);
- ``heart``: min / mean / max of the 1 s samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from simulator.series import Series
from simulator.store import DayData

Measure = Callable[[Series, int], tuple[Any, ...]]
Render = Callable[[tuple[Any, ...]], dict[str, Any]]
Aggregation = Literal["sum", "clip", "mean", "heart"]


def measure(series: Series, i: int) -> tuple[Any, ...]:
    """Rollup contributions of record ``i``, as its builder set them (``series.numbers``)."""
    return series.measure(i)


@dataclass(frozen=True)
class RollupSpec:
    kind: Aggregation
    render: Render
    measure: Measure | None = None
    fields: int = 1


@dataclass(frozen=True)
class Generator:
    """``occasional``: points exist only on some days, or only for participants with a device (a scale)."""

    path_id: str
    build: Callable[[DayData], Series]
    rollup: RollupSpec | None = None
    occasional: bool = False


def summed(field: str) -> RollupSpec:
    """A single count summed per window and sent as an int64 string (``{"countSum": "9364"}``)."""
    return RollupSpec("sum", lambda tot: {field: str(tot[0])}, measure)
