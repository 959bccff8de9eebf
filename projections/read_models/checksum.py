"""Counts and checksums of read-model tables, comparable across SQLite and PostgreSQL:
values are normalized (instants as UTC ISO text, dates ISO, flags 0/1), rows sorted, and the
SHA-256 taken over them.

SQLite stores every read-model value as text or an integer already in that normal form, so
there the engine builds each row's line (`_sqlite_lines`) and Python only sorts and hashes:
the same digest as the value-by-value path (`python_sum`, which PostgreSQL and any table
with a non-text, non-integer column use), in a fraction of the time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from infrastructure.sql import Database, Unit

_PLAIN_AFFINITY = ("TEXT", "INTEGER", "BIGINT")  # declared types whose values print as-is
_SEPARATOR = "\x1f"  # between a line's values (char(31) in SQL)


@dataclass(frozen=True)
class TableSum:
    table: str
    rows: int
    sha256: str


def _text(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def digest(table: str, lines: list[str]) -> TableSum:
    """The sum of a table whose rows' lines are `lines` (in any order; sorted here: the
    lines of several shares, each sorted already, are merged by the sort in linear time)."""
    lines.sort()
    text = "".join(line + "\n" for line in lines)
    return TableSum(table, len(lines), hashlib.sha256(text.encode()).hexdigest())


def python_sum(db: Database, table: str) -> TableSum:
    """The checksum computed value by value in Python (any engine, any column type)."""
    with db.transaction() as unit:
        rows = unit.all(f"SELECT * FROM {table}")
    return digest(table, ["\x1f".join(_text(v) for v in row) for row in rows])


def _sqlite_lines(unit: Unit, table: str) -> list[str] | None:
    """Each row's line, built by SQLite; None when a column may hold another type (a real,
    a blob), whose text SQLite writes differently from Python."""
    columns = unit.all(f"PRAGMA table_info({table})")
    if not columns or any(str(c[2]).upper() not in _PLAIN_AFFINITY for c in columns):
        return None
    names = [str(c[1]) for c in columns]
    plain = " AND ".join(f"typeof({n}) IN ('text', 'integer', 'null')" for n in names)
    if unit.one(f"SELECT 1 FROM {table} WHERE NOT ({plain}) LIMIT 1") is not None:
        return None
    line = _line([(str(c[1]), bool(c[3])) for c in columns])
    return [row[0] for row in unit.execute(f"SELECT {line} FROM {table}").fetchall()]


def _line(columns: list[tuple[str, bool]]) -> str:
    """The SQL of a row's line from its (column, NOT NULL) list: each run of NOT NULL
    columns by one `printf` (an integer or a text prints as CAST AS TEXT gives it; about
    twice as fast as a chain of `||`), each nullable column as its text or char(0) (which
    printf cannot print)."""
    parts: list[str] = []
    run: list[str] = []
    for name, not_null in [*columns, ("", False)]:  # the sentinel ends the last run
        if not_null:
            run.append(name)
            continue
        if run:
            parts.append(f"printf('{_SEPARATOR.join('%s' for _ in run)}', {', '.join(run)})")
            run = []
        if name:
            parts.append(f"coalesce(CAST({name} AS TEXT), char(0))")
    return " || char(31) || ".join(parts)


def sqlite_lines(db: Database, table: str) -> list[str] | None:
    """The rows' lines of a SQLite table, sorted (`digest` of them is its `table_sum`);
    None when SQLite cannot build them (another engine, a column that may hold a real or
    a blob): then only `table_sum` of the whole table gives its sum."""
    if db.dialect.name != "sqlite":
        return None
    with db.transaction(read_only=True) as unit:
        lines = _sqlite_lines(unit, table)
    if lines is not None:
        lines.sort()
    return lines


def table_sum(db: Database, table: str) -> TableSum:
    lines = sqlite_lines(db, table)
    return python_sum(db, table) if lines is None else digest(table, lines)
