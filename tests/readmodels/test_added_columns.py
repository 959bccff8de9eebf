"""A read-model table created before a column was added (rm_stays.asam_code) gets the
column at the next start, on both stores; on PostgreSQL the check that finds nothing
missing runs no DDL (see schema.create_tables)."""

from __future__ import annotations

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
    assert ("rm_stays", "asam_code", "TEXT") in ADDED_COLUMNS
