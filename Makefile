# The front door: `make run` builds the warehouse on the demo data set, `make test`
# runs every test. Both set up .venv themselves on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

export PATH := $(CURDIR)/$(BIN):$(PATH)
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export DO_NOT_TRACK := 1
export PYTHONUNBUFFERED := 1

.PHONY: help setup run test test-fast test-spark ui docs dashboard browser lint format bench report-real demo parse clean

help:  ## show the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@echo ">> setting up $(VENV) (Python packages pinned in constraints.txt)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@# Test-only reference of the experiment statistics: gbstats pins numpy<2/pandas<2, but
	@# the modules the parity tests use run on numpy 2 (its other deps ship with dagster).
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps gbstats==0.8.0
	@# pysyncon 1.7.0, the synthetic-control reference: same story (its matplotlib is in dev).
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps pysyncon==1.7.0
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)  ## create .venv and install the project

parse: setup  ## parse the dbt project (run, test and ui parse by themselves when it changed)
	@$(BIN)/smallgroups parse

run: setup  ## build everything on the demo data (or SMALLGROUPS_RAW_DIR) and print a summary
	@$(BIN)/smallgroups run

test: setup browser  ## the whole suite: pytest, including end-to-end dbt builds with every dbt test
	@$(BIN)/pytest -q

test-fast: setup  ## pytest without the end-to-end pipeline runs
	@$(BIN)/pytest -q -m "not e2e"

# The Spark target (docs/spark.md) in a venv of its own: .venv stays as it is (no 300 MB
# pyspark for `make test`). The venv holds only the pinned dependencies (the project's
# and the spark extra's; the tests import the project from the checkout), so it lives
# outside the checkout, one per version of pyproject.toml + constraints.txt, and a fresh
# clone (CI) reuses it. pip builds pyspark's wheel from its source distribution once
# (about a minute) and keeps it in its cache (~/.cache/pip/wheels) for the next venv.
SPARK_KEY := $(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
SPARK_VENV ?= $(HOME)/.cache/smallgroups/venv-spark-$(SPARK_KEY)

$(SPARK_VENV)/.installed:
	@echo ">> setting up $(SPARK_VENV) (dbt-spark, pyspark; Java 17 on PATH)"
	@test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	@$(SPARK_VENV)/bin/python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["spark"]))' > $(SPARK_VENV)/requirements.txt
	@$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -r $(SPARK_VENV)/requirements.txt
	@touch $@

test-spark: $(SPARK_VENV)/.installed  ## build staging, core, graph, KPI, community and KPI staging models on Spark (local mode), the community and inflection steps beside it, and compare every row with DuckDB
	@$(SPARK_VENV)/bin/python -m pytest -q -p no:cacheprovider -m spark tests/spark

ui: setup  ## the Dagster UI on http://127.0.0.1:3000, sharing run history with `make run`
	@$(BIN)/dagster dev -h 127.0.0.1 -p 3000

# The browser tests (tests/e2e/test_dashboard_browser.py) drive Debian's chromium through
# Playwright (never Playwright's own browser download) and need a CJK font to draw Chinese.
browser:  ## install chromium and fonts-noto-cjk with apt-get when chromium is missing (root or sudo)
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { \
		echo ">> installing chromium and fonts-noto-cjk (apt-get)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; }

dashboard: setup  ## the dashboard on http://127.0.0.1:8050 (SMALLGROUPS_DASHBOARD_PORT), reading the published snapshot
	@$(BIN)/smallgroups dashboard serve

docs: setup  ## the dbt docs site (models, columns, lineage, exposures) in target/docs/index.html, offline
	@$(BIN)/smallgroups docs

demo: setup  ## (re)write the demo data set into data/raw and data/ground_truth
	@$(BIN)/python -m orchestration.lib.demo.cli --out data/raw --truth data/ground_truth

# The SQL that `make lint` checks and `make format` fixes (.pre-commit-config.yaml too).
# sqlfluff's dbt templater opens the warehouse; an in-memory one lints a fresh clone (no
# data/ yet) and never waits on the lock of a warehouse in use. No model queries it.
SQL_PATHS := models macros data-tests
SQLFLUFF := SMALLGROUPS_DUCKDB_PATH=:memory: $(BIN)/sqlfluff

lint: parse  ## ruff and sqlfluff; `make format` fixes what they can
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(SQLFLUFF) lint $(SQL_PATHS)

# --exit-zero: what ruff cannot fix is printed, and the formatters still run after it.
format: parse  ## apply the ruff and sqlfluff fixes for everything `make lint` checks
	@$(BIN)/ruff check --fix --exit-zero .
	@$(BIN)/ruff format .
	@$(SQLFLUFF) fix $(SQL_PATHS)

bench: parse  ## benchmarks (print figures; see README "Benchmarks"); run `make run` first
	@$(BIN)/python bench/bench_foundation.py --incremental
	@$(BIN)/python bench/bench_detection.py
	@$(BIN)/python bench/bench_communities.py
	@$(BIN)/python bench/bench_inflection.py
	@$(BIN)/python bench/bench_text_pipeline.py
	@$(BIN)/python bench/bench_text_topics.py
	@$(BIN)/python bench/bench_sentiment.py
	@$(BIN)/python bench/bench_experiments.py
	@$(BIN)/python bench/bench_attribution.py
	@$(BIN)/python bench/bench_dashboard.py

report-real: parse  ## import the real Stack Exchange dump and CollegeMsg (SMALLGROUPS_EVAL_DATA), run everything, report
	@$(BIN)/python bench/report_real.py

clean:  ## remove the warehouse, generated data and dbt artefacts (keeps .venv)
	rm -rf data target logs spark-warehouse metastore_db .dagster_home/storage .dagster_home/history .dagster_home/schedules
