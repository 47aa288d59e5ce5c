"""The data types this pipeline reads: one entry each. Adding a type touches this file (and the simulator
gets a generator for it).

Read choices and why (request budget: at most 30 API requests per participant-day in the daily run):
- Interval and daily vitals are read with ``reconcile``: the de-duplicated stream the app shows, so
  tracker and phone steps for one minute are not counted twice.
- Summed activity types also get a ``dailyRollUp`` read: the app's own daily total, the ground truth
  the intraday rows are checked against.
- Heart rate is read as 1-minute ``rollUp`` windows by default (one request per window of days);
  1-second samples through ``list`` are an opt-in read (about 9 pages per participant-day).
- Weight, body fat, sleep and exercise use ``list`` so their provenance (scale, manual entry,
  device) is kept, and their re-fetched windows tell deletions (``Read.tracks_deletions``).
Facts from discovery revision 20261030 and ../shared/docs/google-health-api.md, checked 2026-11-23.
"""

from __future__ import annotations

from fitbit.calls import PAGE_SIZE_MAX
from fitbit.catalogue.columns import ValueColumn, value_column
from fitbit.catalogue.details import EXERCISE_TCX
from fitbit.catalogue.followups import ExportDetail, RereadUntil
from fitbit.catalogue.model import (
    ACTIVITY,
    HEALTH_METRICS,
    ROLLUP_CAP_SHORT_DAYS,
    SESSION_PAGE_SIZE,
    SLEEP,
    DataType,
    Read,
)

C = value_column
INTERVAL_KEY = ("participant_id", "start_time")
SAMPLE_KEY = ("participant_id", "sample_time")
DAY_KEY = ("participant_id", "civil_date")
RAW_SAMPLE_KEY = ("participant_id", "sample_time", "source_key")
SESSION_KEY = ("participant_id", "data_point_name")


def _intraday(table: str, description: str, *columns: ValueColumn, max_days: int = 14) -> Read:
    return Read("reconcile", table, columns, INTERVAL_KEY, max_days, PAGE_SIZE_MAX, description)


def _daily_total(table: str, description: str, *columns: ValueColumn, max_days: int = 90) -> Read:
    return Read("dailyRollUp", table, columns, DAY_KEY, max_days, PAGE_SIZE_MAX, description)


def _daily(table: str, description: str, *columns: ValueColumn) -> Read:
    return Read("reconcile", table, columns, DAY_KEY, 90, PAGE_SIZE_MAX, description)


def _samples(table: str, description: str, *columns: ValueColumn) -> Read:
    return Read("reconcile", table, columns, SAMPLE_KEY, 14, PAGE_SIZE_MAX, description)


def _zone_bounds(zone: str) -> tuple[ValueColumn, ValueColumn]:
    low = zone.lower()
    sel = f"heartRateZones[heartRateZoneType={zone}]"
    return (
        C(f"{low}_min_bpm", "INT64", f"{sel}.minBeatsPerMinute", f"Lower bound of the {low} zone, bpm"),
        C(f"{low}_max_bpm", "INT64", f"{sel}.maxBeatsPerMinute", f"Upper bound of the {low} zone, bpm"),
    )


SLEEP_STAGES = ("AWAKE", "LIGHT", "DEEP", "REM", "ASLEEP", "RESTLESS")


def _stage_summary(stage: str, field: str, what: str) -> ValueColumn:
    return C(
        f"stage_{stage.lower()}_{field}",
        "INT64",
        f"summary.stagesSummary[type={stage}].{field}",
        f"{what} {stage} stage (NULL when the night has no such stage or no summary yet)",
    )


def _hr_zone_time(zone: str) -> ValueColumn:
    return C(
        f"{zone}_time_s",
        "FLOAT64",
        f"metricsSummary.heartRateZoneDurations.{zone}Time",
        f"Seconds in the {zone} heart-rate zone during the session",
        conversion="duration_s",
    )


DATA_TYPES: tuple[DataType, ...] = (
    DataType(
        "steps", "interval", ACTIVITY, true_zeros=True, summed_daily=True, webhook=True,
        description="Step counts per minute, and the app's daily total",
        reads=(
            _intraday("steps_intraday", "Reconciled steps per interval",
                      C("steps", "INT64", "count", "Steps in the interval", zero_if_absent=True)),
            _daily_total("steps_daily", "Daily step total from dailyRollUp",
                         C("steps", "INT64", "countSum", "Steps on the civil day", zero_if_absent=True)),
        ),
    ),
    DataType(
        "distance", "interval", ACTIVITY, true_zeros=True, summed_daily=True, webhook=True,
        description="Distance per minute in millimetres, and the daily total",
        reads=(
            _intraday("distance_intraday", "Reconciled distance per interval",
                      C("distance_mm", "INT64", "millimeters", "Distance, millimetres", zero_if_absent=True)),
            _daily_total("distance_daily", "Daily distance from dailyRollUp",
                         C("distance_mm", "INT64", "millimetersSum", "Distance, millimetres", zero_if_absent=True)),
        ),
    ),
    DataType(
        "floors", "interval", ACTIVITY, true_zeros=True, summed_daily=True, webhook=True,
        description="Floors climbed per interval, and the daily total",
        reads=(
            _intraday("floors_intraday", "Reconciled floors per interval",
                      C("floors", "INT64", "count", "Floors climbed", zero_if_absent=True)),
            _daily_total("floors_daily", "Daily floors from dailyRollUp",
                         C("floors", "INT64", "countSum", "Floors climbed", zero_if_absent=True)),
        ),
    ),
    DataType(
        "altitude", "interval", ACTIVITY, true_zeros=True, webhook=True,
        description="Elevation gain per minute (gain, not height above sea level)",
        reads=(
            _intraday("altitude_intraday", "Reconciled elevation gain per interval",
                      C("elevation_gain_mm", "INT64", "gainMillimeters", "Elevation gain, millimetres",
                        zero_if_absent=True)),
        ),
    ),
    DataType(
        "total-calories", "interval", ACTIVITY, true_zeros=True, summed_daily=True,
        has_data_point_schema=False, rollup_max_days=ROLLUP_CAP_SHORT_DAYS,
        description="Total energy burned (basal + active); rollup-only in the API",
        reads=(
            _daily_total("total_calories_daily", "Daily total calories from dailyRollUp",
                         C("calories_kcal", "FLOAT64", "kcalSum", "Energy burned, kcal", zero_if_absent=True),
                         max_days=14),
        ),
    ),
    DataType(
        "active-zone-minutes", "interval", ACTIVITY, true_zeros=True, summed_daily=True,
        description="Active-zone minutes: 1 credit per fat-burn minute, 2 per cardio or peak minute",
        reads=(
            _intraday("active_zone_minutes_intraday", "Reconciled active-zone minutes per interval",
                      C("heart_rate_zone", "STRING", "heartRateZone", "FAT_BURN, CARDIO or PEAK"),
                      C("active_zone_minutes", "INT64", "activeZoneMinutes", "Active-zone minute credits",
                        zero_if_absent=True)),
            _daily_total("active_zone_minutes_daily", "Daily active-zone minutes from dailyRollUp",
                         C("fat_burn_minutes", "INT64", "sumInFatBurnHeartZone", "Credits in the fat-burn zone",
                           zero_if_absent=True),
                         C("cardio_minutes", "INT64", "sumInCardioHeartZone", "Credits in the cardio zone",
                           zero_if_absent=True),
                         C("peak_minutes", "INT64", "sumInPeakHeartZone", "Credits in the peak zone",
                           zero_if_absent=True)),
        ),
    ),
    DataType(
        "active-minutes", "interval", ACTIVITY, rollup_max_days=ROLLUP_CAP_SHORT_DAYS,
        description="Minutes of light, moderate and vigorous activity",
        reads=(
            _intraday("active_minutes_intraday", "Reconciled active minutes per interval, by level",
                      *(C(f"{lvl.lower()}_minutes", "INT64",
                          f"activeMinutesByActivityLevel[activityLevel={lvl}].activeMinutes",
                          f"{lvl.capitalize()} active minutes in the interval", zero_if_absent=True)
                        for lvl in ("LIGHT", "MODERATE", "VIGOROUS"))),
        ),
    ),
    DataType(
        "sedentary-period", "interval", ACTIVITY,
        description="Periods spent sedentary while the device was worn",
        reads=(_intraday("sedentary_periods", "Reconciled sedentary periods (the interval is the value)"),),
    ),
    DataType(
        "time-in-heart-rate-zone", "interval", ACTIVITY,
        description="Time spent in each heart-rate zone",
        reads=(
            _intraday("time_in_heart_rate_zone", "Reconciled intervals spent in a heart-rate zone",
                      C("heart_rate_zone", "STRING", "heartRateZoneType", "LIGHT, MODERATE, VIGOROUS or PEAK")),
        ),
    ),
    DataType(
        "heart-rate", "sample", HEALTH_METRICS, rollup_max_days=ROLLUP_CAP_SHORT_DAYS,
        description="Heart rate: 1-minute rollups by default, 1-second samples on request",
        reads=(
            Read("rollUp", "heart_rate_1min", (
                C("bpm_min", "FLOAT64", "beatsPerMinuteMin", "Lowest bpm in the minute"),
                C("bpm_avg", "FLOAT64", "beatsPerMinuteAvg", "Mean bpm in the minute"),
                C("bpm_max", "FLOAT64", "beatsPerMinuteMax", "Highest bpm in the minute"),
            ), INTERVAL_KEY, 14, PAGE_SIZE_MAX, "Heart rate per UTC minute (rollUp, 60 s windows)",
                window_size="60s"),
            Read("list", "heart_rate_samples", (
                C("bpm", "INT64", "beatsPerMinute", "Heart rate, beats per minute"),
                C("motion_context", "STRING", "metadata.motionContext", "ACTIVE or SEDENTARY"),
                C("sensor_location", "STRING", "metadata.sensorLocation", "WRIST, CHEST, ..."),
            ), RAW_SAMPLE_KEY, 1, PAGE_SIZE_MAX, "Raw heart-rate samples (up to 1 per second)",
                opt_in="heart_rate_seconds", with_source=True),
        ),
    ),
    DataType(
        "daily-resting-heart-rate", "daily", HEALTH_METRICS,
        description="Resting heart rate per day",
        reads=(
            _daily("daily_resting_heart_rate", "Resting heart rate per civil day",
                   C("resting_bpm", "INT64", "beatsPerMinute", "Resting heart rate, bpm"),
                   C("calculation_method", "STRING", "dailyRestingHeartRateMetadata.calculationMethod",
                     "WITH_SLEEP or ONLY_WITH_AWAKE_DATA")),
        ),
    ),
    DataType(
        "daily-heart-rate-zones", "daily", HEALTH_METRICS,
        description="The participant's heart-rate zone boundaries per day",
        reads=(
            _daily("daily_heart_rate_zones", "Heart-rate zone boundaries per civil day",
                   *(col for zone in ("LIGHT", "MODERATE", "VIGOROUS", "PEAK") for col in _zone_bounds(zone))),
        ),
    ),
    DataType(
        "heart-rate-variability", "sample", HEALTH_METRICS,
        description="Heart-rate variability samples (taken during sleep)",
        reads=(
            _samples("heart_rate_variability", "Reconciled HRV samples",
                     C("rmssd_ms", "FLOAT64", "rootMeanSquareOfSuccessiveDifferencesMilliseconds", "RMSSD, ms"),
                     C("sdnn_ms", "FLOAT64", "standardDeviationMilliseconds", "SDNN, ms")),
        ),
    ),
    DataType(
        "daily-heart-rate-variability", "daily", HEALTH_METRICS,
        description="Nightly heart-rate variability summary",
        reads=(
            _daily("daily_heart_rate_variability", "HRV summary per civil day",
                   C("average_hrv_ms", "FLOAT64", "averageHeartRateVariabilityMilliseconds", "Average HRV (RMSSD), ms"),
                   C("deep_sleep_rmssd_ms", "FLOAT64", "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds",
                     "RMSSD during deep sleep, ms"),
                   C("entropy", "FLOAT64", "entropy", "HRV entropy"),
                   C("non_rem_bpm", "INT64", "nonRemHeartRateBeatsPerMinute", "Non-REM heart rate, bpm")),
        ),
    ),
    DataType(
        "oxygen-saturation", "sample", HEALTH_METRICS,
        description="SpO2 samples",
        reads=(
            _samples("oxygen_saturation", "Reconciled SpO2 samples",
                     C("spo2_pct", "FLOAT64", "percentage", "Blood oxygen saturation, percent")),
        ),
    ),
    DataType(
        "daily-oxygen-saturation", "daily", HEALTH_METRICS,
        description="Nightly SpO2 summary",
        reads=(
            _daily("daily_oxygen_saturation", "SpO2 summary per civil day",
                   C("average_pct", "FLOAT64", "averagePercentage", "Average SpO2, percent"),
                   C("lower_bound_pct", "FLOAT64", "lowerBoundPercentage", "Lower bound, percent"),
                   C("upper_bound_pct", "FLOAT64", "upperBoundPercentage", "Upper bound, percent"),
                   C("stddev_pct", "FLOAT64", "standardDeviationPercentage", "Standard deviation, percent")),
        ),
    ),
    DataType(
        "daily-respiratory-rate", "daily", HEALTH_METRICS,
        description="Nightly breathing rate",
        reads=(
            _daily("daily_respiratory_rate", "Respiratory rate per civil day",
                   C("breaths_per_minute", "FLOAT64", "breathsPerMinute", "Breaths per minute during sleep")),
        ),
    ),
    DataType(
        "daily-sleep-temperature-derivations", "daily", HEALTH_METRICS,
        description="Nightly skin-temperature derivations",
        reads=(
            _daily("daily_sleep_temperature", "Sleep temperature derivations per civil day",
                   C("nightly_temperature_c", "FLOAT64", "nightlyTemperatureCelsius", "Nightly temperature, °C"),
                   C("baseline_temperature_c", "FLOAT64", "baselineTemperatureCelsius", "Baseline temperature, °C"),
                   C("relative_nightly_stddev_30d_c", "FLOAT64", "relativeNightlyStddev30dCelsius",
                     "30-day relative nightly standard deviation, °C")),
        ),
    ),
    DataType(
        "daily-vo2-max", "daily", ACTIVITY,
        description="Cardio fitness (VO2 max) per day",
        reads=(
            _daily("daily_vo2_max", "VO2 max per civil day",
                   C("vo2_max", "FLOAT64", "vo2Max", "VO2 max, mL/kg/min"),
                   C("vo2_max_covariance", "FLOAT64", "vo2MaxCovariance", "Covariance of the estimate"),
                   C("cardio_fitness_level", "STRING", "cardioFitnessLevel", "POOR ... EXCELLENT"),
                   C("estimated", "BOOL", "estimated", "Whether the value is estimated", zero_if_absent=True)),
        ),
    ),
    DataType(
        "sleep", "session", SLEEP, identifiable=True, dated_by_end=True, webhook=True,
        description="Sleep sessions (main sleep and naps), dated by the day they end",
        follow_ups=(RereadUntil("processed", "Re-read a sleep still being processed (metadata.processed != true)"),),
        # Summary minutes are true zeros only inside a summary: a night still in progress has none (NULL).
        reads=(
            Read("list", "sleep_sessions", (
                C("sleep_type", "STRING", "type", "CLASSIC or STAGES"),
                C("minutes_in_sleep_period", "INT64", "summary.minutesInSleepPeriod", "Minutes in the sleep period",
                  zero_if_absent=True),
                C("minutes_asleep", "INT64", "summary.minutesAsleep", "Minutes asleep", zero_if_absent=True),
                C("minutes_awake", "INT64", "summary.minutesAwake", "Minutes awake", zero_if_absent=True),
                C("minutes_to_fall_asleep", "INT64", "summary.minutesToFallAsleep", "Sleep latency, minutes",
                  zero_if_absent=True),
                C("minutes_after_wake_up", "INT64", "summary.minutesAfterWakeUp", "Minutes in bed after waking",
                  zero_if_absent=True),
                *(_stage_summary(s, "minutes", "Minutes in the") for s in SLEEP_STAGES[1:]),
                C("main_sleep", "BOOL", "metadata.mainSleep", "Main sleep of the day", zero_if_absent=True),
                C("nap", "BOOL", "metadata.nap", "Nap", zero_if_absent=True),
                C("processed", "BOOL", "metadata.processed", "False while staging still runs", zero_if_absent=True),
                C("manually_edited", "BOOL", "metadata.manuallyEdited", "Edited by the user", zero_if_absent=True),
                C("stages_status", "STRING", "metadata.stagesStatus", "Why stages were or were not computed"),
                C("stages", "JSON", "stages", "Stage segments as returned", conversion="json"),
                C("update_time", "TIMESTAMP", "updateTime", "When Google last rewrote the record"),
                _stage_summary("AWAKE", "minutes", "Minutes in the"),
                *(_stage_summary(s, "count", "Number of segments in the") for s in SLEEP_STAGES),
                C("short_awakenings", "JSON", "shortAwakenings",
                  "Short awakenings as returned (may overlap stages; not counted in the stage minutes)",
                  conversion="json"),
                C("create_time", "TIMESTAMP", "createTime", "When Google first wrote the record"),
            ), SESSION_KEY, 14, SESSION_PAGE_SIZE, "Sleep sessions with summary and stages", with_source=True,
                tracks_deletions=True),
        ),
    ),
    DataType(
        "exercise", "session", ACTIVITY, identifiable=True,
        description="Exercise sessions with their summary metrics",
        follow_ups=(ExportDetail(EXERCISE_TCX, "has_gps", "Export the GPS/heart-rate track of sessions with GPS"),),
        reads=(
            Read("list", "exercise_sessions", (
                C("exercise_type", "STRING", "exerciseType", "RUNNING, WALKING, ..."),
                C("display_name", "STRING", "displayName", "Name shown in the app"),
                C("active_duration_s", "FLOAT64", "activeDuration", "Active time excluding pauses, seconds",
                  conversion="duration_s"),
                C("calories_kcal", "FLOAT64", "metricsSummary.caloriesKcal", "Energy, kcal"),
                C("distance_mm", "FLOAT64", "metricsSummary.distanceMillimeters", "Distance, millimetres"),
                C("steps", "INT64", "metricsSummary.steps", "Steps"),
                C("average_heart_rate_bpm", "INT64", "metricsSummary.averageHeartRateBeatsPerMinute", "Mean bpm"),
                C("active_zone_minutes", "INT64", "metricsSummary.activeZoneMinutes", "Active-zone minute credits"),
                C("elevation_gain_mm", "FLOAT64", "metricsSummary.elevationGainMillimeters", "Elevation gain, mm"),
                C("average_speed_mm_s", "FLOAT64", "metricsSummary.averageSpeedMillimetersPerSecond", "Mean speed"),
                C("average_pace_s_per_m", "FLOAT64", "metricsSummary.averagePaceSecondsPerMeter", "Mean pace"),
                C("run_vo2_max", "FLOAT64", "metricsSummary.runVo2Max", "VO2 max estimated from the run"),
                *(_hr_zone_time(z) for z in ("light", "moderate", "vigorous", "peak")),
                C("has_gps", "BOOL", "exerciseMetadata.hasGps", "Recorded with GPS", zero_if_absent=True),
                C("pool_length_mm", "INT64", "exerciseMetadata.poolLengthMillimeters", "Pool length, mm"),
                C("notes", "STRING", "notes", "User notes"),
                C("events", "JSON", "exerciseEvents", "Start/pause/resume/stop events", conversion="json"),
                C("splits", "JSON", "splits", "Automatic splits", conversion="json"),
                C("update_time", "TIMESTAMP", "updateTime", "When the record last changed"),
                C("create_time", "TIMESTAMP", "createTime", "When the record was first written"),
            ), SESSION_KEY, 14, SESSION_PAGE_SIZE, "Exercise sessions", with_source=True, tracks_deletions=True),
        ),
    ),
    DataType(
        "weight", "sample", HEALTH_METRICS, webhook=True, named=True,
        description="Weight measurements (scale or manual)",
        reads=(
            Read("list", "weight", (
                C("weight_grams", "FLOAT64", "weightGrams", "Body weight, grams"),
                C("notes", "STRING", "notes", "User notes"),
            ), RAW_SAMPLE_KEY, 90, PAGE_SIZE_MAX, "Weight logs with their source", with_source=True,
                tracks_deletions=True),
        ),
    ),
    DataType(
        "body-fat", "sample", HEALTH_METRICS, named=True,
        description="Body-fat measurements",
        reads=(
            Read("list", "body_fat", (
                C("body_fat_pct", "FLOAT64", "percentage", "Body fat, percent"),
            ), RAW_SAMPLE_KEY, 90, PAGE_SIZE_MAX, "Body-fat logs with their source", with_source=True,
                tracks_deletions=True),
        ),
    ),
)
