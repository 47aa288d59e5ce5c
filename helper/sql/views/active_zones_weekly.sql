-- active_zones_weekly: active_zones summed per participant and ISO week (Monday to Sunday, civil days).
--
-- days_with_data says how many of the week's seven days had any zone data, so a partial week (the first
-- and last of a study, or days not worn) is visible rather than read as a low week. Same limitation as
-- active_zones: calories per zone are not loaded.
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.active_zones_weekly`
OPTIONS(description="Per participant and ISO week (Monday start): active-zone minute credits by zone and minutes in each heart-rate zone, with the number of days that had data. Limitation: calories per zone are not loaded.")
AS
SELECT
  participant_id,
  week_start,
  CAST(DATE_ADD(week_start, INTERVAL 6 DAY) AS DATE) AS week_end,
  COUNT(*) AS days_with_data,
  SUM(azm_fat_burn) AS azm_fat_burn,
  SUM(azm_cardio) AS azm_cardio,
  SUM(azm_peak) AS azm_peak,
  SUM(azm_total) AS azm_total,
  SUM(light_zone_minutes) AS light_zone_minutes,
  SUM(moderate_zone_minutes) AS moderate_zone_minutes,
  SUM(vigorous_zone_minutes) AS vigorous_zone_minutes,
  SUM(peak_zone_minutes) AS peak_zone_minutes
FROM `${dataset}.active_zones`
GROUP BY participant_id, week_start
