"""eventsourcing's own recorder test cases (`eventsourcing.tests.persistence`) against the
recorders we write, the anchored application recorders (infrastructure/anchored_sqlite.py,
infrastructure/anchored_postgres.py), and the library's recorders as our settings make them
(the snapshot store, the relay's tracking), on a real SQLite file and the real PostgreSQL.

`AggregateRecorderTestCase` runs against the snapshot recorder only: it requires
`insert_events` to return None, where `ApplicationRecorderTestCase` requires an application
recorder to return the new notification ids, so the library itself runs only the latter
against application recorders (tests/persistence_tests/test_sqlite.py and test_postgres.py
of eventsourcing 9.5).

Every case runs with text originator ids (how patients' events are stored) and again with
UUIDs (the library's default). Nothing is skipped: the timing cases (`test_performance`,
`test_concurrent_throughput`) still fail when an insert fails."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, TrackingRecorder
from eventsourcing.tests import persistence as library

from projections.read_models.view import SQLiteReadModelView
from projections.read_models.view_postgres import PostgresReadModelView
from tests.library.stores import PostgresStore, SQLiteStore, UUIDIds

# SQLite


class TestSQLiteSnapshotRecorder(SQLiteStore, library.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.snapshot_recorder()


class TestSQLiteSnapshotRecorderUUIDs(UUIDIds, TestSQLiteSnapshotRecorder):
    pass


class TestAnchoredSQLiteApplicationRecorder(
    SQLiteStore, library.ApplicationRecorderTestCase[ApplicationRecorder]
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.application_recorder()


class TestAnchoredSQLiteApplicationRecorderUUIDs(UUIDIds, TestAnchoredSQLiteApplicationRecorder):
    pass


class TestAnchoredSQLiteNonInterleaving(
    SQLiteStore, library.NonInterleavingNotificationIDsBaseCase
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.application_recorder()


class TestSQLiteTrackingRecorder(SQLiteStore, library.TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.tracking_recorder()


class TestSQLiteReadModelView(SQLiteStore, library.TrackingRecorderTestCase):
    """The read models' position recorder (projections/read_models/view.py)."""

    def create_recorder(self) -> TrackingRecorder:
        return self.tracking_recorder(SQLiteReadModelView)


# PostgreSQL


@pytest.mark.postgres
class TestPostgresSnapshotRecorder(PostgresStore, library.AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return self.snapshot_recorder()


@pytest.mark.postgres
class TestPostgresSnapshotRecorderUUIDs(UUIDIds, TestPostgresSnapshotRecorder):
    pass


@pytest.mark.postgres
class TestAnchoredPostgresApplicationRecorder(
    PostgresStore, library.ApplicationRecorderTestCase[ApplicationRecorder]
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.application_recorder()

    def test_insert_subscribe(self) -> None:
        """Run by eventsourcing for its PostgreSQL recorder (SQLite has no subscriptions):
        what `ProjectionRunner` reads the log through."""
        self.optional_test_insert_subscribe()


@pytest.mark.postgres
class TestAnchoredPostgresApplicationRecorderUUIDs(
    UUIDIds, TestAnchoredPostgresApplicationRecorder
):
    pass


@pytest.mark.postgres
class TestAnchoredPostgresNonInterleaving(
    PostgresStore, library.NonInterleavingNotificationIDsBaseCase
):
    def create_recorder(self) -> ApplicationRecorder:
        return self.application_recorder()


@pytest.mark.postgres
class TestPostgresTrackingRecorder(PostgresStore, library.TrackingRecorderTestCase):
    def create_recorder(self) -> TrackingRecorder:
        return self.tracking_recorder()


@pytest.mark.postgres
class TestPostgresReadModelView(PostgresStore, library.TrackingRecorderTestCase):
    """The read models' position recorder (projections/read_models/view.py)."""

    def create_recorder(self) -> TrackingRecorder:
        return self.tracking_recorder(PostgresReadModelView)
