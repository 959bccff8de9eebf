# Local PostgreSQL 15 + Kafka 4.3 (KRaft) for development and CI, without Docker.
# Included by the top-level Makefile, which defines PY (e.g. PY := .venv/bin/python).
# `services-up` writes .services.env (JOURNEY_TEST_POSTGRES_URL, JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS).
# Select one service with ARGS=--postgres or ARGS=--kafka; `make services-down ARGS=--clean`
# also deletes .services/.

PY ?= .venv/bin/python
ARGS ?=

.PHONY: services-up services-down services-status

services-up:
	$(PY) devtools/services.py up $(ARGS)

services-down:
	$(PY) devtools/services.py down $(ARGS)

services-status:
	$(PY) devtools/services.py status
