"""TCX export of an exercise (``dataPoints/{id}:exportExerciseTcx``).

Facts (discovery 20261030): with ``alt=media`` the body is the raw TCX file
(``application/vnd.garmin.tcx+xml``), otherwise JSON ``{"tcxData": "<xml>"}``; ``partialData=true``
includes track points even when the session has no GPS (then without ``Position``). The track is a
point every 5 s along a loop around the participant's home, distance interpolated from the same
per-minute distances the exercise summary sums, heart rate from the 1 s series.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

from simulator.gen_sessions import minute_distances
from simulator.plan import Workout
from simulator.store import DayData
from simulator.timefmt import rfc3339

STEP_S = 5
SPORT = {"RUNNING": "Running", "OUTDOOR_BIKE": "Biking"}


def _heart_at(dd: DayData, t: int) -> int | None:
    heart = dd.heart
    i = heart.index_at_or_after(t)
    if i < heart.n and heart.t0(i) == t:
        return heart.bpm[i]
    return None


def export_tcx(dd: DayData, wo: Workout, partial: bool) -> str:
    per_minute = minute_distances(dd, wo)
    total_mm = sum(per_minute)
    loop_m = 4000.0 if wo.kind == "RUNNING" else 15000.0
    radius_deg = loop_m / (2 * math.pi) / 111_320
    lat0, lon0 = dd.persona.home
    base_alt = 35.0 + (dd.persona.number % 4) * 40
    points = []
    heart_values = []
    if wo.gps or partial:
        for t in range(wo.start, wo.end + 1, STEP_S):
            if any(a <= t < b for a, b in wo.pauses):
                continue
            k = min(len(per_minute) - 1, (t - wo.start) // 60)
            done_mm = sum(per_minute[:k]) + per_minute[k] * ((t - wo.start) % 60) / 60 if t < wo.end else total_mm
            hr = _heart_at(dd, min(t, wo.end - 1))
            parts = [f"<Time>{rfc3339(t)}</Time>"]
            if wo.gps:
                angle = 2 * math.pi * (done_mm / 1000 % loop_m) / loop_m
                lat = lat0 + radius_deg * math.sin(angle)
                lon = lon0 + radius_deg * math.cos(angle) / math.cos(math.radians(lat0))
                parts.append(f"<Position><LatitudeDegrees>{lat:.7f}</LatitudeDegrees>"
                             f"<LongitudeDegrees>{lon:.7f}</LongitudeDegrees></Position>")
                parts.append(f"<AltitudeMeters>{base_alt + 8 * math.sin(3 * angle):.1f}</AltitudeMeters>")
            if total_mm:
                parts.append(f"<DistanceMeters>{done_mm / 1000:.1f}</DistanceMeters>")
            if hr is not None:
                heart_values.append(hr)
                parts.append(f"<HeartRateBpm><Value>{hr}</Value></HeartRateBpm>")
            points.append("<Trackpoint>" + "".join(parts) + "</Trackpoint>")
    else:
        heart_values = [v for v in (_heart_at(dd, t) for t in range(wo.start, wo.end, 60)) if v is not None]
    frame = dd.frame
    kcal = sum(frame.kcal_milli[frame.minute_of(t)] for t in range(wo.start, wo.end, 60)) / 1000
    paused = sum(b - a for a, b in wo.pauses)
    lap = [f"<TotalTimeSeconds>{float(wo.end - wo.start - paused):.1f}</TotalTimeSeconds>",
           f"<DistanceMeters>{total_mm / 1000:.1f}</DistanceMeters>", f"<Calories>{round(kcal)}</Calories>"]
    if heart_values:
        lap.append(f"<AverageHeartRateBpm><Value>{round(sum(heart_values) / len(heart_values))}</Value>"
                   "</AverageHeartRateBpm>")
        lap.append(f"<MaximumHeartRateBpm><Value>{max(heart_values)}</Value></MaximumHeartRateBpm>")
    lap += ["<Intensity>Active</Intensity>", "<TriggerMethod>Manual</TriggerMethod>"]
    if points:
        lap.append("<Track>" + "".join(points) + "</Track>")
    device = escape(dd.persona.tracker.display_name)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<Activities><Activity Sport="{SPORT.get(wo.kind, "Other")}"><Id>{rfc3339(wo.start)}</Id>'
        f'<Lap StartTime="{rfc3339(wo.start)}">{"".join(lap)}</Lap>'
        f'<Creator xsi:type="Device_t"><Name>{device}</Name></Creator>'
        "</Activity></Activities></TrainingCenterDatabase>\n"
    )
