"""`journey replay` with worker processes: the live tables are summed in a thread while the
workers replay; the comparison still says equal for an untouched store and names the table
a live row was changed in. Workers started before anything opens the store (`SharePool`, as
`journey replay` starts them) are forked, and replay the same; beside a thread, spawned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from config.settings import Settings
from devtools.demo.cohort import generate_cohort
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models.schema import READ_MODEL_TABLES
from services.replay import replay_and_compare, replay_position
from services.replay_parallel import SharePool
from services.runtime import Runtime
from tests.readmodels.support import follow


def test_parallel_replay_compares_with_the_live_tables(
    make_app: Callable[..., JourneyApplication], store_url: str, tmp_path: Path
) -> None:
    app = make_app()
    commands = [parse_command(c) for c in generate_cohort(12, seed=4, until=date(2026, 5, 1))]
    app.handle_many(commands, atomic=True, now=datetime(2026, 5, 2, tzinfo=UTC))
    follow(app, store_url)
    with Runtime(Settings(database_url=store_url), application=app) as runtime:
        stop = replay_position(runtime)
        done = replay_and_compare(runtime, READ_MODEL_TABLES, stop=stop, workers=2)
        assert done.equal and done.events == stop
        assert [c.live.table for c in done.comparisons] == list(READ_MODEL_TABLES)
        live = connect(store_url)
        with live.transaction() as unit:
            unit.execute("UPDATE rm_sessions SET duration_minutes = duration_minutes + 1")
        live.close()
        kept = tmp_path / "kept.db"
        changed = replay_and_compare(runtime, READ_MODEL_TABLES, stop=stop, workers=2, keep=kept)
    different = [c.live.table for c in changed.comparisons if not c.equal]
    assert different == ["rm_sessions"] and kept.exists()


ROOT = Path(__file__).resolve().parents[2]
FORKED = """
import json, sys
from config.settings import Settings
from projections.read_models.schema import READ_MODEL_TABLES
from services.replay import replay_and_compare, replay_position
from services.replay_parallel import SharePool
from services.runtime import Runtime

with SharePool(2) as pool:  # one thread, nothing open yet: as `journey replay` starts them
    with Runtime(Settings(database_url=sys.argv[1])) as runtime:
        stop = replay_position(runtime)
        done = replay_and_compare(runtime, READ_MODEL_TABLES, stop=stop, workers=2, pool=pool)
print(json.dumps({
    "method": pool.method, "events": done.events, "stop": stop,
    "tables": [c.live.table for c in done.comparisons if c.equal],
}))
"""


def test_workers_started_before_the_store_opens_are_forked_and_replay_the_same(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    commands = [parse_command(c) for c in generate_cohort(12, seed=5, until=date(2026, 5, 1))]
    app.handle_many(commands, atomic=True, now=datetime(2026, 5, 2, tzinfo=UTC))
    follow(app, store_url)
    done = subprocess.run(
        [sys.executable, "-c", FORKED, store_url],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["method"] == "fork"
    assert found["events"] == found["stop"] > 0
    assert found["tables"] == list(READ_MODEL_TABLES)  # every table equal to the live one


def test_a_pool_made_beside_another_thread_is_spawned() -> None:
    """A fork copies the locks other threads hold at that moment (a worker forked while a
    thread was in SQLite's `connect` waited there forever)."""
    stop = threading.Event()
    beside = threading.Thread(target=stop.wait)
    beside.start()
    try:
        assert SharePool(2).method == "spawn"
    finally:
        stop.set()
        beside.join()
