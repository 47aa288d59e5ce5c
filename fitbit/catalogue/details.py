"""Details: per-data-point exports that follow-ups of a data type ask for.

- ``exercise-tcx``: exportExerciseTcx with ``alt=media`` returns the session's Garmin TCX v2 track; it is
  stored once per exercise and parsed into ``exercise_tcx_points`` (time, position, altitude,
  cumulative distance and heart rate per track point; absent elements stay NULL).
"""

from __future__ import annotations

from fitbit.calls import export_tcx_call
from fitbit.catalogue.columns import Column
from fitbit.catalogue.common import CIVIL_DATE, LINEAGE, PARTICIPANT
from fitbit.catalogue.kinds import Detail
from fitbit.catalogue.model import LOCATION, TableSpec

C = Column

TCX_TABLE = TableSpec(
    "exercise_tcx_points",
    "Track points of exercise sessions exported as TCX (exercise_tcx follow-up)",
    (
        PARTICIPANT, CIVIL_DATE,
        C("data_point_name", "STRING", "The exercise session the track belongs to"),
        C("point_time", "TIMESTAMP", "Track point instant, UTC"),
        C("latitude", "FLOAT64", "Latitude, degrees"),
        C("longitude", "FLOAT64", "Longitude, degrees"),
        C("altitude_m", "FLOAT64", "Altitude, metres"),
        C("distance_m", "FLOAT64", "Cumulative distance, metres"),
        C("heart_rate_bpm", "INT64", "Heart rate, bpm"),
        *LINEAGE,
    ),
    ("participant_id", "data_point_name", "point_time"),
)

EXERCISE_TCX = Detail(
    name="exercise-tcx",
    method="exportExerciseTcx",
    scope=LOCATION,
    build=export_tcx_call,
    table=TCX_TABLE,
    content_type="application/vnd.garmin.tcx+xml",
    file_suffix=".tcx",
    page_format="tcx",
)

DETAILS: tuple[Detail, ...] = (EXERCISE_TCX,)
