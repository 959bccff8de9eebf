"""Merges the shares of a parallel replay (SQLite files rebuilt by worker processes, each
holding the rows of its own patients) into one SQLite file.

Rows of an ordinary read-model table belong to one patient, so the shares' rows are
appended (a duplicate key fails loudly). The additive tables (`schema.ADDITIVE_TABLES`) hold
counters summed over patients: every share may hold a row with the same key, and those rows
are added, column by column, as SQL's SUM does (NULL only when every share's value is NULL).
Columns are read from the shares themselves, so tables and columns added later need
nothing here beyond their entry in `READ_MODEL_TABLES` / `ADDITIVE_TABLES`."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from projections.read_models.schema import ADDITIVE_TABLES, READ_MODEL_TABLES

Additive = Mapping[str, tuple[Sequence[str], Sequence[str]]]
SHARE = "share"


def columns(connection: sqlite3.Connection, table: str, schema: str = "main") -> list[str]:
    """The table's column names, in their order, as the SQLite file declares them."""
    return [str(row[1]) for row in connection.execute(f"PRAGMA {schema}.table_info({table})")]


def merge_statement(table: str, names: Sequence[str], source: str, additive: Additive) -> str:
    """INSERT ... SELECT of `source.table` into `main.table`: appended, or added by key."""
    listed = ", ".join(names)
    insert = f"INSERT INTO main.{table} ({listed}) SELECT {listed} FROM {source}.{table}"
    if table not in additive:
        return insert
    keys, summed = additive[table]
    unknown = set(names) - set(keys) - set(summed)
    if unknown or not keys:
        raise ValueError(
            f"additive table {table}: every column must be a key or summed"
            f" (ADDITIVE_TABLES); neither: {', '.join(sorted(unknown)) or '(no key)'}"
        )
    if not summed:
        action = "NOTHING"
    else:
        action = "UPDATE SET " + ", ".join(
            f"{c} = coalesce({c} + excluded.{c}, {c}, excluded.{c})" for c in summed
        )
    # `WHERE true` tells SQLite's parser that ON CONFLICT is the upsert, not a join's ON
    return f"{insert} WHERE true ON CONFLICT ({', '.join(keys)}) DO {action}"


def merge_shares(
    parts: Sequence[Path],
    target: Path,
    tables: Sequence[str] = READ_MODEL_TABLES,
    additive: Additive = ADDITIVE_TABLES,
) -> None:
    """Merges the tables of every part into `target` (whose tables exist already), one
    transaction per part."""
    connection = sqlite3.connect(target)
    try:
        for part in parts:
            connection.execute(f"ATTACH DATABASE ? AS {SHARE}", (str(part),))
            for table in tables:
                names = columns(connection, table, SHARE)
                connection.execute(merge_statement(table, names, SHARE, additive))
            connection.commit()
            connection.execute(f"DETACH DATABASE {SHARE}")
    finally:
        connection.close()
