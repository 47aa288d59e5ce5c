"""Peak memory of our transform for a set of pages, each figure from a fresh Python process.

Two measurements, each in its own process (tracemalloc's bookkeeping would inflate the RSS figure):

- ``peak_mib``: ``tracemalloc`` peak of the Python allocations made during the transform, counted from
  after the raw page bytes are loaded (so the input itself is excluded), with every row kept to the end;
- ``rss_delta_mib``: growth of the process's peak resident set across the same transform: what the
  operating system saw, allocator overhead and fragmentation included. This is the ``ru_maxrss``
  figure, read as ``VmHWM`` from ``/proc/self/status`` and reset to the current RSS just before the
  transform (``/proc/self/clear_refs``): ``ru_maxrss`` itself is inherited across fork and exec on
  Linux, so a child started by a big parent would report the parent's peak.

``retained_mib`` is what the rows alone still hold once the transform is done (tracemalloc current).
Run as ``python -m benchmarks.memory FOLDER {tracemalloc|rss}``; prints one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

MIB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


def measure(folder: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for mode in ("tracemalloc", "rss"):
        run = subprocess.run([sys.executable, "-m", "benchmarks.memory", str(folder), mode], cwd=ROOT,
                             capture_output=True, text=True, check=True)
        figures.update(json.loads(run.stdout))
    return figures


def _child(folder: Path, mode: str) -> dict[str, Any]:
    from benchmarks.pages import load, transformed

    pages = load(folder)
    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        rows = transformed(pages)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"peak_mib": round(peak / MIB, 1), "retained_mib": round(current / MIB, 1),
                "peak_method": "tracemalloc peak during the transform, input bytes excluded, rows kept"}
    before = _status_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    rows = transformed(pages)
    after = _status_kib("VmHWM")
    del rows
    return {"rss_delta_mib": round((after - before) / 1024, 1), "rss_before_mib": round(before / 1024, 1)}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


if __name__ == "__main__":
    print(json.dumps(_child(Path(sys.argv[1]), sys.argv[2])))
