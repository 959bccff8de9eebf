"""The SQLite checksum built by the engine equals the value-by-value one, on every table of
read models rebuilt from a demo cohort, and falls back to it for a value SQLite would print
differently (a real)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from consumers.replay import rebuild_into
from devtools.demo.cohort import generate_cohort
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models.checksum import python_sum, table_sum
from projections.read_models.schema import CARE_TABLES, POSITION_TABLES, READ_MODEL_TABLES


def test_engine_checksum_equals_the_value_by_value_one(
    app: JourneyApplication, tmp_path: Path
) -> None:
    commands = [parse_command(c) for c in generate_cohort(15, seed=3, until=date(2026, 5, 1))]
    app.handle_many(commands, atomic=True, now=datetime(2026, 5, 2, tzinfo=UTC))
    scratch = connect(f"sqlite:///{tmp_path}/rebuilt.db")
    rebuild_into(app, scratch, app.recorder.max_notification_id() or 0)
    for table in (*READ_MODEL_TABLES, *POSITION_TABLES):
        assert table_sum(scratch, table) == python_sum(scratch, table), table
    assert all(table_sum(scratch, t).rows for t in READ_MODEL_TABLES if t not in CARE_TABLES)


def test_a_real_value_falls_back_to_python_text(tmp_path: Path) -> None:
    db = connect(f"sqlite:///{tmp_path}/odd.db")
    with db.transaction() as unit:
        unit.execute("CREATE TABLE rm_odd (k TEXT, n INTEGER)")
        unit.execute("INSERT INTO rm_odd VALUES ('a', 1), (NULL, 2), ('b', NULL)")
    plain = table_sum(db, "rm_odd")
    assert plain == python_sum(db, "rm_odd") and plain.rows == 3
    with db.transaction() as unit:
        unit.execute("INSERT INTO rm_odd VALUES ('c', 1e20)")  # SQLite prints 1.0e+20
    assert table_sum(db, "rm_odd") == python_sum(db, "rm_odd")
