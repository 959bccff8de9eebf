"""PostgreSQL application recorder that writes the log's anchors with the events they cover.

The events table is locked (EXCLUSIVE) by the insert, so anchors are appended in
notification order, one writer at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from audit.anchors import Anchor, anchor_rows
from infrastructure.patient_keys import KeyRing, record_key_changes

ANCHORS_TABLE = "audit_anchors"


class AnchoredPostgresApplicationRecorder(PostgresApplicationRecorder):
    keyring: KeyRing | None = None  # per-patient keys (infrastructure.patient_keys)

    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.anchors = Identifier(self.datastore.schema), Identifier(ANCHORS_TABLE)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (notification_id bigint PRIMARY KEY,"
                " originator_id text NOT NULL, originator_version bigint NOT NULL,"
                " running_hash text NOT NULL)"
            ).format(*self.anchors)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert positions is not None
        record_key_changes(self.keyring, curs, list(stored_events))
        curs.execute(
            SQL("SELECT running_hash FROM {}.{} ORDER BY notification_id DESC LIMIT 1").format(
                *self.anchors
            )
        )
        last = curs.fetchone()
        rows = [
            (str(s.originator_id), s.originator_version, s.topic, s.state) for s in stored_events
        ]
        anchors = anchor_rows(last["running_hash"] if last else None, positions, rows)
        curs.executemany(
            SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s)").format(*self.anchors), anchors
        )
        return positions

    def select_anchors(self, start: int, limit: int) -> list[Anchor]:
        statement = SQL(
            "SELECT * FROM {}.{} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s"
        ).format(*self.anchors)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (start, limit))
            return [_anchor(r) for r in curs.fetchall()]

    def count_anchors(self, up_to: int) -> int:
        """How many anchors (events of the log) are at or before position `up_to`."""
        statement = SQL("SELECT count(*) AS n FROM {}.{} WHERE notification_id <= %s").format(
            *self.anchors
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (up_to,))
            row = curs.fetchone()
            return int(row["n"]) if row else 0

    def select_patient_anchors(self, patient_id: str) -> list[tuple[Anchor, str | None]]:
        """The patient's anchors, each with the running hash of the position before it."""
        statement = SQL(
            "SELECT a.*, (SELECT p.running_hash FROM {0}.{1} p WHERE"
            " p.notification_id < a.notification_id ORDER BY p.notification_id DESC LIMIT 1)"
            " AS previous FROM {0}.{1} a WHERE a.originator_id = %s ORDER BY a.notification_id"
        ).format(*self.anchors)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (patient_id,))
            return [(_anchor(r), r["previous"]) for r in curs.fetchall()]


def _anchor(row: DictRow) -> Anchor:
    return Anchor(
        row["notification_id"], row["originator_id"], row["originator_version"], row["running_hash"]
    )
