"""Bulk appends of already decided events to the log, with their anchors and snapshots.

A session appends batches of stored rows (patient, version, topic, state) at the log's head,
in the order given: the next notification positions, anchors continuing the running hash
(`audit.anchors.anchor_rows`) and the patients' snapshots, all in the transaction of the
batch. An atomic session is one transaction for the whole load (`abort()` rolls it all
back); otherwise each batch commits on its own. PostgreSQL streams the rows with COPY
(`infrastructure.bulk_postgres`); SQLite inserts them with the anchored recorder's executemany."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol

from audit.anchors import Row
from infrastructure.anchored_sqlite import AnchoredSQLiteApplicationRecorder
from infrastructure.keystore import KeyRow
from infrastructure.patient_keys import insert_keys
from journey.application import JourneyApplication


class Writer(Protocol):
    """One store's way to open a locked transaction at the log's head and append to it."""

    def transaction(self) -> AbstractContextManager[Any]:
        """A transaction (its cursor) that commits on exit and rolls back on an error."""
        ...

    def append(
        self, cursor: Any, events: Sequence[Row], snapshots: Sequence[Row], keys: Sequence[KeyRow]
    ) -> None: ...


class _Abort(Exception):
    """Raised inside an atomic session's transaction to roll it back."""


@dataclass
class BulkSession:
    """Appends batches; `head` is the log's last position when the session started."""

    head: int | None
    _append: Callable[[Sequence[Row], Sequence[Row], Sequence[KeyRow]], None]
    aborted: bool = False

    def append(
        self, events: Sequence[Row], snapshots: Sequence[Row] = (), keys: Sequence[KeyRow] = ()
    ) -> None:
        """Appends rows; `keys` are the wrapped data keys of the new patients among them."""
        if self.aborted:
            raise RuntimeError("the bulk session was aborted: nothing more is stored")
        if events or snapshots:
            self._append(events, snapshots, keys)

    def abort(self) -> None:
        """Nothing of an atomic session is stored; batches already committed stay."""
        self.aborted = True


@contextmanager
def bulk_session(app: JourneyApplication, *, atomic: bool) -> Iterator[BulkSession]:
    """A session on the application's store (its anchored recorder)."""
    writer = _writer(app)
    if not atomic:

        def commit_each(
            events: Sequence[Row], snapshots: Sequence[Row], keys: Sequence[KeyRow]
        ) -> None:
            with writer.transaction() as cursor:
                writer.append(cursor, events, snapshots, keys)

        yield BulkSession(app.recorder.max_notification_id(), commit_each)
        return
    with suppress(_Abort), writer.transaction() as cursor:
        session = BulkSession(
            app.recorder.max_notification_id(),
            lambda events, snapshots, keys: writer.append(cursor, events, snapshots, keys),
        )
        yield session
        if session.aborted:
            raise _Abort


def _writer(app: JourneyApplication) -> Writer:
    recorder: Any = app.recorder
    snapshots: Any = app.snapshots.recorder if app.snapshots is not None else None
    postgres = sys.modules.get("infrastructure.anchored_postgres")  # a PostgreSQL store's
    if postgres is not None and isinstance(recorder, postgres.AnchoredPostgresApplicationRecorder):
        from infrastructure.bulk_postgres import PostgresBulkWriter  # noqa: PLC0415 - PostgreSQL only

        return PostgresBulkWriter(recorder, snapshots)
    if isinstance(recorder, AnchoredSQLiteApplicationRecorder):
        return SQLiteBulkWriter(recorder, snapshots)
    raise TypeError(f"no bulk writer for {type(recorder).__name__}: use an anchored recorder")


class SQLiteBulkWriter:
    """SQLite: one write transaction of the recorder's datastore per batch or per load."""

    def __init__(self, recorder: AnchoredSQLiteApplicationRecorder, snapshots: Any) -> None:
        self.recorder = recorder
        self.snapshots_statement: str | None = (
            snapshots.insert_events_statement if snapshots is not None else None
        )

    def transaction(self) -> AbstractContextManager[Any]:
        return self.recorder.datastore.transaction(commit=True)

    def append(
        self, cursor: Any, events: Sequence[Row], snapshots: Sequence[Row], keys: Sequence[KeyRow]
    ) -> None:
        insert_keys(self.recorder, cursor, keys)
        self.recorder.insert_anchored(cursor, events)
        if snapshots and self.snapshots_statement is not None:
            cursor.executemany(self.snapshots_statement, snapshots)
