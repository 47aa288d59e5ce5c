-- day_ledger: one state per participant, civil day and data type, from the rows in day_outcomes
-- (fitbit/ledger.py writes them: a run's plan marks its days 'planned'; each processed object gives each day
-- of its window 'loaded' with a row count, 'empty' or 'failed').
--
-- state:
--   complete  an answer that carried rows for the day, and no failure since
--   partial   some answer carried the day, but a later object covering it failed (a page, a re-fetch)
--   no-data   the API answered and had nothing for the day (device not worn, nothing synced)
--   failed    every attempt failed; error_class says why (processing_log.fix says what to do)
--   pending   planned by a run and not attempted yet
-- A day no run ever planned has no row: "not fetched" is absence or 'pending', never 'no-data'.
-- refetch_pending: a later run planned the day again and has not answered yet (the state is the last known).
-- BigQuery SQL; the embedded warehouse runs it on DuckDB through sqlglot (helper/views.py).
CREATE OR REPLACE VIEW `${dataset}.day_ledger`
OPTIONS(description="One state per participant, civil day and data type: complete, partial, no-data (the API answered with nothing), failed (with error class) or pending (planned, not attempted), with the last attempt time.")
AS
WITH cells AS (
  SELECT
    participant_id, civil_date, data_type,
    MAX(IF(outcome IN ('loaded', 'empty'), processed_at, NULL)) AS last_success_at,
    MAX(IF(outcome = 'failed', processed_at, NULL)) AS last_failure_at,
    MAX(IF(outcome = 'planned', processed_at, NULL)) AS last_planned_at,
    MAX(IF(outcome != 'planned', processed_at, NULL)) AS last_attempt_at,
    SUM(IF(outcome = 'loaded', rows, 0)) AS rows_seen
  FROM `${dataset}.day_outcomes`
  GROUP BY participant_id, civil_date, data_type
),
last_failure AS (
  SELECT participant_id, civil_date, data_type, error_class
  FROM `${dataset}.day_outcomes`
  WHERE outcome = 'failed'
  QUALIFY ROW_NUMBER() OVER (PARTITION BY participant_id, civil_date, data_type ORDER BY processed_at DESC, raw_object DESC) = 1
)
SELECT
  c.participant_id,
  c.civil_date,
  c.data_type,
  CASE
    WHEN c.last_attempt_at IS NULL THEN 'pending'
    WHEN c.last_success_at IS NULL THEN 'failed'
    WHEN c.last_failure_at IS NOT NULL AND c.last_failure_at > c.last_success_at THEN 'partial'
    WHEN c.rows_seen > 0 THEN 'complete'
    ELSE 'no-data'
  END AS state,
  IF(c.last_failure_at IS NOT NULL AND (c.last_success_at IS NULL OR c.last_failure_at > c.last_success_at),
     f.error_class, NULL) AS error_class,
  c.last_attempt_at,
  COALESCE(c.last_planned_at > c.last_attempt_at, FALSE) AS refetch_pending
FROM cells AS c
LEFT JOIN last_failure AS f USING (participant_id, civil_date, data_type)
