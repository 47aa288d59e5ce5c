"""Rollup windows' times from the participant's zone, memoised per UTC hour (issue #14: a daily run's largest
untyped page): the rows are the reference path's, across zone transitions on the hour and at :30 UTC."""

from __future__ import annotations

import json

import pytest

from fitbit.parse import PageContext, parse_page, reference_rows


def _windows(day: str, first_minute: int, count: int) -> list[dict]:
    out = []
    for m in range(first_minute, first_minute + count):
        start, end = f"{day}T{m // 60:02d}:{m % 60:02d}:00Z", f"{day}T{(m + 1) // 60:02d}:{(m + 1) % 60:02d}:00Z"
        out.append({"startTime": start, "endTime": end,
                    "heartRate": {"beatsPerMinuteMin": 50.0, "beatsPerMinuteAvg": 55.5, "beatsPerMinuteMax": 61.0}})
    return out[::-1]


ZONES = {
    # Lord Howe Island moves from +10:30 to +11:00 at 02:00 local, 15:30 UTC: mid-hour.
    "Australia/Lord_Howe": _windows("2026-10-03", 15 * 60 - 5, 70),
    "Europe/Berlin": _windows("2026-10-25", 0, 90),  # back to +01:00 at 01:00 UTC
    "Asia/Kolkata": _windows("2026-11-04", 18 * 60, 40),  # +05:30: memoised per minute
    "America/New_York": _windows("2026-11-01", 5 * 60 + 30, 60) + [{"startTime": "2026-11-01T05:00:00+00:00",
                                                                      "endTime": "2026-11-01T05:01:00Z",
                                                                      "heartRate": {"beatsPerMinuteAvg": 60.0}}],
}


@pytest.mark.parametrize("zone", list(ZONES))
def test_rollup_window_times_are_the_reference_rows(zone):
    ctx = PageContext("user1", "heart-rate", "rollUp", "raw/user1/x.json", "2026-11-05T06:00:00Z", time_zone=zone)
    items = ZONES[zone]
    (rows, *_) = parse_page(ctx, json.dumps({"rollupDataPoints": items})).rows.values()
    expected, rejected = reference_rows(ctx, items)
    assert [list(row.items()) for row in rows] == [list(row.items()) for row in expected] and not rejected
    assert len({row["utc_offset_s"] for row in rows}) == (1 if zone == "Asia/Kolkata" else 2)
