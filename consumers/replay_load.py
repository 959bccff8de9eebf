"""Loads read models rebuilt into a scratch SQLite file into the live store: the rm_ tables
are dropped and recreated, every read-model table's rows are copied in (then indexed) and
the log follower's position is set, all in ONE transaction (readers see the old tables
until the commit). PostgreSQL: `COPY ... FROM STDIN`, text format; SQLite: ATTACH + INSERT
SELECT.

The scratch file stores instants as UTC text `2026-03-01T00:00:00.000000+00:00`, local dates
as `YYYY-MM-DD` and flags as 0/1 (`infrastructure/sql.py`): PostgreSQL's input functions
read exactly these texts for `timestamptz`, `date` and `boolean`, so values travel as text.
Columns are read from the scratch file: tables and columns added later need nothing here."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking

from infrastructure.sql import Database, Params, Unit
from projections.read_models.positions import TRACKED
from projections.read_models.schema import READ_MODEL_TABLES, create_tables, reset_tables
from projections.read_models.view import ReadModelView

ROWS_PER_BATCH = 5_000
MASK_BITS = 62  # NULL flags per SQLite integer
# SQLite's INTEGER and TEXT affinities (https://sqlite.org/datatype3.html#affinity_name_examples)
_TEXT_OR_INTEGER = re.compile("INT|CHAR|CLOB|TEXT")
REBUILT = "rebuilt"

# (table, rows, seconds) once a table is loaded
LoadProgress = Callable[[str, int, float], None]


def load_rebuilt(
    live: Database,
    view: ReadModelView,
    scratch: Path,
    position: int,
    progress: LoadProgress | None = None,
) -> int:
    """Replaces the live rm_ tables by those of `scratch` and sets the read models' tracked
    position (`view`) to `position`; returns the number of rows loaded."""
    with closing(sqlite3.connect(f"file:{scratch}?mode=ro", uri=True)) as source:
        declared = {table: _columns(source, table) for table in READ_MODEL_TABLES}
        if live.dialect.name == "postgresql":
            with live.transaction(pipeline=False) as unit:
                load = partial(_copy, unit, source, declared)
                loaded = _load(unit, view, position, progress, load)
                analyze(unit, READ_MODEL_TABLES)
                return loaded
    with live.transaction() as unit:
        # SQLite resolves an unqualified name in main, then in attached files: the rm_
        # tables must exist in main before `reset_tables` drops them by name
        create_tables(unit)
    with live.attached(scratch, REBUILT), live.transaction() as unit:
        return _load(unit, view, position, progress, partial(_insert_select, unit, declared))


def _load(
    unit: Unit,
    view: ReadModelView,
    position: int,
    progress: LoadProgress | None,
    load_table: Callable[[str], int],
) -> int:
    reset_tables(unit)  # the tracked position too
    drop_secondary_indexes(unit, READ_MODEL_TABLES)
    total = 0
    for table in READ_MODEL_TABLES:
        began = time.perf_counter()
        rows = load_table(table)
        total += rows
        if progress:
            progress(table, rows, time.perf_counter() - began)
    create_tables(unit)  # the indexes, built once over the loaded rows
    if position:
        view.record(unit, Tracking(TRACKED, position))
    return total


def analyze(unit: Unit, tables: Sequence[str]) -> None:
    """PostgreSQL: planner statistics for tables just recreated and loaded, committed with
    them. Without them the planner guesses until autovacuum's next pass: at 10M events an
    analytics query took 1.2 s instead of 5 ms (`benchmarks/bench_analytics.py`)."""
    for table in tables:
        unit.execute(f"ANALYZE {table}")


def drop_secondary_indexes(unit: Unit, tables: Sequence[str]) -> None:
    """Drops the indexes of `tables` other than their keys (`create_tables` recreates
    them): filling a table, then indexing it, is several times faster than both at once."""
    if unit.dialect.name == "postgresql":
        found = unit.all(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = ANY(?) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            (list(tables),),
        )
    else:
        found = unit.all(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({', '.join('?' * len(tables))})",
            tables,
        )
    for (name,) in found:
        unit.execute(f"DROP INDEX {name}")


Declared = dict[str, tuple[list[str], list[str]]]  # table: column names, declared types


def _columns(source: sqlite3.Connection, table: str) -> tuple[list[str], list[str]]:
    """The table's column names and declared types."""
    declared = source.execute(f"PRAGMA table_info({table})").fetchall()
    return [str(row[1]) for row in declared], [str(row[2]).upper() for row in declared]


def _insert_select(unit: Unit, declared: Declared, table: str) -> int:
    listed = ", ".join(declared[table][0])
    statement = f"INSERT INTO main.{table} ({listed}) SELECT {listed} FROM {REBUILT}.{table}"
    return unit.execute(statement).rowcount


def _copy(unit: Unit, source: sqlite3.Connection, declared: Declared, table: str) -> int:
    names, types = declared[table]
    as_text = all(_TEXT_OR_INTEGER.search(declared) for declared in types)
    batches = copy_batches(source, table, names) if as_text else _rows(source, table, names)
    return unit.copy_in(table, names, batches)


def _rows(
    source: sqlite3.Connection, table: str, names: Sequence[str]
) -> Iterator[Sequence[Params]]:
    """Rows for psycopg to escape: for REAL values (SQLite's text of a REAL rounds it to 15
    digits) and anything else not declared TEXT or INTEGER."""
    cursor = source.execute(f"SELECT {', '.join(names)} FROM {table}")
    while batch := cursor.fetchmany(ROWS_PER_BATCH):
        yield batch


def copy_batches(
    source: sqlite3.Connection, table: str, names: Sequence[str]
) -> Iterator[str | Sequence[Params]]:
    r"""The table's rows as COPY text, made by SQLite and joined by C code: each value as
    text, NULL as `\N`, after bit masks of the row's NULL columns. A batch whose tabs,
    newlines and backslashes are not exactly the format's own (a value holds one of them, or
    a CR) goes as rows instead, for psycopg to escape."""
    masks = [
        " | ".join(f"(({c} IS NULL) << {bit})" for bit, c in enumerate(names[at : at + MASK_BITS]))
        for at in range(0, len(names), MASK_BITS)
    ]
    texts = ", ".join(f"coalesce(CAST({c} AS TEXT), '\\N')" for c in names)
    cursor = source.execute(f"SELECT {', '.join(masks)}, {texts} FROM {table}")
    k = len(masks)
    while batch := cursor.fetchmany(ROWS_PER_BATCH):
        text = "".join(["\t".join(row[k:]) + "\n" for row in batch])
        nulls = sum(mask.bit_count() for row in batch for mask in row[:k])
        if _plain(text, len(batch), len(names), nulls):
            yield text
        else:
            yield [_values(row, k) for row in batch]


def _plain(text: str, rows: int, width: int, nulls: int) -> bool:
    """True when the only tabs, newlines and backslashes are the format's own."""
    return (
        text.count("\t") == rows * (width - 1)
        and text.count("\n") == rows
        and text.count("\\") == nulls
        and "\r" not in text
    )


def _values(row: Sequence[Any], masks: int) -> tuple[Any, ...]:
    """A row of `copy_batches`' query as values: text, or None where the mask says NULL."""
    null = sum(mask << (MASK_BITS * n) for n, mask in enumerate(row[:masks]))
    return tuple(None if null >> i & 1 else value for i, value in enumerate(row[masks:]))
