# Care-journey service. Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
PY := .venv/bin/python
RUN_DEPS := .venv/.installed-run
TEST_DEPS := .venv/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 200

.PHONY: run test test-tools lint format typecheck unit contracts bench clean

# Three stamps: the venv itself, what running needs, what the tests need on top.
$(PY):
	$(PYTHON) -m venv .venv
	$(PY) -m pip install -q --upgrade pip

$(RUN_DEPS): pyproject.toml setup.py services/bulk/_rowstep.c | $(PY)
	$(PY) -m pip install -q -e .
	touch $(RUN_DEPS)

$(TEST_DEPS): $(RUN_DEPS)
	$(PY) -m pip install -q -e '.[test]'
	touch $(TEST_DEPS)

## test-tools: kcat and chromium for the tests (apt-get when root, else the one line to run)
test-tools: $(PY)
	$(PY) devtools/test_tools.py

## run: embedded SQLite store (journey.db here), demo cohort, API on $(HOST):$(PORT)
run: $(RUN_DEPS)
	.venv/bin/journey demo --patients $(DEMO_PATIENTS)
	@echo "Care-journey API: http://$(HOST):$(PORT)/docs  (OpenAPI: /openapi.json)"
	@echo "Authentication is off for this local demo only (JOURNEY_AUTH=false)."
	@echo "Try: curl http://$(HOST):$(PORT)/v1/patients/demo-000001/journey"
	@echo "     .venv/bin/journey show demo-000001"
	JOURNEY_AUTH=false .venv/bin/journey serve --host $(HOST) --port $(PORT)

## test: lint, type checks and every test, on real PostgreSQL and Kafka started here
test: test-tools $(TEST_DEPS) lint typecheck services-up
	set -a && . ./.services.env && set +a && $(PY) -m pytest -n 2 --dist loadgroup

lint: $(TEST_DEPS)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: $(TEST_DEPS)
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

typecheck: $(TEST_DEPS)
	.venv/bin/mypy

unit: $(TEST_DEPS)
	$(PY) -m pytest tests/unit

## contracts: regenerate contracts/ (JSON Schemas, AsyncAPI) from the published models
contracts: $(RUN_DEPS)
	$(PY) -m publishing.contracts

## bench: every benchmark, each prints its figures (relay, analytics, rebuild need the services)
bench: $(TEST_DEPS) services-up
	$(PY) -m benchmarks.bench_import
	$(PY) -m benchmarks.import_floor
	$(PY) -m benchmarks.row_step
	$(PY) -m benchmarks.bench_command_cost
	$(PY) -m benchmarks.bench_show
	$(PY) -m benchmarks.bench_replay
	$(PY) -m benchmarks.replay_fork --pairs 6 --pieces
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_relay
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_bulk_import
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_analytics
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_rebuild

clean:
	rm -rf .venv journey.db journey.db-wal journey.db-shm .pytest_cache .mypy_cache .ruff_cache

include devtools/services.mk

# devtools/services.py needs only the interpreter: a fresh clone gets the venv first.
services-up services-down services-status: $(PY)
