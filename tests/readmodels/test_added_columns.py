"""A read-model table created before a column was added (rm_stays.asam_code) gets the
column at the next start, on both stores; on PostgreSQL the check that finds nothing
missing runs no DDL (see schema.create_tables)."""

from __future__ import annotations

import pytest

from infrastructure.sql import connect
from projections.read_models.schema import ADDED_COLUMNS, create_tables


def _columns(url: str, table: str) -> set[str]:
    db = connect(url)
    try:
        with db.transaction() as unit:
            if unit.dialect.name == "postgresql":
                rows = unit.all(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = ?",
                    (table,),
                )
                return {str(r[0]) for r in rows}
            return {str(r[1]) for r in unit.all(f"PRAGMA table_info({table})")}
    finally:
        db.close()


def _run(url: str, *statements: str) -> None:
    db = connect(url)
    try:
        with db.transaction() as unit:
            for statement in statements:
                unit.execute(statement)
            create_tables(unit)
    finally:
        db.close()


def test_a_table_created_before_gets_the_added_columns(store_url: str) -> None:
    _run(store_url)
    for table, column, _ in ADDED_COLUMNS:
        assert column in _columns(store_url, table)
        _run(store_url, f"ALTER TABLE {table} DROP COLUMN {column}")  # as an older version made it
        assert column in _columns(store_url, table)
    _run(store_url)  # idempotent


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_complete_schema_takes_no_table_lock(store_url: str) -> None:
    """Beside projectors writing the tables, a start that finds the schema complete must
    not lock them (CREATE INDEX IF NOT EXISTS would take a SHARE lock: deadlocks)."""
    _run(store_url)
    db = connect(store_url)
    try:
        with db.transaction() as unit:
            create_tables(unit)
            held = unit.one(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()"
                " AND locktype = 'relation' AND mode NOT IN ('AccessShareLock')"
            )
        assert held == (0,)
    finally:
        db.close()
