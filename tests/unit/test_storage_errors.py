"""Storage exceptions, as the real engines raise them, recognized once with their cause;
anything else is left alone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import OperationalError as WrappedOperationalError

from infrastructure.storage_errors import storage_unavailable


def _raised(action: object) -> BaseException:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any exception, then classified
        action()  # type: ignore[operator]
    return caught.value


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x TEXT)")
    connection.commit()
    connection.close()
    return path


def test_sqlite_full_read_only_and_cannot_open(tmp_path: Path) -> None:
    path = _store(tmp_path)
    full = sqlite3.connect(path)
    full.execute("PRAGMA max_page_count = 1")  # SQLite keeps it at the current size
    error = _raised(lambda: full.executemany("INSERT INTO t VALUES (?)", [("x" * 900,)] * 50))
    found = storage_unavailable(error)
    assert found is not None and found.rule == "disk_full"
    assert found.message == "disk full: the store cannot grow (database or disk is full)"
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    error = _raised(lambda: read_only.execute("INSERT INTO t VALUES ('x')"))
    found = storage_unavailable(error)
    assert found is not None and found.message.startswith("store is read-only")
    missing = tmp_path / "no-such-dir" / "j.db"
    error = _raised(lambda: sqlite3.connect(missing))
    found = storage_unavailable(error, f"sqlite:///{missing}")
    assert found is not None
    assert found.message == f"cannot open database file {missing}: no such directory"
    hidden = storage_unavailable(error, f"sqlite:///{missing}", locate=False)
    assert hidden is not None and str(missing) not in hidden.message


def test_eventsourcing_wrappers_are_seen_through(tmp_path: Path) -> None:
    read_only = sqlite3.connect(f"file:{_store(tmp_path)}?mode=ro", uri=True)
    try:
        read_only.execute("INSERT INTO t VALUES ('x')")
    except sqlite3.OperationalError as error:
        wrapped = WrappedOperationalError(error)
        wrapped.__cause__ = error
    found = storage_unavailable(wrapped)
    assert found is not None and found.rule == "read_only"


def test_other_failures_are_not_storage_failures(tmp_path: Path) -> None:
    connection = sqlite3.connect(_store(tmp_path))
    assert storage_unavailable(_raised(lambda: connection.execute("SELECT nope FROM t"))) is None
    assert storage_unavailable(ValueError("bug")) is None
    assert storage_unavailable(OSError(2, "No such file or directory")) is None
    assert storage_unavailable(OSError(28, "No space left on device")) is not None


@pytest.mark.postgres
def test_postgres_read_only_transaction(fresh_postgres_url: str) -> None:
    with psycopg.connect(fresh_postgres_url) as connection:
        connection.execute("SET TRANSACTION READ ONLY")
        error = _raised(lambda: connection.execute("CREATE TABLE t (x int)"))
    found = storage_unavailable(error, fresh_postgres_url)
    assert found is not None and found.rule == "read_only"
    assert found.message.startswith("store is read-only: PostgreSQL refuses writes")
    assert storage_unavailable(psycopg.errors.DiskFull("could not extend file")) is not None
