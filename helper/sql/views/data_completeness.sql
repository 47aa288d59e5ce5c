-- data_completeness: one row per participant and civil day the pipeline covers, worn or not.
--
-- Wear time is heart-rate coverage: the number of 1-minute heart-rate windows on the civil day (a window
-- is absent when the device was off the wrist). A day is valid when it reaches the wear threshold in
-- completeness_settings. The threshold is a parameter that helper/views.py substitutes when it creates the
-- view (valid_day_min_wear_hours, default 10 hours, a common rule in wearable research); the value used is
-- repeated in every row, so a result always says which rule produced it.
--
-- Days covered: from the participant's first day with any data to the last day the pipeline read their
-- account (participant_settings is read once per run and dated by the run's last day), so days with no
-- data at all appear with wear_minutes = 0 instead of vanishing.
-- last_sync_time: the latest last_sync_time any read of the participant's trackers returned (scales excluded).
-- days_since_last_data: days from the most recent day up to and including this one with any worn minute
-- (0 = worn this day; NULL = nothing worn yet). On a participant's latest row it says how long they have
-- been silent.
--
-- A windowed read (helper/views.py completeness_window: the report, export --to-sheet) renders this same text as
-- a SELECT with literal dates, so BigQuery prunes partitions: the placeholders at the end of five scans and of
-- the statement are empty in the view and become literal civil_date ranges there. For a window [first, last]:
-- heart_rate_1min, steps_daily and sleep_sessions are read from first - 30 days to last; participant_settings
-- and paired_devices (one row per participant and run: small) from first - 30 days on; only the window's days
-- are returned. Its rows equal the view's on the window's days when the participant has data or an account read
-- in the 30 days before the window (the pipeline reads the account on every run) and an account read on or
-- after its last day; otherwise their first (last) day is clamped to the first (last) day with data in that
-- span. days_since_last_data and last_data_date look back 30 days before the window at most: NULL there means
-- nothing worn since first - 30 days. last_sync_time: the latest any tracker read since first - 30 days returned.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.data_completeness`
OPTIONS(description="One row per participant and civil day covered: wear minutes from heart-rate coverage, valid-day flag (wear >= valid_day_min_wear_hours, default 10 h), last tracker sync, days since the last day with data. Unworn days appear with 0 wear minutes.")
AS
WITH completeness_settings AS (
  SELECT CAST(${valid_day_min_wear_hours} AS FLOAT64) AS valid_day_min_wear_hours
),
wear AS (
  SELECT participant_id, civil_date, COUNT(*) AS wear_minutes
  FROM `${dataset}.heart_rate_1min`${where_data_days}
  GROUP BY participant_id, civil_date
),
coverage AS (
  SELECT participant_id, MIN(civil_date) AS first_day, MAX(civil_date) AS last_day
  FROM (
    SELECT participant_id, civil_date FROM wear
    UNION ALL SELECT participant_id, civil_date FROM `${dataset}.steps_daily`${where_data_days}
    UNION ALL SELECT participant_id, civil_date FROM `${dataset}.sleep_sessions` WHERE deleted_at IS NULL${and_data_days}
    UNION ALL SELECT participant_id, civil_date FROM `${dataset}.participant_settings`${where_read_days}
  )
  GROUP BY participant_id
),
spine AS (
  SELECT participant_id, civil_date
  FROM coverage
  CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(first_day, last_day)) AS civil_date
),
sync AS (
  SELECT participant_id, MAX(last_sync_time) AS last_sync_time
  FROM `${dataset}.paired_devices`
  WHERE device_type = 'TRACKER'${and_read_days}
  GROUP BY participant_id
),
days AS (
  SELECT
    spine.participant_id,
    spine.civil_date,
    COALESCE(wear.wear_minutes, 0) AS wear_minutes,
    MAX(IF(wear.wear_minutes > 0, spine.civil_date, NULL)) OVER (
      PARTITION BY spine.participant_id ORDER BY spine.civil_date
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_data_date
  FROM spine
  LEFT JOIN wear USING (participant_id, civil_date)
)
SELECT
  days.participant_id,
  days.civil_date,
  days.wear_minutes,
  days.wear_minutes / 60 AS wear_hours,
  days.wear_minutes >= settings.valid_day_min_wear_hours * 60 AS valid_day,
  settings.valid_day_min_wear_hours,
  sync.last_sync_time,
  days.last_data_date,
  DATE_DIFF(days.civil_date, days.last_data_date, DAY) AS days_since_last_data
FROM days
CROSS JOIN completeness_settings AS settings
LEFT JOIN sync USING (participant_id)${where_window}
