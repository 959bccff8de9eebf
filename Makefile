# Care-journey service. Two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
PY := .venv/bin/python
VENV := .venv/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PATIENTS ?= 200

.PHONY: run test lint format typecheck unit bench clean

$(VENV): pyproject.toml
	$(PYTHON) -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(VENV)

## run: embedded SQLite store (journey.db here), demo cohort, API on $(HOST):$(PORT)
run: $(VENV)
	.venv/bin/journey demo --patients $(DEMO_PATIENTS)
	@echo "Care-journey API: http://$(HOST):$(PORT)/docs  (OpenAPI: /openapi.json)"
	@echo "Authentication is off for this local demo only (JOURNEY_AUTH=false)."
	@echo "Try: curl http://$(HOST):$(PORT)/v1/patients/demo-000001/journey"
	@echo "     .venv/bin/journey show demo-000001"
	JOURNEY_AUTH=false .venv/bin/journey serve --host $(HOST) --port $(PORT)

## test: lint, type checks and every test, on real PostgreSQL and Kafka started here
test: $(VENV) lint typecheck services-up
	set -a && . ./.services.env && set +a && $(PY) -m pytest -n 2 --dist loadgroup

lint: $(VENV)
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: $(VENV)
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

typecheck: $(VENV)
	.venv/bin/mypy

unit: $(VENV)
	$(PY) -m pytest tests/unit

## bench: every benchmark, each prints its figures (relay, analytics, rebuild need the services)
bench: $(VENV) services-up
	$(PY) -m benchmarks.bench_import
	$(PY) -m benchmarks.bench_command_cost
	$(PY) -m benchmarks.bench_show
	$(PY) -m benchmarks.bench_replay
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_relay
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_bulk_import
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_analytics
	set -a && . ./.services.env && set +a && $(PY) -m benchmarks.bench_rebuild

clean:
	rm -rf .venv journey.db journey.db-wal journey.db-shm .pytest_cache .mypy_cache .ruff_cache

include infra/services.mk
