"""One-second heart rate for one participant-day, generated only when something asks for it.

Heart rate is the one type stored at 1 s resolution (86,400 samples per worn day), so it is kept as
one byte per second plus the worn spans, and every per-sample attribute (instant, offset, motion
context) is computed from the index on demand. Each minute's samples wander (AR(1) noise) around the
minute model's bpm, so circadian shape, sleep dips and exercise peaks carry through. Per-minute
min/max/sum are precomputed so 60 s rollups over 14 days do not touch 1.2 M samples.
"""

from __future__ import annotations

import random
import threading
from array import array
from bisect import bisect_right

from simulator.frame import DayFrame


class HeartSeconds:
    """Worn spans and sample indexing are cheap and built at once; the samples themselves (and the
    per-minute aggregates) are generated on first use, so paging or filtering past a day costs little."""

    def __init__(self, seed: int, frame: DayFrame, day_key: str) -> None:
        self._rng_key = f"{seed}:{frame.persona.label}:{day_key}:heart-rate"
        self.frame = frame
        self.spans = frame.worn_spans()
        self.cum = array("i", [0])
        for a, b in self.spans:
            self.cum.append(self.cum[-1] + (b - a) * 60)
        self.n = self.cum[-1]
        self._bpm: array | None = None
        self._lock = threading.Lock()

    @property
    def bpm(self) -> array:
        if self._bpm is None:
            with self._lock:
                if self._bpm is None:
                    self._generate()
        return self._bpm  # type: ignore[return-value]

    @property
    def min_min(self) -> array:
        _ = self.bpm
        return self._min_min

    @property
    def min_max(self) -> array:
        _ = self.bpm
        return self._min_max

    @property
    def min_sum(self) -> array:
        _ = self.bpm
        return self._min_sum

    def _generate(self) -> None:
        frame = self.frame
        rng = random.Random(self._rng_key)
        bpm = array("B", bytes(self.n))
        self._min_min = array("B", bytes(frame.n))
        self._min_max = array("B", bytes(frame.n))
        self._min_sum = array("I", bytes(4 * frame.n))
        z = 0.0
        k = 0
        hi_cap = frame.persona.max_hr + 5
        for a, b in self.spans:
            for m in range(a, b):
                base = frame.hr[m]
                lo, hi, total = 255, 0, 0
                for _ in range(60):
                    z = 0.93 * z + (rng.random() - 0.5) * 2.2
                    v = int(base + z + 0.5)
                    v = 35 if v < 35 else (hi_cap if v > hi_cap else v)
                    bpm[k] = v
                    k += 1
                    total += v
                    lo = v if v < lo else lo
                    hi = v if v > hi else hi
                self._min_min[m], self._min_max[m], self._min_sum[m] = lo, hi, total
        self._bpm = bpm

    def second_of(self, i: int) -> int:
        """Seconds since the frame start of sample ``i``."""
        s = bisect_right(self.cum, i) - 1
        return self.spans[s][0] * 60 + (i - self.cum[s])

    def t0(self, i: int) -> int:
        return self.frame.start + self.second_of(i)

    def index_at_or_after(self, epoch: int) -> int:
        """Index of the first sample at or after ``epoch`` (n when none)."""
        sec = epoch - self.frame.start
        for s, (a, b) in enumerate(self.spans):
            if sec < b * 60:
                return self.cum[s] + max(0, sec - a * 60)
        return self.n
