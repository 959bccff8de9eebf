"""The read models as a materialised view in eventsourcing's sense: a `TrackingRecorder`
(the library's SQLite or PostgreSQL one, so `max_tracking_id`, `has_tracking_id` and `wait`
are the library's) whose position is written by the library's own tracking statement in
the SAME transaction as the rows the batch changed (`record`).

The rows are written through `infrastructure.sql` (one connection, pipelined on
PostgreSQL); the position goes into the library's tracking table: `tracking` on SQLite
(shared with the relay, under another name), `readmodels_tracking` on PostgreSQL. The
tracking name is the followed application's name (`positions.TRACKED`), as the library's
`ProjectionRunner` writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    Tracking,
    TrackingRecorder,
)
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from config.storage import persistence_env
from infrastructure.schema_lock import schema_lock
from infrastructure.sql import Unit

if TYPE_CHECKING:  # psycopg is imported with a PostgreSQL store, not by every command
    from projections.read_models.view_postgres import PostgresReadModelView

VIEW_NAME = "ReadModels"  # the projection's name: PostgreSQL table readmodels_tracking


class _Tracks(Protocol):
    def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None: ...


def record_tracking(recorder: _Tracks, unit: Unit, tracking: Tracking) -> None:
    """The library's tracking insert, on the unit's connection (its open transaction).
    Raises the library's IntegrityError when the position would not move forward (another
    worker applied the batch first): the caller's transaction then rolls back."""
    cursor = unit.connection.cursor()
    try:
        recorder._insert_tracking(cursor, tracking)
    finally:
        cursor.close()


class SQLiteReadModelView(SQLiteTrackingRecorder):
    def record(self, unit: Unit, tracking: Tracking) -> None:
        record_tracking(self, unit, tracking)


ReadModelView: TypeAlias = "SQLiteReadModelView | PostgresReadModelView"


def view_env(database_url: str) -> dict[str, str]:
    """The library's environment for the read models' tracking recorder."""
    return {**persistence_env(database_url), "CREATE_TABLE": "y"}


def open_view(database_url: str) -> tuple[ReadModelView, InfrastructureFactory[Any]]:
    """The view of the store of `database_url` (its tracking table created when missing),
    with the factory to close when done."""
    factory: InfrastructureFactory[Any] = InfrastructureFactory.construct(
        Environment(VIEW_NAME, view_env(database_url))
    )
    kind: type[TrackingRecorder] = SQLiteReadModelView
    if factory.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        from projections.read_models.view_postgres import PostgresReadModelView  # noqa: PLC0415

        kind = PostgresReadModelView
    with schema_lock(getattr(factory, "datastore", None)):  # projectors starting together
        try:
            view = factory.tracking_recorder(kind)
        except IntegrityError:
            # SQLite: another process (a relay, the API, a projector) created the tracking
            # table at the same moment and recorded its migration row first; it exists now
            view = factory.tracking_recorder(kind)
    assert isinstance(view, kind)
    return cast("ReadModelView", view), factory
