"""Storage failures (SQLite, PostgreSQL, eventsourcing's wrappers of them, the file system)
recognized as a `StorageUnavailable` that names the cause. The edges call
`storage_unavailable` once (`interfaces/cli_errors.py`, `interfaces/api/problems.py`); any
other exception is left alone (a bug stays a bug)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from eventsourcing.persistence import PersistenceError

from config.storage import persistence_env
from journey.errors import StorageUnavailable

# psycopg (about 0.2 s of CPU to import) is imported by the PostgreSQL store alone: before
# that, no PostgreSQL error can arise, and a SQLite command (`journey import`) never pays it.
_ALWAYS: tuple[type[Exception], ...] = (sqlite3.Error, PersistenceError, OSError)


def storage_exceptions(*, postgres: bool = False) -> tuple[type[Exception], ...]:
    """The exception classes a storage failure can arrive as (the edges catch these):
    psycopg's once it is imported (`postgres`: import it now, for handlers registered
    before the store is opened)."""
    if postgres:
        import psycopg_pool  # noqa: F401, PLC0415 - imports psycopg too
    driver, pool = _postgres()
    loaded = (driver.Error if driver else None, pool.PoolTimeout if pool else None)
    return (*_ALWAYS, *(kind for kind in loaded if kind is not None))


def _postgres() -> tuple[ModuleType | None, ModuleType | None]:
    return sys.modules.get("psycopg"), sys.modules.get("psycopg_pool")


# SQLite primary result codes (https://sqlite.org/rescode.html)
_SQLITE = {
    13: ("disk_full", "disk full: the store cannot grow ({error})"),  # SQLITE_FULL
    8: ("read_only", "store is read-only: {error}"),  # SQLITE_READONLY
    10: ("io_error", "disk I/O error on the store ({error})"),  # SQLITE_IOERR
    5: ("busy", "store is locked by another process ({error})"),  # SQLITE_BUSY
    6: ("busy", "store is locked by another process ({error})"),  # SQLITE_LOCKED
    3: ("permission_denied", "permission denied on the store ({error})"),  # SQLITE_PERM
    26: ("cannot_open", "cannot open database file{path}: not a database ({error})"),
}
_SQLITE_CANTOPEN = 14
# PostgreSQL SQLSTATE (class or code) -> rule, message
_POSTGRES = {
    "53100": ("disk_full", "disk full: PostgreSQL cannot extend the store ({error})"),
    "53": ("insufficient_resources", "PostgreSQL is out of resources ({error})"),
    "25006": ("read_only", "store is read-only: PostgreSQL refuses writes ({error})"),
    "42501": ("permission_denied", "permission denied on the store ({error})"),
    "08": ("cannot_connect", "cannot connect to PostgreSQL{path} ({error})"),
    "57P": ("cannot_connect", "PostgreSQL is shutting down or starting up ({error})"),
    "55P03": ("busy", "store is locked by another session ({error})"),
}
_OS = {
    errno.ENOSPC: ("disk_full", "disk full: {error}"),
    errno.EDQUOT: ("disk_full", "disk full (quota exceeded): {error}"),
    errno.EROFS: ("read_only", "store is read-only (read-only file system): {error}"),
}


def storage_unavailable(
    error: BaseException, database_url: str | None = None, *, locate: bool = True
) -> StorageUnavailable | None:
    """The storage failure `error` (or one it was raised from) stands for, or None.
    `database_url` lets the message say why a file cannot be opened, and, with `locate`,
    name the store (the CLI; not to HTTP clients)."""
    for cause in _chain(error):
        found = _classify(cause, database_url, locate)
        if found is not None:
            return found
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _classify(error: BaseException, url: str | None, locate: bool) -> StorageUnavailable | None:
    text = _first_line(error)
    where = _where(url) if locate else ""
    if isinstance(error, sqlite3.Error):
        code = (getattr(error, "sqlite_errorcode", None) or _sqlite_code(text)) & 0xFF
        if code == _SQLITE_CANTOPEN:
            return StorageUnavailable("cannot_open", _cannot_open(url, locate))
        if code in _SQLITE:
            rule, message = _SQLITE[code]
            return StorageUnavailable(rule, message.format(error=text, path=where))
        return None
    driver, pool = _postgres()
    if (pool is not None and isinstance(error, pool.PoolTimeout)) or (
        driver is not None and isinstance(error, driver.OperationalError) and error.sqlstate is None
    ):
        return StorageUnavailable("cannot_connect", f"cannot connect to PostgreSQL{where} ({text})")
    if driver is not None and isinstance(error, driver.Error) and error.sqlstate:
        for prefix in (error.sqlstate, error.sqlstate[:3], error.sqlstate[:2]):
            if prefix in _POSTGRES:
                rule, message = _POSTGRES[prefix]
                return StorageUnavailable(rule, message.format(error=text, path=where))
        return None
    if isinstance(error, OSError) and error.errno in _OS:
        rule, message = _OS[error.errno]
        return StorageUnavailable(rule, message.format(error=text))
    return None


def _sqlite_code(text: str) -> int:
    """The result code from the message, for errors raised without one (eventsourcing's
    connection failures keep only the text)."""
    known = {
        "database or disk is full": 13,
        "attempt to write a readonly database": 8,
        "unable to open database file": _SQLITE_CANTOPEN,
        "database is locked": 5,
        "disk I/O error": 10,
    }
    return next((code for phrase, code in known.items() if phrase in text), 0)


def _where(url: str | None) -> str:
    """` <path>` (SQLite) or ` at host:port/db` (PostgreSQL), without credentials."""
    if url is None:
        return ""
    env = persistence_env(url)
    if "SQLITE_DBNAME" in env:
        return f" {env['SQLITE_DBNAME']}"
    return f" at {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"


def _cannot_open(url: str | None, locate: bool) -> str:
    """Why SQLite could not open the file, as far as the file system tells."""
    env = persistence_env(url) if url else {}
    name = env.get("SQLITE_DBNAME")
    if name is None:
        return "cannot open database file: unable to open database file"
    path = Path(name)
    shown = f" {path}" if locate else ""
    if path.exists():
        wanted = os.R_OK | os.W_OK
        reason = "permission denied" if not os.access(path, wanted) else "unable to open it"
    elif not path.parent.is_dir():
        reason = "no such directory"
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        reason = "permission denied (its directory is not writable)"
    else:
        reason = "unable to open it"
    return f"cannot open database file{shown}: {reason}"
