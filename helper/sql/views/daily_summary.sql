-- daily_summary: one row per participant and civil day (the participant's local calendar day).
--
-- Sources, all keyed by (participant_id, civil_date):
--   steps, distance, floors, calories, active-zone minutes: the dailyRollUp tables (the app's daily totals);
--   light / moderate / vigorous minutes: the reconciled active_minutes_intraday rows, summed by civil day;
--   sedentary minutes: the reconciled sedentary periods, split at local midnight when one spans two days;
--   resting heart rate, HRV, SpO2, respiratory rate: the daily_* tables (one value per civil day);
--   sleep: sessions that END on the day (Fitbit dates sleep by wake-up day); a night Google is still
--   processing (processed = FALSE) has no summary yet, so its minutes are NULL, not 0;
--   weight: the mean of the day's weight logs, kg; exercise: sessions started on the day and their active time.
-- Sleep sessions, exercise sessions and weights a participant deleted (deleted_at set: a complete re-fetch no
-- longer returned them) are left out; their tables keep them.
-- Absence is not zero: a column is NULL when its source has no row for that day.
-- Wear time and the valid-day flag live in data_completeness (join on participant_id, civil_date).
-- Pruning: a filter on civil_date reaches every table's partitions (start_day is the partition column, the
-- civil day a sedentary period starts on), except the after-midnight remainder of the previous day's periods.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.daily_summary`
OPTIONS(description="One row per participant and civil day: activity totals (dailyRollUp), active and sedentary minutes, active-zone minutes by zone, resting heart rate, HRV, SpO2, respiratory rate, sleep minutes (sleep dated by wake-up day), weight and exercise sessions; records deleted at the source are left out. NULL means no data, not zero.")
AS
WITH days AS (
  SELECT participant_id, civil_date FROM `${dataset}.steps_daily`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.total_calories_daily`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.active_zone_minutes_daily`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.daily_resting_heart_rate`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.daily_heart_rate_variability`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.daily_oxygen_saturation`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.daily_respiratory_rate`
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.sleep_sessions` WHERE deleted_at IS NULL
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.exercise_sessions` WHERE deleted_at IS NULL
  UNION DISTINCT SELECT participant_id, civil_date FROM `${dataset}.weight` WHERE deleted_at IS NULL
),
active AS (
  SELECT participant_id, civil_date,
         SUM(light_minutes) AS light_minutes,
         SUM(moderate_minutes) AS moderate_minutes,
         SUM(vigorous_minutes) AS vigorous_minutes
  FROM `${dataset}.active_minutes_intraday`
  GROUP BY participant_id, civil_date
),
-- A sedentary period's seconds before local midnight count on its start day, the rest on the next day.
sedentary_spans AS (
  SELECT participant_id, civil_date AS start_day,
         TIMESTAMP_DIFF(end_time, start_time, SECOND) AS seconds,
         86400 - (EXTRACT(HOUR FROM civil_start_time) * 3600 + EXTRACT(MINUTE FROM civil_start_time) * 60
                  + EXTRACT(SECOND FROM civil_start_time)) AS seconds_to_midnight
  FROM `${dataset}.sedentary_periods`
),
sedentary AS (
  SELECT participant_id, civil_date, SUM(seconds) / 60 AS sedentary_minutes
  FROM (
    SELECT participant_id, start_day AS civil_date, LEAST(seconds, seconds_to_midnight) AS seconds
    FROM sedentary_spans
    UNION ALL
    SELECT participant_id, CAST(DATE_ADD(start_day, INTERVAL 1 DAY) AS DATE) AS civil_date,
           seconds - seconds_to_midnight AS seconds
    FROM sedentary_spans
    WHERE seconds > seconds_to_midnight
  )
  GROUP BY participant_id, civil_date
),
sleep AS (
  SELECT participant_id, civil_date,
         COUNT(*) AS sleep_sessions,
         IF(LOGICAL_AND(processed), SUM(minutes_asleep), NULL) AS sleep_minutes,
         SUM(IF(main_sleep AND processed, minutes_asleep, NULL)) AS main_sleep_minutes
  FROM `${dataset}.sleep_sessions`
  WHERE deleted_at IS NULL
  GROUP BY participant_id, civil_date
),
body AS (
  SELECT participant_id, civil_date, AVG(weight_grams) / 1000 AS weight_kg
  FROM `${dataset}.weight`
  WHERE deleted_at IS NULL
  GROUP BY participant_id, civil_date
),
exercise AS (
  SELECT participant_id, civil_date, COUNT(*) AS exercise_sessions,
         SUM(active_duration_s) / 60 AS exercise_active_minutes
  FROM `${dataset}.exercise_sessions`
  WHERE deleted_at IS NULL
  GROUP BY participant_id, civil_date
)
SELECT
  d.participant_id,
  d.civil_date,
  steps.steps,
  distance.distance_mm / 1000000 AS distance_km,
  floors.floors,
  calories.calories_kcal,
  active.light_minutes,
  active.moderate_minutes,
  active.vigorous_minutes,
  sedentary.sedentary_minutes,
  azm.fat_burn_minutes AS azm_fat_burn,
  azm.cardio_minutes AS azm_cardio,
  azm.peak_minutes AS azm_peak,
  azm.fat_burn_minutes + azm.cardio_minutes + azm.peak_minutes AS azm_total,
  rhr.resting_bpm AS resting_heart_rate_bpm,
  hrv.average_hrv_ms AS hrv_rmssd_ms,
  spo2.average_pct AS spo2_avg_pct,
  resp.breaths_per_minute AS respiratory_rate_bpm,
  sleep.sleep_minutes,
  sleep.main_sleep_minutes,
  COALESCE(sleep.sleep_sessions, 0) AS sleep_sessions,
  body.weight_kg,
  COALESCE(exercise.exercise_sessions, 0) AS exercise_sessions,
  exercise.exercise_active_minutes
FROM days AS d
LEFT JOIN `${dataset}.steps_daily` AS steps USING (participant_id, civil_date)
LEFT JOIN `${dataset}.distance_daily` AS distance USING (participant_id, civil_date)
LEFT JOIN `${dataset}.floors_daily` AS floors USING (participant_id, civil_date)
LEFT JOIN `${dataset}.total_calories_daily` AS calories USING (participant_id, civil_date)
LEFT JOIN `${dataset}.active_zone_minutes_daily` AS azm USING (participant_id, civil_date)
LEFT JOIN `${dataset}.daily_resting_heart_rate` AS rhr USING (participant_id, civil_date)
LEFT JOIN `${dataset}.daily_heart_rate_variability` AS hrv USING (participant_id, civil_date)
LEFT JOIN `${dataset}.daily_oxygen_saturation` AS spo2 USING (participant_id, civil_date)
LEFT JOIN `${dataset}.daily_respiratory_rate` AS resp USING (participant_id, civil_date)
LEFT JOIN active USING (participant_id, civil_date)
LEFT JOIN sedentary USING (participant_id, civil_date)
LEFT JOIN sleep USING (participant_id, civil_date)
LEFT JOIN body USING (participant_id, civil_date)
LEFT JOIN exercise USING (participant_id, civil_date)
