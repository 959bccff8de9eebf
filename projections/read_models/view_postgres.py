"""The read models' view on PostgreSQL (`view.open_view` imports it for a PostgreSQL store
only: psycopg costs a SQLite command about 0.2 s of CPU to import)."""

from __future__ import annotations

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder

from infrastructure.sql import Unit
from projections.read_models.view import record_tracking


class PostgresReadModelView(PostgresTrackingRecorder):
    def record(self, unit: Unit, tracking: Tracking) -> None:
        record_tracking(self, unit, tracking)
