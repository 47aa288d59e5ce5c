# One-command developer loop. The virtual environment lives in .venv/ and is rebuilt when the
# requirements change. `make demo` and `make test` are the README's two set-up commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help demo demo-gcp report test test-fast chaos sql check-sql bench clean

help:
	@echo "make demo       run the daily job + 14-day history on the embedded default (simulator, DuckDB)"
	@echo "make demo-gcp   the demo on emulated Google Cloud (Pub/Sub, GCS, BigQuery emulators; optional, needs Java)"
	@echo "make report     write the cohort report (one HTML file) from the demo warehouse's views"
	@echo "make test       install and run the test suite with coverage"
	@echo "make chaos      SIGKILL the embedded run CHAOS_KILLS times (default 10), resume, compare with a clean run"
	@echo "make sql        regenerate bigquery_sql/ from the catalogue"
	@echo "make bench      benchmarks (issue #7): JSON lines on stdout, a summary on stderr; a few minutes"
	@echo "make clean      remove .state/ and build outputs"

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py --users 5 --days 14

# Installs the emulators into .venv-gcs/ and .venv-bq/ on first use (about 20 s and 700 MB).
demo-gcp: $(STAMP)
	$(BIN)/python scripts/emulators.py install
	$(BIN)/python scripts/demo_gcp.py --users 3 --days 5

report: $(STAMP)
	$(BIN)/python scripts/report.py

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" --no-cov

# Issue #11: a few minutes on 2 cores; its last line is `chaos: K crashes, L lost, D duplicated, Q quarantined,
# B blocked flushes` and it fails unless L = D = B = 0. `.ci/run` runs a short version (CHAOS_KILLS=3).
CHAOS_KILLS ?= 10
chaos: $(STAMP)
	$(BIN)/python -m tools.chaos --kills $(CHAOS_KILLS)

sql: $(STAMP)
	$(BIN)/python scripts/create_sql_files.py

check-sql: $(STAMP)
	$(BIN)/python scripts/create_sql_files.py --check

# pandas (the baseline) is installed here only: it is no dependency of the pipeline.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m benchmarks --json

clean:
	rm -rf .state dist .pytest_cache .coverage coverage.xml
