"""Rollups agree exactly with the reconciled points they summarise, for every participant-day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any, Callable, NamedTuple

import pytest

from fitbit.catalogue import DATA_TYPES, by_path_id
from simulator.discovery import schemas
from simulator.generators import GENERATORS
from simulator.timefmt import parse_duration, parse_rfc3339
from tests.conftest import Api

USERS = ("user1", "user2", "user3", "user4", "user5")
START, END = date(2026, 10, 23), date(2026, 11, 5)
Totals = dict[str, int]


class Oracle(NamedTuple):
    """How a reconciled value contributes to its rollup, and how to read the rollup's totals back."""

    point: Callable[[dict[str, Any]], Totals]
    rollup: Callable[[dict[str, Any]], Totals]
    fields: str  # the value fields a partial response must keep


def _props(ref: str) -> dict[str, Any]:
    return schemas()[ref]["properties"]


def _enum(spec: dict[str, Any]) -> list[str]:
    return [v for v in spec.get("enum", []) if not v.endswith("_UNSPECIFIED")]


def _camel(value: str) -> str:
    return "".join(part.capitalize() for part in value.split("_"))


def _oracle(json_key: str) -> Oracle | None:
    """An oracle read off the discovery schemas alone, for the ways a rollup value adds up its points:
    ``xSum`` of an int64 ``x``; ``durationSum`` of the intervals; a by-key array of ``xSum``; a by-key
    array of durations per enum value; one ``...{Value}...`` field per enum value of an int64."""
    point_ref = schemas()["DataPoint"]["properties"].get(json_key, {}).get("$ref")
    rollup_ref = schemas()["RollupDataPoint"]["properties"].get(json_key, {}).get("$ref")
    if not point_ref or not rollup_ref:
        return None
    point, rollup = _props(point_ref), _props(rollup_ref)
    ints = [f for f, spec in point.items() if spec.get("format") == "int64"]
    enums = [f for f, spec in point.items() if _enum(spec)]
    arrays = {f: _props(spec["items"]["$ref"]) for f, spec in point.items() if spec.get("type") == "array"}
    rollup_arrays = {f: _props(spec["items"]["$ref"]) for f, spec in rollup.items() if spec.get("type") == "array"}
    span = "interval/startTime,interval/endTime"
    if ints and all(f + "Sum" in rollup for f in ints) and not enums:
        return Oracle(lambda v: {f: int(v.get(f, 0)) for f in ints},
                      lambda r: {f: int(r.get(f + "Sum", 0)) for f in ints}, ",".join(ints))
    if set(rollup) == {"durationSum"} and "interval" in point:
        return Oracle(lambda v: {"s": _seconds(v["interval"])}, lambda r: {"s": int(parse_duration(r["durationSum"]))},
                      span)
    for name, items in arrays.items():
        key = next(f for f, spec in items.items() if _enum(spec))
        value = next(f for f, spec in items.items() if spec.get("format") == "int64")
        target = next((r for r, ritems in rollup_arrays.items() if key in ritems and value + "Sum" in ritems), None)
        if target:
            return _by_key(name, key, value, target)
    if len(enums) == 1 and "interval" in point and not ints:
        (enum,) = enums
        for rname, ritems in rollup_arrays.items():
            key = next((f for f, spec in ritems.items() if _enum(spec) == _enum(point[enum])), None)
            length = next((f for f, spec in ritems.items() if spec.get("format") == "google-duration"), None)
            if key and length:
                return _durations_by_enum(enum, rname, key, length)
    if len(enums) == 1 and len(ints) == 1:
        (enum,), (count,) = enums, ints
        per_value = {e: next((f for f in rollup if _camel(e) in f), None) for e in _enum(point[enum])}
        if all(per_value.values()):
            return Oracle(lambda v: {v[enum]: int(v[count])},
                          lambda r: {e: int(r.get(f, 0)) for e, f in per_value.items() if f}, f"{enum},{count}")
    return None


def _by_key(array: str, key: str, value: str, rollup_array: str) -> Oracle:
    return Oracle(lambda v: {a[key]: int(a[value]) for a in v[array]},
                  lambda r: {a[key]: int(a[value + "Sum"]) for a in r.get(rollup_array, [])}, array)


def _durations_by_enum(enum: str, rollup_array: str, key: str, length: str) -> Oracle:
    return Oracle(lambda v: {v[enum]: _seconds(v["interval"])},
                  lambda r: {z[key]: int(parse_duration(z[length])) for z in r.get(rollup_array, [])},
                  f"{enum},interval/startTime,interval/endTime")


# Every catalogue type whose points a rollup adds up (sums and clipped durations), with its oracle.
ORACLES = {dt.path_id: oracle for dt in DATA_TYPES if dt.has_data_point_schema
           and (spec := GENERATORS[dt.path_id].rollup) is not None and spec.kind in ("sum", "clip")
           and (oracle := _oracle(dt.json_key)) is not None}


def _seconds(interval: dict[str, str]) -> int:
    return parse_rfc3339(interval["endTime"]) - parse_rfc3339(interval["startTime"])  # type: ignore[operator]


def _civil(d: date) -> dict[str, Any]:
    return {"date": {"year": d.year, "month": d.month, "day": d.day}}


def _day_of(civil: dict[str, Any]) -> date:
    d = civil["date"]
    return date(d["year"], d["month"], d["day"])


def _all(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = api.get(path, **params, **({"pageToken": token} if token else {})).json()
        items += page.get("dataPoints", [])
        token = page.get("nextPageToken")
        if not token:
            return items


def _daily(api: Api, type_id: str, first: date = START, end: date = END + timedelta(days=1),
           **extra: Any) -> dict[date, dict[str, Any]]:
    body = {"range": {"start": _civil(first), "end": _civil(end)}, **extra}
    response = api.post(f"/v4/users/me/dataTypes/{type_id}/dataPoints:dailyRollUp", body)
    assert response.status_code == 200, response.text
    return {_day_of(w["civilStartTime"]): w for w in response.json().get("rollupDataPoints", [])}


def _add(into: dict[str, int], part: dict[str, int]) -> None:
    for k, v in part.items():
        into[k] = into.get(k, 0) + v


# Every participant for the catalogue's summed types; two (a DST zone and the traveller) for the others.
SUMMED_DAILY = {dt.path_id for dt in DATA_TYPES if dt.summed_daily}
MATRIX = [pytest.param(u, t, id=f"{u}-{t}") for t in sorted(ORACLES) for u in USERS
          if t in SUMMED_DAILY or u in ("user1", "user3")]


@pytest.mark.parametrize(("user", "type_id"), MATRIX)
def test_daily_rollup_equals_the_sum_of_reconciled_points_for_every_day(sim, reconciled, user: str,
                                                                       type_id: str) -> None:
    api = Api(sim, user)
    point, rollup, fields = ORACLES[type_id]
    key = by_path_id(type_id).json_key
    sums: dict[date, dict[str, int]] = defaultdict(dict)
    mask = f"dataPoints({key}(interval/civilStartTime/date,{fields})),nextPageToken"
    for item in reconciled(user, type_id, mask):
        _add(sums[_day_of(item[key]["interval"]["civilStartTime"])], point(item[key]))
    windows = _daily(api, type_id)
    assert set(windows) <= {START + timedelta(days=i) for i in range(14)}
    for day, window in windows.items():
        expected = {k: v for k, v in sums.get(day, {}).items() if v}
        assert {k: v for k, v in rollup(window[key]).items() if v} == expected, (user, day)
    assert {d for d, s in sums.items() if any(s.values())} <= set(windows)
    if by_path_id(type_id).true_zeros:
        assert set(windows) == {START + timedelta(days=i) for i in range(14)}, "worn every day: true zeros present"


@pytest.mark.parametrize("user", USERS)
def test_total_calories_daily_totals_equal_the_per_minute_model_and_the_minute_rollups(sim, user: str) -> None:
    api = Api(sim, user)
    persona = sim.cohort.by_label(user)
    daily = _daily(api, "total-calories")
    assert len(daily) == 14
    minutes: dict[date, float] = defaultdict(float)
    first, last = sim.cohort.window_range(persona)
    for lo, hi in ((first, first + 7 * 86400), (first + 7 * 86400, last)):  # 14 civil days can exceed 14 x 24 h
        token = None
        while True:
            # 30-minute windows: every cohort offset (even Kolkata's +05:30) puts local midnight on a boundary
            body: dict[str, Any] = {"range": {"startTime": _rfc(lo), "endTime": _rfc(hi)}, "windowSize": "1800s",
                                    "pageSize": 10000, **({"pageToken": token} if token else {})}
            page = api.post("/v4/users/me/dataTypes/total-calories/dataPoints:rollUp", body).json()
            for w in page["rollupDataPoints"]:
                minutes[persona.civil_date(parse_rfc3339(w["startTime"]))] += w["totalCalories"]["kcalSum"]
            token = page.get("nextPageToken")
            if not token:
                break
    for day, window in daily.items():
        model = sum(sim.store.frame(persona, day).kcal_milli) / 1000
        assert window["totalCalories"]["kcalSum"] == pytest.approx(model, abs=1e-6)
        assert minutes[day] == pytest.approx(model, abs=1e-6)


def test_utc_rollups_equal_reconciled_sums_per_window(api: Api) -> None:
    body = {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "windowSize": "900s"}
    windows = api.post("/v4/users/me/dataTypes/steps/dataPoints:rollUp", body).json()["rollupDataPoints"]
    starts = [parse_rfc3339(w["startTime"]) for w in windows]
    assert starts == sorted(starts, reverse=True), "newest first"
    points = _all(api, "/v4/users/me/dataTypes/steps/dataPoints:reconcile", pageSize=10000,
                  filter='steps.interval.start_time >= "2026-11-01T00:00:00Z" AND '
                         'steps.interval.start_time < "2026-11-02T00:00:00Z"')
    per_window: dict[int, int] = defaultdict(int)
    for p in points:
        t = parse_rfc3339(p["steps"]["interval"]["startTime"])
        per_window[t - t % 900] += int(p["steps"].get("count", 0))
    assert {s: int(w["steps"]["countSum"]) for s, w in zip(starts, windows)} == dict(per_window)


def test_heart_rate_rollups_skip_off_wrist_windows_and_summarise_the_samples(api: Api, sim) -> None:
    persona = sim.cohort.by_label("user1")
    frame = sim.store.frame(persona, date(2026, 11, 2))
    off = [m for m in range(frame.n) if not frame.worn[m]]
    assert 30 <= len(off) <= 90, "a daily charging gap of 30-90 minutes"
    lo, hi = frame.start, frame.start + frame.n * 60
    body = {"range": {"startTime": _rfc(lo), "endTime": _rfc(hi)}, "windowSize": "60s"}
    windows = api.post("/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp", body).json()["rollupDataPoints"]
    present = {parse_rfc3339(w["startTime"]) for w in windows}
    assert len(present) == frame.n - len(off)
    assert not present & {frame.start + m * 60 for m in off}
    sample_window = windows[100]
    t0 = sample_window["startTime"]
    samples = api.get("/v4/users/me/dataTypes/heart-rate/dataPoints", pageSize=100,
                      filter=f'heart_rate.sample_time.physical_time >= "{t0}" AND '
                             f'heart_rate.sample_time.physical_time < "{sample_window["endTime"]}"').json()
    bpm = [int(p["heartRate"]["beatsPerMinute"]) for p in samples["dataPoints"]]
    assert len(bpm) == 60, "1-second samples"
    hr = sample_window["heartRate"]
    assert (hr["beatsPerMinuteMin"], hr["beatsPerMinuteMax"]) == (min(bpm), max(bpm))
    assert hr["beatsPerMinuteAvg"] == pytest.approx(sum(bpm) / 60, abs=0.01)


def _rfc(epoch: int) -> str:
    from simulator.timefmt import rfc3339

    return rfc3339(epoch)


def test_daily_rollup_with_equal_start_and_end_is_that_one_day(api: Api) -> None:
    one = _daily(api, "steps", date(2026, 11, 1), date(2026, 11, 1))
    two = _daily(api, "steps", date(2026, 11, 1), date(2026, 11, 2))
    assert list(one) == [date(2026, 11, 1)] and one == two
    window = one[date(2026, 11, 1)]
    assert window["civilStartTime"] == {"date": {"year": 2026, "month": 11, "day": 1}, "time": {}}
    assert window["civilEndTime"] == {"date": {"year": 2026, "month": 11, "day": 2}, "time": {}}


def test_daily_rollup_windows_of_several_days_are_newest_first_and_truncated(api: Api) -> None:
    single = _daily(api, "steps")
    weekly = _daily(api, "steps", windowSizeDays=4)
    assert list(weekly) == [date(2026, 11, 4), date(2026, 10, 31), date(2026, 10, 27), date(2026, 10, 23)]
    last = weekly[date(2026, 11, 4)]
    assert _day_of(last["civilEndTime"]) == date(2026, 11, 6), "the final bucket is truncated at the range end"
    total = sum(int(w["steps"]["countSum"]) for w in weekly.values())
    assert total == sum(int(w["steps"]["countSum"]) for w in single.values())


@pytest.mark.parametrize(("type_id", "days", "ok"), [
    ("heart-rate", 14, True), ("heart-rate", 15, False), ("total-calories", 15, False),
    ("active-minutes", 15, False), ("steps", 90, True), ("steps", 91, False),
])
def test_rollup_ranges_are_capped_at_14_or_90_days(api: Api, type_id: str, days: int, ok: bool) -> None:
    end = date(2026, 11, 6)
    body = {"range": {"startTime": f"{end - timedelta(days=days)}T00:00:00Z", "endTime": f"{end}T00:00:00Z"},
            "windowSize": "86400s"}
    response = api.post(f"/v4/users/me/dataTypes/{type_id}/dataPoints:rollUp", body)
    assert response.status_code == (200 if ok else 400), response.text
    daily = api.post(f"/v4/users/me/dataTypes/{type_id}/dataPoints:dailyRollUp",
                     {"range": {"start": _civil(end - timedelta(days=days)), "end": _civil(end)}})
    assert daily.status_code == (200 if ok else 400), daily.text


@pytest.mark.parametrize("window", ["0s", "0.5s", "-60s", "60", "", "1.5s"])
def test_a_window_below_one_second_is_an_invalid_rollup_window(api: Api, window: str) -> None:
    body = {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "windowSize": window}
    response = api.post("/v4/users/me/dataTypes/steps/dataPoints:rollUp", body)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["reason"] == "INVALID_ROLLUP_WINDOW"


def test_types_without_rollups_and_bad_bodies_are_rejected(api: Api) -> None:
    body = {"range": {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-02T00:00:00Z"}, "windowSize": "60s"}
    assert api.post("/v4/users/me/dataTypes/oxygen-saturation/dataPoints:rollUp", body).status_code == 400
    assert api.post("/v4/users/me/dataTypes/swim-lengths-data/dataPoints:rollUp", body).json() == {}
    bad = api.session.post(api.base_url + "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp",
                           data='{"range": {"start": {"date": {"year": 2026, "month": 09, "day": 1}}}}')
    assert bad.status_code == 400 and "Octal" in bad.json()["error"]["message"]
    unknown = api.post("/v4/users/me/dataTypes/steps/dataPoints:rollUp", {**body, "window": "60s"})
    assert unknown.status_code == 400 and 'Unknown name "window"' in unknown.json()["error"]["message"]


def test_wearables_only_rollups_drop_the_phone_steps(api: Api, sim) -> None:
    family = "users/me/dataSourceFamilies/google-wearables"
    every = _daily(api, "steps")
    worn = _daily(api, "steps", dataSourceFamily=family)
    persona = sim.cohort.by_label("user1")
    for day, window in every.items():
        frame = sim.store.frame(persona, day)
        assert int(worn[day]["steps"]["countSum"]) == sum(frame.steps)
        phone_off_wrist = sum(c for a, _, c in frame.phone if not frame.worn[frame.minute_of(a)])
        assert int(window["steps"]["countSum"]) == sum(frame.steps) + phone_off_wrist


def test_the_matrix_covers_every_summed_catalogue_type_for_every_participant() -> None:
    covered = {(p.values[0], p.values[1]) for p in MATRIX}
    # Types without data points (total calories) have nothing to sum: the per-minute model test above.
    for type_id in {dt.path_id for dt in DATA_TYPES if dt.summed_daily and dt.has_data_point_schema}:
        assert {(u, type_id) for u in USERS} <= covered
