"""The pandas baseline: the same job (raw page bytes -> warehouse rows) done the way the seed projects did it.

``json.loads`` the page, ``pd.json_normalize`` the items into a flat frame, then derive each warehouse
column with vectorised pandas operations (``to_datetime``, ``to_timedelta``, ``dt.strftime``,
``to_numeric``) and a per-row ``apply`` only where pandas has no vectorised form (the source hash,
array selectors such as ``stagesSummary[type=DEEP]``). It is driven by the same catalogue, so it
covers every read, and its output is checked against ours (``records``) before anything is timed.

What is timed ends at the DataFrame with the warehouse's columns: what a pandas pipeline hands to
``load_table_from_dataframe``. ``records`` (for the equivalence check only) turns it into our rows.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pandas as pd

from fitbit.catalogue import Column, ValueColumn, by_path_id, read_for, table_spec, unit_kind
from fitbit.parse import PARSER_VERSION, PageContext, source_key
from fitbit.parse.tcx import NS

_UTC = "%Y-%m-%dT%H:%M:%SZ"
_UTC_MICRO = "%Y-%m-%dT%H:%M:%S.%fZ"
_CIVIL = "%Y-%m-%dT%H:%M:%S"


def frame(ctx: PageContext, body: bytes) -> tuple[str, pd.DataFrame]:
    """One raw page -> (table name, DataFrame of that table's columns)."""
    if ctx.data_type == "exercise-tcx":
        return "exercise_tcx_points", _tcx(ctx, body)
    data = json.loads(body) if body else {}
    if ctx.data_type in ("settings", "paired-devices"):
        return _account(ctx, data)
    dt, read = by_path_id(ctx.data_type), read_for(ctx.data_type, ctx.method)
    rollup = ctx.method in ("rollUp", "dailyRollUp")
    items = data.get("rollupDataPoints" if rollup else "dataPoints", [])
    table = table_spec(ctx.data_type, ctx.method)
    if not items:
        return table.name, pd.DataFrame(columns=[c.name for c in table.columns if c.name != "loaded_at"])
    df = pd.json_normalize(items)
    out = pd.DataFrame(index=df.index)
    jk = dt.json_key
    if ctx.method == "rollUp":
        start, end = _instant(df["startTime"]), _instant(df["endTime"])
        local = start.dt.tz_convert(ctx.time_zone or "UTC")
        offset = ((local.dt.tz_localize(None) - start.dt.tz_localize(None)).dt.total_seconds()).astype("int64")
        civil = start.dt.tz_localize(None) + pd.to_timedelta(offset, unit="s")
        out["civil_date"] = civil.dt.strftime("%Y-%m-%d")
        out["start_time"], out["end_time"] = _utc_text(start), _utc_text(end)
        out["utc_offset_s"], out["civil_start_time"] = offset, civil.dt.strftime(_CIVIL)
        out["offset_source"] = "account_time_zone"
    elif ctx.method == "dailyRollUp":
        out["civil_date"] = _date_text(df, "civilStartTime.date")
    elif dt.record_type == "daily":
        out["civil_date"] = _date_text(df, f"{jk}.date")
    elif dt.record_type == "sample":
        moment, offset, civil = _civil(df, f"{jk}.sampleTime.physicalTime", f"{jk}.sampleTime.utcOffset")
        out["civil_date"], out["sample_time"] = civil.dt.strftime("%Y-%m-%d"), _utc_text(moment)
        out["utc_offset_s"], out["civil_time"] = offset, civil.dt.strftime(_CIVIL)
    else:
        prefix = f"{jk}.interval."
        start, start_off, civil_start = _civil(df, prefix + "startTime", prefix + "startUtcOffset")
        end_offsets = df[prefix + "endUtcOffset"].fillna(df[prefix + "startUtcOffset"]) \
            if prefix + "endUtcOffset" in df else df.get(prefix + "startUtcOffset")
        end, end_off, civil_end = _civil(df, prefix + "endTime", None, end_offsets)
        out["civil_date"] = (civil_end if dt.dated_by_end else civil_start).dt.strftime("%Y-%m-%d")
        out["start_time"], out["end_time"] = _utc_text(start), _utc_text(end)
        out["start_utc_offset_s"], out["end_utc_offset_s"] = start_off, end_off
        out["civil_start_time"], out["civil_end_time"] = civil_start.dt.strftime(_CIVIL), civil_end.dt.strftime(_CIVIL)
    if not rollup and dt.record_type != "daily":
        out["offset_source"] = "point"  # the points' own offsets (this baseline derives none from the zone)
    if not rollup and dt.identifiable:
        out["data_point_name"] = df["name"]
        out["name_derived"] = False
    if not rollup and read.with_source:
        sources = [item.get("dataSource") for item in items]
        out["source_key"] = [source_key(s) for s in sources]
        out["source_platform"] = _col(df, "dataSource.platform")
        out["source_recording_method"] = _col(df, "dataSource.recordingMethod")
        out["source_device"] = _col(df, "dataSource.device.displayName")
        out["source_manufacturer"] = _col(df, "dataSource.device.manufacturer")
        out["source_form_factor"] = _col(df, "dataSource.device.formFactor")
        app = [(s or {}).get("application") or {} for s in sources]
        out["source_application"] = [a.get("packageName") or a.get("googleWebClientId") or a.get("webClientId")
                                     for a in app]
    out["participant_id"] = ctx.participant
    values = [(item.get(jk) if isinstance(item.get(jk), dict) else {}) for item in items]
    for column in read.columns:
        out[column.name] = _value(df, values, jk, column)
    for name, value in (("raw_object", ctx.raw_object), ("parser_version", PARSER_VERSION),
                        ("fetched_at", ctx.fetched_at)):
        out[name] = value
    return table.name, out


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    return df[name] if name in df else pd.Series([None] * len(df), index=df.index, dtype=object)


def _instant(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True, format="ISO8601")


def _utc_text(moment: pd.Series) -> pd.Series:
    return pd.Series(np.where(moment.dt.microsecond != 0, moment.dt.strftime(_UTC_MICRO), moment.dt.strftime(_UTC)),
                     index=moment.index)


def _seconds(offsets: pd.Series | None, index: pd.Index) -> pd.Series:
    if offsets is None:
        return pd.Series(0, index=index, dtype="int64")
    return offsets.fillna("0s").astype(str).str.rstrip("s").astype(float).astype("int64")


def _civil(df: pd.DataFrame, time_col: str, offset_col: str | None,
           offsets: pd.Series | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    moment = _instant(df[time_col])
    offset = _seconds(df.get(offset_col) if offset_col else offsets, df.index)
    return moment, offset, moment.dt.tz_localize(None) + pd.to_timedelta(offset, unit="s")


def _date_text(df: pd.DataFrame, prefix: str) -> pd.Series:
    parts = {k: pd.to_numeric(df[f"{prefix}.{k}"]).astype("int64") for k in ("year", "month", "day")}
    return pd.to_datetime(pd.DataFrame(parts)).dt.strftime("%Y-%m-%d")


def _value(df: pd.DataFrame, values: list[dict[str, Any]], jk: str, column: Column) -> pd.Series:
    parts = column.path.split(".")
    default = (False if column.type == "BOOL" else 0) if column.zero_if_absent else None
    if column.conversion == "json" or any("[" in p for p in parts):
        raw = pd.Series([_lookup(v, parts) for v in values], index=df.index, dtype=object)
        if column.conversion == "json":
            return raw.map(lambda v: None if v is _ABSENT or v is _NO_PARENT else v)
        raw = raw.map(lambda v: default if v is _ABSENT else (None if v is _NO_PARENT else v))
    else:
        raw = _col(df, f"{jk}.{column.path}").astype(object)
        raw = raw.where(raw.notna(), None)
        if default is not None:
            parent_present = pd.Series([len(parts) == 1 or parts[0] in v for v in values], index=df.index)
            raw = raw.where(~(raw.isna() & parent_present), default)
    if column.conversion == "duration_s":
        raw = raw.map(lambda v: v if v is None or isinstance(v, (int, float)) else float(str(v).rstrip("s")))
        return pd.to_numeric(raw).astype("Int64" if column.type == "INT64" else "Float64")
    if column.type == "INT64":
        return pd.to_numeric(raw).astype("Int64")
    if column.type == "FLOAT64":  # "NaN" / "Infinity" strings (live accounts): NULL, as our parser stores them
        number = pd.to_numeric(raw.map(lambda v: float(v) if isinstance(v, str) else v)).astype("Float64")
        return number.where(np.isfinite(number.fillna(0)), None)
    if column.type == "BOOL":
        return raw.astype("boolean")
    if column.type == "TIMESTAMP":
        moment = _instant(raw)
        return _utc_text(moment).where(raw.notna(), None)
    return raw


_ABSENT, _NO_PARENT = object(), object()


def _lookup(value: dict[str, Any], parts: list[str]) -> Any:
    obj: Any = value
    for i, step in enumerate(parts):
        last = i == len(parts) - 1
        if "[" in step:
            array, cond = step[:-1].split("[", 1)
            key, wanted = cond.split("=")
            if not isinstance(obj, dict):
                return _NO_PARENT if not last else _ABSENT
            found = [e for e in obj.get(array) or () if isinstance(e, dict) and e.get(key) == wanted]
            if not found:
                return _ABSENT
            obj = found[0]
            continue
        if not isinstance(obj, dict):
            return _ABSENT
        if step not in obj:
            return _ABSENT if last else _NO_PARENT
        obj = obj[step]
        if obj is None:
            return _ABSENT
    return obj


def _account(ctx: PageContext, data: dict[str, Any]) -> tuple[str, pd.DataFrame]:
    account = unit_kind(ctx.data_type, ctx.method)
    items = [data] if account.items_key is None else data.get(account.items_key, [])
    df = pd.json_normalize(items)
    out = pd.DataFrame(index=df.index)
    out["participant_id"] = ctx.participant
    out["civil_date"] = ctx.civil_date.isoformat() if ctx.civil_date else None
    for column in account.table.columns:
        if not isinstance(column, ValueColumn):
            continue
        out[column.name] = _value(df, [dict(i) for i in items], "", column) if "." in column.path else \
            _plain(df, column)
    for name, value in (("raw_object", ctx.raw_object), ("parser_version", PARSER_VERSION),
                        ("fetched_at", ctx.fetched_at)):
        out[name] = value
    return account.table.name, out


def _plain(df: pd.DataFrame, column: Column) -> pd.Series:
    raw = _col(df, column.path).astype(object)
    raw = raw.where(raw.notna(), None)
    if column.conversion == "duration_s":
        return pd.to_numeric(raw.map(lambda v: None if v is None else float(str(v).rstrip("s")))).astype("Int64")
    if column.type == "INT64":
        return pd.to_numeric(raw).astype("Int64")
    if column.type == "TIMESTAMP":
        return _utc_text(_instant(raw)).where(raw.notna(), None)
    return raw


def _tcx(ctx: PageContext, body: bytes) -> pd.DataFrame:
    root = ET.fromstring(body)
    records = []
    for point in root.iterfind(".//t:Trackpoint", NS):
        stamp = point.findtext("t:Time", None, NS)
        if not stamp:
            continue
        records.append({
            "point_time": stamp,
            "latitude": point.findtext("t:Position/t:LatitudeDegrees", None, NS),
            "longitude": point.findtext("t:Position/t:LongitudeDegrees", None, NS),
            "altitude_m": point.findtext("t:AltitudeMeters", None, NS),
            "distance_m": point.findtext("t:DistanceMeters", None, NS),
            "heart_rate_bpm": point.findtext("t:HeartRateBpm/t:Value", None, NS),
        })
    df = pd.DataFrame.from_records(records, columns=["point_time", "latitude", "longitude", "altitude_m",
                                                     "distance_m", "heart_rate_bpm"])
    out = pd.DataFrame(index=df.index)
    out["participant_id"] = ctx.participant
    out["civil_date"] = ctx.civil_date.isoformat() if ctx.civil_date else None
    out["data_point_name"] = ctx.data_point
    out["point_time"] = _utc_text(_instant(df["point_time"]))
    for name in ("latitude", "longitude", "altitude_m", "distance_m"):
        out[name] = pd.to_numeric(df[name]).astype("Float64")
    out["heart_rate_bpm"] = pd.to_numeric(df["heart_rate_bpm"]).astype("Float64").astype("Int64")
    for name, value in (("raw_object", ctx.raw_object), ("parser_version", PARSER_VERSION),
                        ("fetched_at", ctx.fetched_at)):
        out[name] = value
    return out


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame as our rows (plain Python values, None for missing): for the equivalence check only."""
    rows = df.astype(object).where(df.notna(), None).to_dict("records")
    return [{k: _plain_value(v) for k, v in row.items()} for row in rows]


def _plain_value(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

