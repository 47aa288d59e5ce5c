"""The account endpoints: getIdentity, getSettings, getProfile and pairedDevices list/get.

Facts (discovery 20261030, team doc §1.5): identity is ``{name: "users/me/identity", healthUserId,
legacyUserId}`` (legacy id absent for never-Fitbit users); settings carry the IANA ``timeZone`` and
``utcOffset`` of the account *now* - for the simulator, the end of the window, so the traveller is
back in London and New York is on EST; pairedDevices pages 5 by default, 100 at most.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from simulator.cohort import Cohort, Persona
from simulator.errors import ApiError
from simulator.query import make_token, page_size, read_token
from simulator.timefmt import date_dict, duration, rfc3339

TRACKER_FEATURES = ("STEPS", "DISTANCE", "ELEVATION", "CALORIES", "ACTIVE_ZONE_MINUTES", "HEART_RATE", "SLEEP",
                    "SMART_SLEEP", "SPO2", "SKIN_TEMPERATURE", "SEDENTARY_TIME")


def now_for(cohort: Cohort, p: Persona) -> int:
    """The simulated "now": the end of the participant's last civil day."""
    return p.day_start(cohort.days[-1] + timedelta(days=1)) - 1


def identity(p: Persona, segment: str) -> dict[str, Any]:
    out = {"name": f"users/{segment}/identity", "healthUserId": p.health_user_id}
    if p.legacy_user_id:
        out["legacyUserId"] = p.legacy_user_id
    return out


def settings(cohort: Cohort, p: Persona, segment: str) -> dict[str, Any]:
    now = now_for(cohort, p)
    zone = p.zone_at(now)
    locale = {"Europe/Berlin": "de_DE", "Europe/London": "en_GB", "Asia/Kolkata": "en_IN",
              "Asia/Tokyo": "ja_JP"}.get(zone, "en_US")
    out: dict[str, Any] = {"name": f"users/{segment}/settings", "timeZone": zone}
    offset = p.offset_at(now)
    if offset:
        out["utcOffset"] = duration(offset)
    imperial = p.imperial
    out.update({
        "distanceUnit": "DISTANCE_UNIT_MILES" if imperial else "DISTANCE_UNIT_KILOMETERS",
        "weightUnit": "WEIGHT_UNIT_POUNDS" if imperial else "WEIGHT_UNIT_KILOGRAMS",
        "heightUnit": "HEIGHT_UNIT_INCHES" if imperial else "HEIGHT_UNIT_CENTIMETERS",
        "temperatureUnit": "TEMPERATURE_UNIT_FAHRENHEIT" if imperial else "TEMPERATURE_UNIT_CELSIUS",
        "waterUnit": "WATER_UNIT_FL_OZ" if imperial else "WATER_UNIT_ML",
        "glucoseUnit": "GLUCOSE_UNIT_MG_DL" if imperial else "GLUCOSE_UNIT_MMOL_L",
        "swimUnit": "SWIM_UNIT_YARDS" if imperial else "SWIM_UNIT_METERS",
        "languageLocale": locale,
        "foodLanguageCode": locale.replace("_", "-"),
        "autoStrideEnabled": True,
        "strideLengthRunningType": "STRIDE_LENGTH_TYPE_AUTO",
        "strideLengthWalkingType": "STRIDE_LENGTH_TYPE_AUTO",
    })
    return out


def profile(cohort: Cohort, p: Persona, segment: str) -> dict[str, Any]:
    joined = cohort.days[0] - timedelta(days=400 + 37 * p.number)
    return {"name": f"users/{segment}/profile", "age": p.age, "membershipStartDate": date_dict(joined),
            "autoRunningStrideLengthMm": p.stride_run_mm, "autoWalkingStrideLengthMm": p.stride_walk_mm}


def _device_id(p: Persona, kind: str) -> str:
    return hashlib.sha256(f"{p.health_user_id}:{kind}".encode()).hexdigest()[:12]


def _mac(p: Persona, kind: str) -> str:
    h = hashlib.sha256(f"mac:{p.health_user_id}:{kind}".encode()).hexdigest().upper()
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


def devices(cohort: Cohort, p: Persona, segment: str) -> list[dict[str, Any]]:
    now = now_for(cohort, p)
    out = [{"name": f"users/{segment}/pairedDevices/{_device_id(p, 'tracker')}", "deviceType": "TRACKER",
            "deviceVersion": p.tracker.display_name, "batteryStatus": "Medium", "batteryLevel": 55 + p.number % 40,
            "lastSyncTime": rfc3339(now - 900 - 60 * p.number), "macAddress": _mac(p, "tracker"),
            "features": list(TRACKER_FEATURES)}]
    if p.has_scale:
        out.append({"name": f"users/{segment}/pairedDevices/{_device_id(p, 'scale')}", "deviceType": "SCALE",
                    "deviceVersion": "Aria Air", "batteryStatus": "High", "batteryLevel": 90,
                    "lastSyncTime": rfc3339(now - 30000), "macAddress": _mac(p, "scale")})
    return out


def list_devices(cohort: Cohort, p: Persona, segment: str, params: dict[str, str]) -> dict[str, Any]:
    all_devices = devices(cohort, p, segment)
    fp = {"user": p.label, "method": "pairedDevices.list", "pageSize": params.get("pageSize", "")}
    size = page_size(params.get("pageSize"), 5, 100)
    token = params.get("pageToken", "")
    offset = read_token(token, fp) if token else 0
    out: dict[str, Any] = {}
    if all_devices[offset:offset + size]:
        out["pairedDevices"] = all_devices[offset:offset + size]
    if offset + size < len(all_devices):
        out["nextPageToken"] = make_token(offset + size, fp)
    return out


def get_device(cohort: Cohort, p: Persona, segment: str, device: str) -> dict[str, Any]:
    for d in devices(cohort, p, segment):
        if d["name"].endswith("/" + device):
            return d
    raise ApiError(404, "NOT_FOUND", f"Paired device {device} was not found.")
