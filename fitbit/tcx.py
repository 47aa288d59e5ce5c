"""TCX (Training Center XML) track export → exercise_tcx_points rows.

exportExerciseTcx with ``alt=media`` returns Garmin TCX v2 XML. We keep time, position, altitude,
cumulative distance and heart rate per track point; absent elements stay NULL (a track point without
a fix has no Position). Parsed with the standard library: the schema is small and stable.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from fitbit.errors import UnexpectedResponse

if TYPE_CHECKING:
    from fitbit.parse import PageContext, Row

NS = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}


def _float(node: Any, path: str) -> float | None:
    found = node.find(path, NS)
    return float(found.text) if found is not None and found.text else None


def parse_tcx(ctx: PageContext, body: bytes | str) -> list[Row]:
    from fitbit.parse import PARSER_VERSION, _iso_utc, parse_instant

    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise UnexpectedResponse("TCX export is not well-formed XML") from None
    if not ctx.data_point:
        raise UnexpectedResponse("TCX page without its exercise data point")
    rows: list[Row] = []
    for point in root.iterfind(".//t:Trackpoint", NS):
        stamp = point.find("t:Time", NS)
        if stamp is None or not stamp.text:
            continue
        hr = _float(point, "t:HeartRateBpm/t:Value")
        rows.append({
            "participant_id": ctx.participant,
            "civil_date": ctx.civil_date.isoformat() if ctx.civil_date else None,
            "data_point_name": ctx.data_point,
            "point_time": _iso_utc(parse_instant(stamp.text)),
            "latitude": _float(point, "t:Position/t:LatitudeDegrees"),
            "longitude": _float(point, "t:Position/t:LongitudeDegrees"),
            "altitude_m": _float(point, "t:AltitudeMeters"),
            "distance_m": _float(point, "t:DistanceMeters"),
            "heart_rate_bpm": int(hr) if hr is not None else None,
            "raw_object": ctx.raw_object,
            "parser_version": PARSER_VERSION,
            "fetched_at": ctx.fetched_at,
        })
    return rows
