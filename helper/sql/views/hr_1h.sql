-- hr_1h: heart rate per UTC hour, from the 1-minute windows in heart_rate_1min.
--
-- bpm_min / bpm_max are the lowest / highest of the hour's minutes; bpm_avg is the mean of the minute means
-- (each worn minute weighs the same; rollUp does not return a sample count per minute); samples is the
-- number of 1-minute windows with data (60 = worn the whole hour). Hours without any worn minute are
-- absent. Windows are UTC hours, as the API's rollUp with windowSize "3600s" returns them; civil_start_time
-- is the hour's start on the participant's wall clock (account time zone). Rows are grouped by the minutes'
-- civil_date too, so a filter on civil_date prunes heart_rate_1min's partitions; in a time zone with a
-- half-hour offset the UTC hour that straddles local midnight is therefore two rows, one per civil day.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.hr_1h`
OPTIONS(description="Heart rate per UTC hour: min, mean (of the minute means) and max bpm, and samples = number of 1-minute windows with data (60 = worn all hour). Hours with no data are absent.")
AS
WITH hours AS (
  SELECT
    participant_id,
    civil_date,
    TIMESTAMP_TRUNC(start_time, HOUR) AS start_time,
    MIN(utc_offset_s) AS utc_offset_s,
    MIN(bpm_min) AS bpm_min,
    AVG(bpm_avg) AS bpm_avg,
    MAX(bpm_max) AS bpm_max,
    COUNT(*) AS samples
  FROM `${dataset}.heart_rate_1min`
  GROUP BY participant_id, civil_date, TIMESTAMP_TRUNC(start_time, HOUR)
)
SELECT
  participant_id,
  civil_date,
  start_time,
  TIMESTAMP_ADD(start_time, INTERVAL 1 HOUR) AS end_time,
  DATETIME(TIMESTAMP_ADD(start_time, INTERVAL utc_offset_s SECOND)) AS civil_start_time,
  utc_offset_s,
  bpm_min,
  bpm_avg,
  bpm_max,
  samples
FROM hours
