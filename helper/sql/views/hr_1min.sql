-- hr_1min: heart rate per 1-minute window (the rollUp load in heart_rate_1min), in the shape hr_1h shares.
--
-- A minute is absent when the device was off the wrist: missing minutes are not zeros. samples is the
-- number of 1-minute windows behind a row (always 1 here; hr_1h sums it). Windows are UTC minutes;
-- civil_start_time and civil_date come from the account time zone (rollUp windows carry no offset).
-- The table is named heart_rate_1min; this view is the analysis-facing name, so the load can change
-- without breaking dashboards.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.hr_1min`
OPTIONS(description="Heart rate per 1-minute window: min, mean and max bpm; samples = number of 1-minute windows (1). Off-wrist minutes are absent, not zero.")
AS
SELECT
  participant_id,
  civil_date,
  start_time,
  end_time,
  civil_start_time,
  utc_offset_s,
  bpm_min,
  bpm_avg,
  bpm_max,
  1 AS samples
FROM `${dataset}.heart_rate_1min`
