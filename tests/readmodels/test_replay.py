"""Replay: the read models rebuilt from the log alone equal the live ones, table by table;
a live row changed behind the projector's back is reported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from consumers.replay import compare, live_position, rebuild_into, tables_for
from devtools.demo.cohort import generate_cohort
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models.schema import CARE_TABLES, READ_MODEL_TABLES
from tests.readmodels.support import follow


def test_replay_equals_live_then_spots_a_changed_row(
    make_app: Callable[..., JourneyApplication], store_url: str, tmp_path: Path
) -> None:
    app = make_app()
    commands = [parse_command(c) for c in generate_cohort(25, seed=5, until=date(2026, 5, 1))]
    app.handle_many(commands, atomic=True, now=datetime(2026, 5, 2, tzinfo=UTC))
    live = connect(store_url)
    follow(app, store_url)
    scratch = connect(f"sqlite:///{tmp_path}/replay.db")
    seen: list[int] = []
    stop = live_position(live, app)
    assert rebuild_into(app, scratch, stop, lambda done, total, s: seen.append(done)) == stop
    assert seen[-1] == stop
    results = compare(live, scratch, READ_MODEL_TABLES)
    assert all(r.equal for r in results), [(r.live, r.rebuilt) for r in results if not r.equal]
    assert {r.live.table for r in results} == set(READ_MODEL_TABLES)
    with live.transaction() as unit:
        unit.execute("UPDATE rm_stays SET days = days + 1 WHERE days > 3")
    (stays,) = compare(live, scratch, tables_for("stays"))
    assert not stays.equal and stays.live.rows == stays.rebuilt.rows


def test_parallel_replay_equals_a_single_pass(
    make_app: Callable[..., JourneyApplication], store_url: str, tmp_path: Path
) -> None:
    from services.replay_parallel import rebuild_parallel

    app = make_app()
    commands = [parse_command(c) for c in generate_cohort(20, seed=8, until=date(2026, 5, 1))]
    app.handle_many(commands, atomic=True, now=datetime(2026, 5, 2, tzinfo=UTC))
    stop = app.recorder.max_notification_id() or 0
    single = connect(f"sqlite:///{tmp_path}/single.db")
    assert rebuild_into(app, single, stop) == stop
    assert rebuild_parallel(store_url, stop, tmp_path / "spread.db", workers=2) == stop
    spread = connect(f"sqlite:///{tmp_path}/spread.db")
    results = compare(single, spread, READ_MODEL_TABLES)
    assert all(r.equal for r in results), [r.live.table for r in results if not r.equal]
    # the demo cohort has no care events yet (the write side's commands come in wp-write)
    assert all(r.live.rows > 0 for r in results if r.live.table not in CARE_TABLES)
