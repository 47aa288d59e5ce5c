"""Interleaved best-of-N timing, and a description of the machine the figures come from.

The machine is shared (other test runs, other engineers), so contenders are timed in rounds, each round
running every contender once in a rotating order, and each keeps its best time: noise only ever adds
time, so the minimum is the estimate least disturbed by it. The load average is recorded before and
after, so a reader can judge how busy the machine was.
"""

from __future__ import annotations

import gc
import os
import platform
import time
from typing import Any, Callable


def interleaved(contenders: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Best wall-clock seconds of each contender over ``rounds`` interleaved rounds.

    Every call starts after a full collection, so no contender pays for another's garbage; a result is
    dropped after its timer stops, so deallocating it is not timed.
    """
    best = {name: float("inf") for name in contenders}
    names = list(contenders)
    for round_ in range(rounds):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            gc.collect()
            started = time.perf_counter()
            result = contenders[name]()
            elapsed = time.perf_counter() - started
            del result
            best[name] = min(best[name], elapsed)
    return best


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), model)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "load_avg": [round(x, 2) for x in os.getloadavg()]}
