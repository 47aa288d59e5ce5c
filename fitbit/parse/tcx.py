"""TCX (Training Center XML) track export → track-point rows (the ``exercise-tcx`` detail's table).

exportExerciseTcx with ``alt=media`` returns Garmin TCX v2 XML. We keep time, position, altitude,
cumulative distance and heart rate per track point; absent elements stay NULL (a track point without
a fix has no Position); a number that is not finite (``NaN``) is NULL and counted, as in every table.
Parsed with the standard library: the schema is small and stable.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from fitbit.errors import UnexpectedResponse
from fitbit.parse.columns import Note, finite_float, read_value
from fitbit.parse.fast import memo_utc_text
from fitbit.parse.page import PageContext, Row, lineage

NS = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
# Paths in Clark notation ({namespace}tag): ElementPath then skips expanding prefixes on every call.
_T = "{" + NS["t"] + "}"
TRACKPOINTS = f".//{_T}Trackpoint"
TIME, ALTITUDE, DISTANCE = _T + "Time", _T + "AltitudeMeters", _T + "DistanceMeters"
LATITUDE, LONGITUDE = f"{_T}Position/{_T}LatitudeDegrees", f"{_T}Position/{_T}LongitudeDegrees"
HEART_RATE = f"{_T}HeartRateBpm/{_T}Value"


def _float(node: Any, path: str, note: Note) -> float | None:
    found = node.find(path)
    return read_value(finite_float, found.text, note) if found is not None and found.text else None


def _no_note(kind: str) -> None:
    return None


def parse_tcx(ctx: PageContext, body: bytes | str, note: Note = _no_note) -> list[Row]:
    """One row per track point that has a time; raises UnexpectedResponse for XML that is not well formed."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise UnexpectedResponse("TCX export is not well-formed XML") from None
    if not ctx.data_point:
        raise UnexpectedResponse("TCX page without its exercise data point")
    rows: list[Row] = []
    day = ctx.civil_date.isoformat() if ctx.civil_date else None
    point_time = memo_utc_text()
    stamped = lineage(ctx)
    for point in root.iterfind(TRACKPOINTS):
        stamp = point.find(TIME)
        if stamp is None or not stamp.text:
            continue
        hr = _float(point, HEART_RATE, note)
        rows.append({
            "participant_id": ctx.participant,
            "civil_date": day,
            "data_point_name": ctx.data_point,
            "point_time": point_time(stamp.text),
            "latitude": _float(point, LATITUDE, note),
            "longitude": _float(point, LONGITUDE, note),
            "altitude_m": _float(point, ALTITUDE, note),
            "distance_m": _float(point, DISTANCE, note),
            "heart_rate_bpm": int(hr) if hr is not None else None,
            **stamped,
        })
    return rows
