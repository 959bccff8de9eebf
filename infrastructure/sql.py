"""A tiny SQL adapter for the read models and the access trail: one connection (not
eventsourcing's) to the store of `JOURNEY_DATABASE_URL`, SQLite or PostgreSQL, behind the
same small interface.

Statements are written once with `?` placeholders and `INSERT ... ON CONFLICT` upserts
(both engines speak that dialect). Instants are UTC: `timestamptz` in PostgreSQL and ISO
text with microseconds (`2026-03-01T00:00:00.000000+00:00`) in SQLite, so text order is
time order; local dates are `date` / `YYYY-MM-DD` text; flags are `boolean` / 0-1."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from config.storage import persistence_env
from infrastructure.files import create_private_file

Params = Sequence[Any]
Row = tuple[Any, ...]
SQLITE_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%f+00:00"


class _Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


@dataclass(frozen=True)
class Dialect:
    """What differs between the engines: placeholder, column types, value conversions."""

    name: str  # "sqlite" or "postgresql"
    timestamp: str
    day: str
    flag: str

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.name == "postgresql" else statement

    def value(self, value: Any) -> Any:
        """A Python value as this engine stores it."""
        if self.name == "postgresql":
            return value
        if isinstance(value, datetime):
            # == strftime(SQLITE_TIMESTAMP), several times faster
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(value, date):
            return value.isoformat()
        return value

    def row(self, params: Params) -> Sequence[Any]:
        """`value` of every parameter; only instants and dates need converting."""
        if self.name == "postgresql":
            return params
        return [self.value(v) if type(v) in _CONVERTED else v for v in params]

    def instant(self, stored: Any) -> datetime | None:
        """A stored instant as an aware datetime (UTC)."""
        if stored is None or isinstance(stored, datetime):
            return stored
        return datetime.fromisoformat(stored)

    def day_value(self, stored: Any) -> date | None:
        """A stored local date as a date."""
        if stored is None or isinstance(stored, date):
            return stored
        return date.fromisoformat(stored)


def day_of(dialect: Dialect, stored: Any) -> date:
    """A stored, non-null local date as a date."""
    value = dialect.day_value(stored)
    assert value is not None
    return value


def instant_of(dialect: Dialect, stored: Any) -> datetime:
    """A stored, non-null instant as an aware datetime (UTC)."""
    value = dialect.instant(stored)
    assert value is not None
    return value


_CONVERTED = frozenset({datetime, date})
SQLITE = Dialect("sqlite", timestamp="TEXT", day="TEXT", flag="INTEGER")
POSTGRESQL = Dialect("postgresql", timestamp="TIMESTAMPTZ", day="DATE", flag="BOOLEAN")


MULTI_ROWS = 500


def _values_group(statement: str) -> tuple[str, str, str]:
    """(text up to VALUES, the `(%s, ...)` group, the rest); no group when the statement is
    not a single-row INSERT ... VALUES."""
    marker = " VALUES ("
    at = statement.find(marker)
    if not statement.lstrip().upper().startswith("INSERT") or at < 0:
        return statement, "", ""
    start = at + len(marker) - 1
    end = statement.index(")", start) + 1
    group = statement[start:end]
    if "(" in group[1:] or "?" in statement[:start] + statement[end:]:
        return statement, "", ""
    return statement[: at + len(marker) - 1], group, statement[end:]


def _numbered(width: int, offset: int) -> str:
    return "(" + ", ".join(f"${offset + i}" for i in range(1, width + 1)) + ")"


class Unit:
    """The unit of work handlers receive: statements inside one open transaction."""

    def __init__(self, dialect: Dialect, connection: Any) -> None:
        self.dialect = dialect
        self._connection = connection

    @property
    def connection(self) -> Any:
        """The driver's connection (for units of work built on this one's transaction)."""
        return self._connection

    def execute(self, statement: str, params: Params = ()) -> _Cursor:
        values = self.dialect.row(params)
        cursor: _Cursor = self._connection.execute(self.dialect.sql(statement), values)
        return cursor

    def one(self, statement: str, params: Params = ()) -> Row | None:
        row: Row | None = self.execute(statement, params).fetchone()
        return row

    def executemany(self, statement: str, rows: Sequence[Params]) -> None:
        """`statement` once per row. On PostgreSQL an `INSERT ... VALUES (?, ...)` goes out
        as multi-row inserts of up to MULTI_ROWS rows: one round trip each, not one per row
        (keys must then be distinct within the call when it ends in ON CONFLICT DO UPDATE)."""
        values = [self.dialect.row(row) for row in rows]
        if self.dialect.name != "postgresql":
            self._connection.executemany(statement, values)
            return
        head, group, tail = _values_group(statement)
        if not group:
            with self._connection.cursor() as cursor:
                cursor.executemany(self.dialect.sql(statement), values)
            return
        width = group.count("?")
        import psycopg  # noqa: PLC0415 - PostgreSQL only: SQLite commands start without it

        with psycopg.RawCursor(self._connection) as cursor:  # $n placeholders: no parsing
            for start in range(0, len(values), MULTI_ROWS):
                chunk = values[start : start + MULTI_ROWS]
                groups = ", ".join(_numbered(width, i * width) for i in range(len(chunk)))
                cursor.execute(f"{head}{groups}{tail}", [v for row in chunk for v in row])

    def all(self, statement: str, params: Params = ()) -> list[Row]:
        return [tuple(r) for r in self.execute(statement, params).fetchall()]

    def copy_in(
        self, table: str, columns: Sequence[str], batches: Iterable[str | Sequence[Params]]
    ) -> int:
        """PostgreSQL `COPY table (columns) FROM STDIN` (text format), in a transaction opened
        with `pipeline=False`. A batch is either ready COPY text or rows for psycopg to
        escape; returns the number of rows copied."""
        assert self.dialect.name == "postgresql", "COPY is PostgreSQL's"
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self._connection.cursor() as cursor:
            with cursor.copy(statement) as copy:
                for batch in batches:
                    if isinstance(batch, str):
                        copy.write(batch)
                    else:
                        for row in batch:
                            copy.write_row(row)
            return int(cursor.rowcount)


class Database:
    """One connection to the read-model store; `transaction()` yields a `Unit`."""

    def __init__(self, dialect: Dialect, connection: Any) -> None:
        self.dialect = dialect
        self._connection = connection

    @contextmanager
    def transaction(self, *, pipeline: bool = True, read_only: bool = False) -> Iterator[Unit]:
        """Commits when the block ends normally, rolls back when it raises. PostgreSQL runs
        it in pipeline mode (writes go out without waiting for each reply) unless
        `pipeline=False`, which `Unit.copy_in` needs. `read_only`: the engine refuses any
        write in it (PostgreSQL `READ ONLY`; SQLite takes no write lock and its connection
        must be opened with `connect(..., read_only=True)`)."""
        if self.dialect.name == "postgresql":
            piped = self._connection.pipeline() if pipeline else nullcontext()
            with self._connection.transaction(), piped:
                if read_only:
                    self._connection.execute("SET TRANSACTION READ ONLY")
                yield Unit(self.dialect, self._connection)
            return
        # a writer takes the write lock up front; a reader's snapshot starts at its first read
        self._connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")
        try:
            yield Unit(self.dialect, self._connection)
        except BaseException:
            self._connection.execute("ROLLBACK")
            raise
        self._connection.execute("COMMIT")

    @contextmanager
    def attached(self, path: Path, alias: str) -> Iterator[None]:
        """SQLite: the database file `path` readable as `alias.table` in this connection's
        transactions (ATTACH is not allowed inside one)."""
        assert self.dialect.name == "sqlite", "ATTACH is SQLite's"
        self._connection.execute("ATTACH DATABASE ? AS " + alias, (str(path),))
        try:
            yield
        finally:
            self._connection.execute("DETACH DATABASE " + alias)

    def pragmas(self, *statements: str) -> None:
        """SQLite: PRAGMA statements, between transactions (some are refused inside one)."""
        assert self.dialect.name == "sqlite", "PRAGMA is SQLite's"
        for statement in statements:
            self._connection.execute(statement)

    def close(self) -> None:
        self._connection.close()


def connect(database_url: str, *, read_only: bool = False) -> Database:
    """A new connection to the store of `database_url` (autocommit between transactions);
    `read_only` (SQLite: `PRAGMA query_only`, the file must exist): no statement may write."""
    env = persistence_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        if not read_only:
            create_private_file(env["SQLITE_DBNAME"])
        connection = sqlite3.connect(
            env["SQLITE_DBNAME"], timeout=30, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA query_only = ON" if read_only else "PRAGMA journal_mode=WAL")
        return Database(SQLITE, connection)
    import psycopg  # noqa: PLC0415 - PostgreSQL only: SQLite commands start without it

    url = urlsplit(database_url)._replace(scheme="postgresql").geturl()
    return Database(POSTGRESQL, psycopg.connect(url, autocommit=True))
