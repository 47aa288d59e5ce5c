-- sleep_quality: one row per sleep session (main sleep or nap), dated by the civil day it ends.
--
-- time_in_bed_minutes is the session's interval (end_time - start_time, whole minutes); efficiency is
-- minutes_asleep / time_in_bed_minutes (0..1). Stage minutes come from the session summary and are NULL
-- when the night has no such stage (STAGES nights have light / deep / REM; CLASSIC nights and naps have
-- asleep / restless). Latency is summary.minutesToFallAsleep. While Google is still processing a night
-- (processed = FALSE, typically the most recent one) it has no summary: every derived number is NULL
-- until the pipeline's re-read replaces the row. A session the participant deleted (deleted_at set: a complete
-- re-fetch no longer returned it) is left out; the table keeps it.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.sleep_quality`
OPTIONS(description="One row per sleep session dated by wake-up day: time in bed, asleep, awake, minutes per stage, efficiency (asleep / in bed), latency, main sleep vs nap. Numbers are NULL while Google still processes the night (processed = FALSE).")
AS
WITH sessions AS (
  SELECT *, DIV(TIMESTAMP_DIFF(end_time, start_time, SECOND), 60) AS in_bed
  FROM `${dataset}.sleep_sessions`
  WHERE deleted_at IS NULL
)
SELECT
  participant_id,
  civil_date,
  data_point_name,
  start_time,
  end_time,
  civil_start_time,
  civil_end_time,
  main_sleep,
  nap,
  sleep_type,
  processed,
  in_bed AS time_in_bed_minutes,
  IF(processed, minutes_in_sleep_period, NULL) AS minutes_in_sleep_period,
  IF(processed, minutes_asleep, NULL) AS minutes_asleep,
  IF(processed, minutes_awake, NULL) AS minutes_awake,
  IF(processed, minutes_to_fall_asleep, NULL) AS latency_minutes,
  IF(processed, minutes_after_wake_up, NULL) AS minutes_after_wake_up,
  IF(processed, stage_light_minutes, NULL) AS light_minutes,
  IF(processed, stage_deep_minutes, NULL) AS deep_minutes,
  IF(processed, stage_rem_minutes, NULL) AS rem_minutes,
  IF(processed, stage_asleep_minutes, NULL) AS asleep_stage_minutes,
  IF(processed, stage_restless_minutes, NULL) AS restless_minutes,
  IF(processed, SAFE_DIVIDE(minutes_asleep, in_bed), NULL) AS efficiency,
  source_device
FROM sessions
