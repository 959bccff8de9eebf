"""`journey replay` with worker processes: the live tables are summed in a thread while the
workers replay; the comparison still says equal for an untouched store and names the table
a live row was changed in."""

from __future__ import annotations

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
