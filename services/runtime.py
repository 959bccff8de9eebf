"""The composition root: one `Runtime` per process (a CLI command, the API, a worker) builds
what the edges and the services use from the settings, and closes all of it on exit.

Every part is opened on first use, so a command opens only what it needs: the application
(`services.bootstrap.build_application`: the event store, its keys and recorders), the
access trail (its own connection: a read is recorded even when the store's transaction
fails), one connection for the read models, and SQLite scratch files (replay). `close()`
(the context manager's exit) closes them in the reverse order of opening, also after an
error, and is idempotent. An application handed in (`Runtime(settings, application=app)`)
is borrowed: its owner closes it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from audit.access_log import AccessLog
from config.settings import Settings, get_settings
from infrastructure.sql import Database, connect
from journey.application import JourneyApplication
from services.bootstrap import build_application

if TYPE_CHECKING:  # imported on first use: the read side is not every command's
    from consumers.read_model_service import ReadModelReader

SCRATCH_PRAGMAS = (
    # a scratch file is rebuilt from the log when lost: no fsync, a large page cache
    "PRAGMA synchronous = OFF",
    "PRAGMA cache_size = -65536",  # KiB: 64 MiB at most, as the tables grow
    "PRAGMA temp_store = MEMORY",
)


def open_scratch(path: Path) -> Database:
    """A SQLite scratch database at `path` (owner-only) that the caller closes: written
    fast, not durably (a replay's or a rebuild's copy, made again from the log if lost)."""
    db = connect(f"sqlite:///{path}")
    db.pragmas(*SCRATCH_PRAGMAS)
    return db


class Runtime:
    """Settings and the resources built from them, closed together."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        application: JourneyApplication | None = None,
        create_tables: bool = True,
    ) -> None:
        self.settings = settings or get_settings()
        self._create_tables = create_tables
        self._application = application
        self._owns_application = application is None
        self._access_log: AccessLog | None = None
        self._database: Database | None = None
        self._read_models: ReadModelReader | None = None
        self._closers: list[Callable[[], None]] = []

    @property
    def application(self) -> JourneyApplication:
        """The application on the configured store (built on first use)."""
        if self._application is None:
            application = build_application(self.settings, create_tables=self._create_tables)
            self._closers.append(application.close)
            self._application = application
        return self._application

    @property
    def access_log(self) -> AccessLog:
        """The access trail of the store, on a connection of its own."""
        if self._access_log is None:
            db = self.connect()
            try:
                self._access_log = AccessLog(db, self.settings.cipher_key)
            except BaseException:
                db.close()
                raise
            self._closers.append(db.close)
        return self._access_log

    @property
    def database(self) -> Database:
        """One connection to the store for the read models (rm_ tables)."""
        if self._database is None:
            self._database = self.connect()
            self._closers.append(self._database.close)
        return self._database

    @property
    def read_models(self) -> ReadModelReader:
        """The read-only reader of the read models (the API's analytics), its schema
        prepared once when it is made."""
        if self._read_models is None:
            from consumers.read_model_service import ReadModelReader  # noqa: PLC0415

            self._read_models = ReadModelReader(self.settings.database_url)
            self._closers.append(self._read_models.close)
        return self._read_models

    def connect(self) -> Database:
        """A new connection to the store that the caller closes (e.g. one per request)."""
        return connect(self.settings.database_url)

    def scratch(self, path: Path) -> Database:
        """A SQLite scratch database at `path` (owner-only), closed with the runtime."""
        db = open_scratch(path)
        self._closers.append(db.close)
        return db

    def close(self) -> None:
        """Closes what was opened, last first; every closer runs even if one fails."""
        closers, self._closers = self._closers, []
        self._access_log = self._database = None
        self._read_models = None
        if self._owns_application:
            self._application = None
        error: BaseException | None = None
        for close in reversed(closers):
            try:
                close()
            except BaseException as failed:  # re-raised below, once the others are closed
                error = error or failed
        if error is not None:
            raise error

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
