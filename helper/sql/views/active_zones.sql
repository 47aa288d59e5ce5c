-- active_zones: heart-rate zone time per participant and civil day.
--
-- Two measures, from the two zone models the API has:
--   azm_*: active-zone minute credits from the dailyRollUp (fat burn earns 1 per minute, cardio and peak 2);
--   *_zone_minutes: minutes in the LIGHT / MODERATE / VIGOROUS / PEAK heart-rate zones, from the reconciled
--   time_in_heart_rate_zone intervals, split at local midnight when one spans two days.
-- Limitation: calories per zone are not loaded (the API's calories-in-heart-rate-zone rollup is not read),
-- so this view has time per zone, not energy per zone. Weekly sums: active_zones_weekly.
-- week_start is the Monday of the civil day's ISO week.
-- Pruning: a filter on civil_date reaches the tables' partitions (start_day is the partition column, the civil
-- day a zone interval starts on), except the after-midnight remainder of the previous day's intervals.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.active_zones`
OPTIONS(description="Per participant and civil day: active-zone minute credits by zone (fat burn, cardio, peak; dailyRollUp) and minutes in each heart-rate zone (light, moderate, vigorous, peak). Limitation: calories per zone are not loaded, so there is no energy per zone.")
AS
WITH zone_spans AS (
  SELECT participant_id, heart_rate_zone, civil_date AS start_day,
         TIMESTAMP_DIFF(end_time, start_time, SECOND) AS seconds,
         86400 - (EXTRACT(HOUR FROM civil_start_time) * 3600 + EXTRACT(MINUTE FROM civil_start_time) * 60
                  + EXTRACT(SECOND FROM civil_start_time)) AS seconds_to_midnight
  FROM `${dataset}.time_in_heart_rate_zone`
),
zone_days AS (
  SELECT participant_id, start_day AS civil_date, heart_rate_zone, LEAST(seconds, seconds_to_midnight) AS seconds
  FROM zone_spans
  UNION ALL
  SELECT participant_id, CAST(DATE_ADD(start_day, INTERVAL 1 DAY) AS DATE) AS civil_date, heart_rate_zone,
         seconds - seconds_to_midnight AS seconds
  FROM zone_spans
  WHERE seconds > seconds_to_midnight
),
zones AS (
  SELECT participant_id, civil_date,
         SUM(IF(heart_rate_zone = 'LIGHT', seconds, 0)) / 60 AS light_zone_minutes,
         SUM(IF(heart_rate_zone = 'MODERATE', seconds, 0)) / 60 AS moderate_zone_minutes,
         SUM(IF(heart_rate_zone = 'VIGOROUS', seconds, 0)) / 60 AS vigorous_zone_minutes,
         SUM(IF(heart_rate_zone = 'PEAK', seconds, 0)) / 60 AS peak_zone_minutes
  FROM zone_days
  GROUP BY participant_id, civil_date
),
days AS (
  SELECT participant_id, civil_date FROM `${dataset}.active_zone_minutes_daily`
  UNION DISTINCT SELECT participant_id, civil_date FROM zones
)
SELECT
  d.participant_id,
  d.civil_date,
  CAST(DATE_TRUNC(d.civil_date, ISOWEEK) AS DATE) AS week_start,
  azm.fat_burn_minutes AS azm_fat_burn,
  azm.cardio_minutes AS azm_cardio,
  azm.peak_minutes AS azm_peak,
  azm.fat_burn_minutes + azm.cardio_minutes + azm.peak_minutes AS azm_total,
  zones.light_zone_minutes,
  zones.moderate_zone_minutes,
  zones.vigorous_zone_minutes,
  zones.peak_zone_minutes
FROM days AS d
LEFT JOIN `${dataset}.active_zone_minutes_daily` AS azm USING (participant_id, civil_date)
LEFT JOIN zones USING (participant_id, civil_date)
