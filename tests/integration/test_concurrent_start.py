"""Several API instances, relays and projectors started at the same moment on a fresh
PostgreSQL database all come up: creating and migrating the schema (event store, anchors,
key check, access trail, read models) is safe when they race (concurrent `CREATE ... IF NOT
EXISTS` of one table is not, in PostgreSQL). Real processes, repeated on fresh databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from devtools import provision

pytestmark = pytest.mark.postgres

ROUNDS, PROCESSES = 4, 5

# What `journey serve` does before answering (the application, the API with its access
# trail), what `journey relay` does first (its position) and what `journey project` does
# first (the read models' tables), all at one instant.
START = """
import sys, time
from consumers.read_model_service import ReadModelService
from publishing.relay_position import RelayPosition
from interfaces.api.app import create_app
from services.bootstrap import build_application
from config.settings import Settings

settings = Settings(database_url=sys.argv[1], auth=False)
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
app = build_application(settings)
create_app(app, settings)
RelayPosition(app, 'care-journey.events.v1').get()
with ReadModelService(app, sys.argv[1]) as service:
    service.catch_up()
app.close()
"""


def test_instances_started_together_on_a_fresh_database_all_start(postgres_url: str) -> None:
    for _ in range(ROUNDS):
        url = provision.create_database(postgres_url)
        try:
            at = time.time() + 3.0  # after every interpreter has imported everything
            started = [
                subprocess.Popen(
                    [sys.executable, "-c", START, url, str(at)],
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "PYTHONPATH": os.getcwd()},
                )
                for _ in range(PROCESSES)
            ]
            failures = [
                error
                for process in started
                if (error := process.communicate(timeout=120)[1]) and process.returncode != 0
            ]
            assert not failures, failures[0][-2000:]
        finally:
            provision.drop_database(url)
