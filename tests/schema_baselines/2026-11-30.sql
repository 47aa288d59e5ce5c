-- Frozen: the DDL of main at 61b241e (2026-11-30), before issue #12 added columns. Never edit; add a new baseline per release.
CREATE TABLE IF NOT EXISTS `${dataset}.steps_intraday` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  steps INT64 OPTIONS(description='Steps in the interval'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled steps per interval');

CREATE TABLE IF NOT EXISTS `${dataset}.steps_daily` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  steps INT64 OPTIONS(description='Steps on the civil day'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Daily step total from dailyRollUp');

CREATE TABLE IF NOT EXISTS `${dataset}.distance_intraday` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  distance_mm INT64 OPTIONS(description='Distance, millimetres'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled distance per interval');

CREATE TABLE IF NOT EXISTS `${dataset}.distance_daily` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  distance_mm INT64 OPTIONS(description='Distance, millimetres'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Daily distance from dailyRollUp');

CREATE TABLE IF NOT EXISTS `${dataset}.floors_intraday` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  floors INT64 OPTIONS(description='Floors climbed'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled floors per interval');

CREATE TABLE IF NOT EXISTS `${dataset}.floors_daily` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  floors INT64 OPTIONS(description='Floors climbed'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Daily floors from dailyRollUp');

CREATE TABLE IF NOT EXISTS `${dataset}.altitude_intraday` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  elevation_gain_mm INT64 OPTIONS(description='Elevation gain, millimetres'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled elevation gain per interval');

CREATE TABLE IF NOT EXISTS `${dataset}.total_calories_daily` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  calories_kcal FLOAT64 OPTIONS(description='Energy burned, kcal'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Daily total calories from dailyRollUp');

CREATE TABLE IF NOT EXISTS `${dataset}.active_zone_minutes_intraday` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  heart_rate_zone STRING OPTIONS(description='FAT_BURN, CARDIO or PEAK'),
  active_zone_minutes INT64 OPTIONS(description='Active-zone minute credits'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled active-zone minutes per interval');

CREATE TABLE IF NOT EXISTS `${dataset}.active_zone_minutes_daily` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  fat_burn_minutes INT64 OPTIONS(description='Credits in the fat-burn zone'),
  cardio_minutes INT64 OPTIONS(description='Credits in the cardio zone'),
  peak_minutes INT64 OPTIONS(description='Credits in the peak zone'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Daily active-zone minutes from dailyRollUp');

CREATE TABLE IF NOT EXISTS `${dataset}.active_minutes_intraday` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  light_minutes INT64 OPTIONS(description='Light active minutes in the interval'),
  moderate_minutes INT64 OPTIONS(description='Moderate active minutes in the interval'),
  vigorous_minutes INT64 OPTIONS(description='Vigorous active minutes in the interval'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled active minutes per interval, by level');

CREATE TABLE IF NOT EXISTS `${dataset}.sedentary_periods` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled sedentary periods (the interval is the value)');

CREATE TABLE IF NOT EXISTS `${dataset}.time_in_heart_rate_zone` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  heart_rate_zone STRING OPTIONS(description='LIGHT, MODERATE, VIGOROUS or PEAK'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled intervals spent in a heart-rate zone');

CREATE TABLE IF NOT EXISTS `${dataset}.heart_rate_1min` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP NOT NULL OPTIONS(description='Rollup window start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Rollup window end (exclusive), physical UTC instant'),
  utc_offset_s INT64 OPTIONS(description='UTC offset at the window start from the account time zone, seconds'),
  civil_start_time DATETIME OPTIONS(description='Window start on the user\'s wall clock (derived from the account time zone)'),
  offset_source STRING OPTIONS(description='Where the offset came from: \'account_time_zone\' (rollUp windows carry none)'),
  bpm_min FLOAT64 OPTIONS(description='Lowest bpm in the minute'),
  bpm_avg FLOAT64 OPTIONS(description='Mean bpm in the minute'),
  bpm_max FLOAT64 OPTIONS(description='Highest bpm in the minute'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Heart rate per UTC minute (rollUp, 60 s windows)');

CREATE TABLE IF NOT EXISTS `${dataset}.heart_rate_samples` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  sample_time TIMESTAMP NOT NULL OPTIONS(description='Sample instant, physical UTC'),
  utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the sample, seconds'),
  civil_time DATETIME OPTIONS(description='Sample time on the user\'s wall clock'),
  source_key STRING NOT NULL OPTIONS(description='Stable hash of the data source (device + platform + application); part of raw keys'),
  source_platform STRING OPTIONS(description='dataSource.platform, e.g. FITBIT, HEALTH_CONNECT'),
  source_recording_method STRING OPTIONS(description='dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL'),
  source_device STRING OPTIONS(description='dataSource.device.displayName'),
  source_form_factor STRING OPTIONS(description='dataSource.device.formFactor, e.g. WATCH, PHONE'),
  source_application STRING OPTIONS(description='dataSource.application.packageName or client id'),
  bpm INT64 OPTIONS(description='Heart rate, beats per minute'),
  motion_context STRING OPTIONS(description='ACTIVE or SEDENTARY'),
  sensor_location STRING OPTIONS(description='WRIST, CHEST, ...'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Raw heart-rate samples (up to 1 per second)');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_resting_heart_rate` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  resting_bpm INT64 OPTIONS(description='Resting heart rate, bpm'),
  calculation_method STRING OPTIONS(description='WITH_SLEEP or ONLY_WITH_AWAKE_DATA'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Resting heart rate per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_heart_rate_zones` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  light_min_bpm INT64 OPTIONS(description='Lower bound of the light zone, bpm'),
  light_max_bpm INT64 OPTIONS(description='Upper bound of the light zone, bpm'),
  moderate_min_bpm INT64 OPTIONS(description='Lower bound of the moderate zone, bpm'),
  moderate_max_bpm INT64 OPTIONS(description='Upper bound of the moderate zone, bpm'),
  vigorous_min_bpm INT64 OPTIONS(description='Lower bound of the vigorous zone, bpm'),
  vigorous_max_bpm INT64 OPTIONS(description='Upper bound of the vigorous zone, bpm'),
  peak_min_bpm INT64 OPTIONS(description='Lower bound of the peak zone, bpm'),
  peak_max_bpm INT64 OPTIONS(description='Upper bound of the peak zone, bpm'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Heart-rate zone boundaries per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.heart_rate_variability` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  sample_time TIMESTAMP NOT NULL OPTIONS(description='Sample instant, physical UTC'),
  utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the sample, seconds'),
  civil_time DATETIME OPTIONS(description='Sample time on the user\'s wall clock'),
  rmssd_ms FLOAT64 OPTIONS(description='RMSSD, ms'),
  sdnn_ms FLOAT64 OPTIONS(description='SDNN, ms'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled HRV samples');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_heart_rate_variability` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  average_hrv_ms FLOAT64 OPTIONS(description='Average HRV (RMSSD), ms'),
  deep_sleep_rmssd_ms FLOAT64 OPTIONS(description='RMSSD during deep sleep, ms'),
  entropy FLOAT64 OPTIONS(description='HRV entropy'),
  non_rem_bpm INT64 OPTIONS(description='Non-REM heart rate, bpm'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='HRV summary per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.oxygen_saturation` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  sample_time TIMESTAMP NOT NULL OPTIONS(description='Sample instant, physical UTC'),
  utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the sample, seconds'),
  civil_time DATETIME OPTIONS(description='Sample time on the user\'s wall clock'),
  spo2_pct FLOAT64 OPTIONS(description='Blood oxygen saturation, percent'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Reconciled SpO2 samples');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_oxygen_saturation` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  average_pct FLOAT64 OPTIONS(description='Average SpO2, percent'),
  lower_bound_pct FLOAT64 OPTIONS(description='Lower bound, percent'),
  upper_bound_pct FLOAT64 OPTIONS(description='Upper bound, percent'),
  stddev_pct FLOAT64 OPTIONS(description='Standard deviation, percent'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='SpO2 summary per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_respiratory_rate` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  breaths_per_minute FLOAT64 OPTIONS(description='Breaths per minute during sleep'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Respiratory rate per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_sleep_temperature` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  nightly_temperature_c FLOAT64 OPTIONS(description='Nightly temperature, °C'),
  baseline_temperature_c FLOAT64 OPTIONS(description='Baseline temperature, °C'),
  relative_nightly_stddev_30d_c FLOAT64 OPTIONS(description='30-day relative nightly standard deviation, °C'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Sleep temperature derivations per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.daily_vo2_max` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  vo2_max FLOAT64 OPTIONS(description='VO2 max, mL/kg/min'),
  vo2_max_covariance FLOAT64 OPTIONS(description='Covariance of the estimate'),
  cardio_fitness_level STRING OPTIONS(description='POOR ... EXCELLENT'),
  estimated BOOL OPTIONS(description='Whether the value is estimated'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='VO2 max per civil day');

CREATE TABLE IF NOT EXISTS `${dataset}.sleep_sessions` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  data_point_name STRING NOT NULL OPTIONS(description='API resource name of an identifiable point (sleep, exercise)'),
  source_key STRING OPTIONS(description='Stable hash of the data source (device + platform + application); part of raw keys'),
  source_platform STRING OPTIONS(description='dataSource.platform, e.g. FITBIT, HEALTH_CONNECT'),
  source_recording_method STRING OPTIONS(description='dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL'),
  source_device STRING OPTIONS(description='dataSource.device.displayName'),
  source_form_factor STRING OPTIONS(description='dataSource.device.formFactor, e.g. WATCH, PHONE'),
  source_application STRING OPTIONS(description='dataSource.application.packageName or client id'),
  sleep_type STRING OPTIONS(description='CLASSIC or STAGES'),
  minutes_in_sleep_period INT64 OPTIONS(description='Minutes in the sleep period'),
  minutes_asleep INT64 OPTIONS(description='Minutes asleep'),
  minutes_awake INT64 OPTIONS(description='Minutes awake'),
  minutes_to_fall_asleep INT64 OPTIONS(description='Sleep latency, minutes'),
  minutes_after_wake_up INT64 OPTIONS(description='Minutes in bed after waking'),
  stage_light_minutes INT64 OPTIONS(description='Minutes in LIGHT stage (NULL when the night has no such stage)'),
  stage_deep_minutes INT64 OPTIONS(description='Minutes in DEEP stage (NULL when the night has no such stage)'),
  stage_rem_minutes INT64 OPTIONS(description='Minutes in REM stage (NULL when the night has no such stage)'),
  stage_asleep_minutes INT64 OPTIONS(description='Minutes in ASLEEP stage (NULL when the night has no such stage)'),
  stage_restless_minutes INT64 OPTIONS(description='Minutes in RESTLESS stage (NULL when the night has no such stage)'),
  main_sleep BOOL OPTIONS(description='Main sleep of the day'),
  nap BOOL OPTIONS(description='Nap'),
  processed BOOL OPTIONS(description='False while staging still runs'),
  manually_edited BOOL OPTIONS(description='Edited by the user'),
  stages_status STRING OPTIONS(description='Why stages were or were not computed'),
  stages JSON OPTIONS(description='Stage segments as returned'),
  update_time TIMESTAMP OPTIONS(description='When Google last rewrote the record'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Sleep sessions with summary and stages');

CREATE TABLE IF NOT EXISTS `${dataset}.exercise_sessions` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  start_time TIMESTAMP OPTIONS(description='Interval start, physical UTC instant'),
  end_time TIMESTAMP OPTIONS(description='Interval end (exclusive), physical UTC instant'),
  start_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the start, seconds'),
  end_utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the end, seconds'),
  civil_start_time DATETIME OPTIONS(description='Interval start on the user\'s wall clock'),
  civil_end_time DATETIME OPTIONS(description='Interval end on the user\'s wall clock'),
  data_point_name STRING NOT NULL OPTIONS(description='API resource name of an identifiable point (sleep, exercise)'),
  source_key STRING OPTIONS(description='Stable hash of the data source (device + platform + application); part of raw keys'),
  source_platform STRING OPTIONS(description='dataSource.platform, e.g. FITBIT, HEALTH_CONNECT'),
  source_recording_method STRING OPTIONS(description='dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL'),
  source_device STRING OPTIONS(description='dataSource.device.displayName'),
  source_form_factor STRING OPTIONS(description='dataSource.device.formFactor, e.g. WATCH, PHONE'),
  source_application STRING OPTIONS(description='dataSource.application.packageName or client id'),
  exercise_type STRING OPTIONS(description='RUNNING, WALKING, ...'),
  display_name STRING OPTIONS(description='Name shown in the app'),
  active_duration_s FLOAT64 OPTIONS(description='Active time excluding pauses, seconds'),
  calories_kcal FLOAT64 OPTIONS(description='Energy, kcal'),
  distance_mm FLOAT64 OPTIONS(description='Distance, millimetres'),
  steps INT64 OPTIONS(description='Steps'),
  average_heart_rate_bpm INT64 OPTIONS(description='Mean bpm'),
  active_zone_minutes INT64 OPTIONS(description='Active-zone minute credits'),
  elevation_gain_mm FLOAT64 OPTIONS(description='Elevation gain, mm'),
  average_speed_mm_s FLOAT64 OPTIONS(description='Mean speed'),
  average_pace_s_per_m FLOAT64 OPTIONS(description='Mean pace'),
  run_vo2_max FLOAT64 OPTIONS(description='VO2 max estimated from the run'),
  light_time_s FLOAT64 OPTIONS(description='Seconds in the light heart-rate zone during the session'),
  moderate_time_s FLOAT64 OPTIONS(description='Seconds in the moderate heart-rate zone during the session'),
  vigorous_time_s FLOAT64 OPTIONS(description='Seconds in the vigorous heart-rate zone during the session'),
  peak_time_s FLOAT64 OPTIONS(description='Seconds in the peak heart-rate zone during the session'),
  has_gps BOOL OPTIONS(description='Recorded with GPS'),
  pool_length_mm INT64 OPTIONS(description='Pool length, mm'),
  notes STRING OPTIONS(description='User notes'),
  events JSON OPTIONS(description='Start/pause/resume/stop events'),
  splits JSON OPTIONS(description='Automatic splits'),
  update_time TIMESTAMP OPTIONS(description='When the record last changed'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Exercise sessions');

CREATE TABLE IF NOT EXISTS `${dataset}.weight` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  sample_time TIMESTAMP NOT NULL OPTIONS(description='Sample instant, physical UTC'),
  utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the sample, seconds'),
  civil_time DATETIME OPTIONS(description='Sample time on the user\'s wall clock'),
  source_key STRING NOT NULL OPTIONS(description='Stable hash of the data source (device + platform + application); part of raw keys'),
  source_platform STRING OPTIONS(description='dataSource.platform, e.g. FITBIT, HEALTH_CONNECT'),
  source_recording_method STRING OPTIONS(description='dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL'),
  source_device STRING OPTIONS(description='dataSource.device.displayName'),
  source_form_factor STRING OPTIONS(description='dataSource.device.formFactor, e.g. WATCH, PHONE'),
  source_application STRING OPTIONS(description='dataSource.application.packageName or client id'),
  weight_grams FLOAT64 OPTIONS(description='Body weight, grams'),
  notes STRING OPTIONS(description='User notes'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Weight logs with their source');

CREATE TABLE IF NOT EXISTS `${dataset}.body_fat` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  sample_time TIMESTAMP NOT NULL OPTIONS(description='Sample instant, physical UTC'),
  utc_offset_s INT64 OPTIONS(description='User\'s UTC offset at the sample, seconds'),
  civil_time DATETIME OPTIONS(description='Sample time on the user\'s wall clock'),
  source_key STRING NOT NULL OPTIONS(description='Stable hash of the data source (device + platform + application); part of raw keys'),
  source_platform STRING OPTIONS(description='dataSource.platform, e.g. FITBIT, HEALTH_CONNECT'),
  source_recording_method STRING OPTIONS(description='dataSource.recordingMethod, e.g. PASSIVELY_MEASURED, MANUAL'),
  source_device STRING OPTIONS(description='dataSource.device.displayName'),
  source_form_factor STRING OPTIONS(description='dataSource.device.formFactor, e.g. WATCH, PHONE'),
  source_application STRING OPTIONS(description='dataSource.application.packageName or client id'),
  body_fat_pct FLOAT64 OPTIONS(description='Body fat, percent'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Body-fat logs with their source');

CREATE TABLE IF NOT EXISTS `${dataset}.participant_settings` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  time_zone STRING OPTIONS(description='IANA time zone of the account'),
  utc_offset_s INT64 OPTIONS(description='Current UTC offset, seconds'),
  distance_unit STRING OPTIONS(description='Preferred distance unit'),
  weight_unit STRING OPTIONS(description='Preferred weight unit'),
  language_locale STRING OPTIONS(description='Locale'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='The participant\'s account settings per day they were read (time zone drives civil times)');

CREATE TABLE IF NOT EXISTS `${dataset}.paired_devices` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE NOT NULL OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  device_name STRING NOT NULL OPTIONS(description='Device resource name'),
  device_type STRING OPTIONS(description='TRACKER or SCALE'),
  device_version STRING OPTIONS(description='Model, e.g. Charge 6'),
  battery_status STRING OPTIONS(description='High, Medium, Low, Empty'),
  battery_level INT64 OPTIONS(description='Battery percent'),
  last_sync_time TIMESTAMP OPTIONS(description='Last time the device synced'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Paired trackers and scales per day they were read; last_sync_time explains gaps');

CREATE TABLE IF NOT EXISTS `${dataset}.exercise_tcx_points` (
  participant_id STRING NOT NULL OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  data_point_name STRING NOT NULL OPTIONS(description='The exercise session the track belongs to'),
  point_time TIMESTAMP NOT NULL OPTIONS(description='Track point instant, UTC'),
  latitude FLOAT64 OPTIONS(description='Latitude, degrees'),
  longitude FLOAT64 OPTIONS(description='Longitude, degrees'),
  altitude_m FLOAT64 OPTIONS(description='Altitude, metres'),
  distance_m FLOAT64 OPTIONS(description='Cumulative distance, metres'),
  heart_rate_bpm INT64 OPTIONS(description='Heart rate, bpm'),
  raw_object STRING OPTIONS(description='Raw-store object this row was parsed from'),
  parser_version STRING OPTIONS(description='Version of the parser that produced the row'),
  fetched_at TIMESTAMP OPTIONS(description='When extract fetched the page; newer fetches win on reload'),
  loaded_at TIMESTAMP OPTIONS(description='When the row was merged into the table')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='Track points of exercise sessions exported as TCX (exercise_tcx follow-up)');

CREATE TABLE IF NOT EXISTS `${dataset}.processing_log` (
  participant_id STRING OPTIONS(description='Study participant id (the enrolment id, not the Google account)'),
  civil_date DATE OPTIONS(description='The participant\'s local calendar day the row belongs to (partition field)'),
  raw_object STRING NOT NULL OPTIONS(description='The raw-store object processed'),
  data_type STRING OPTIONS(description='Catalogue data type (or account read) of the unit'),
  method STRING OPTIONS(description='Read method of the unit'),
  status STRING OPTIONS(description='loaded, empty, failed, deferred or skipped'),
  error_class STRING OPTIONS(description='Error class name when status is failed'),
  fix STRING OPTIONS(description='What a person should do about a failure'),
  row_counts JSON OPTIONS(description='Rows produced per table'),
  attempt INT64 OPTIONS(description='Delivery attempt of the unit'),
  parser_version STRING OPTIONS(description='Parser version'),
  processed_at TIMESTAMP OPTIONS(description='When the object was processed')
)
PARTITION BY civil_date
CLUSTER BY participant_id
OPTIONS(description='One row per raw object: outcome, row counts and error class. Never holds health values.');
