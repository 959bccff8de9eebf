"""SQLite application recorder that writes the log's anchors with the events they cover."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from audit.anchors import Anchor, Row, anchor_rows
from infrastructure.patient_keys import KeyRing, record_key_changes

ANCHORS_TABLE = "audit_anchors"
_new = object.__new__
_set = object.__setattr__


class AnchoredSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    keyring: KeyRing | None = None  # per-patient keys (infrastructure.patient_keys)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {ANCHORS_TABLE} (notification_id INTEGER PRIMARY KEY,"
            " originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,"
            " running_hash TEXT NOT NULL)",
        ]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        """eventsourcing's query and rows, each row built without the dataclass's per-field
        `__init__` (the same StoredEvent values): a long history is read in one cheap pass."""
        if isinstance(originator_id, UUID) or self.datastore.originator_id_type == "uuid":
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        statement = (
            "SELECT originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE originator_id=? "
        )
        params: list[Any] = [originator_id]
        for clause, value in (("originator_version>?", gt), ("originator_version<=?", lte)):
            if value is not None:
                statement += f"AND {clause} "
                params.append(value)
        statement += f"ORDER BY originator_version {'DESC' if desc else 'ASC'} "
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [_stored_event(*row) for row in c.fetchall()]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        record_key_changes(self.keyring, c, list(stored_events))
        return self.insert_anchored(
            c,
            [(_stored_id(s), s.originator_version, s.topic, s.state) for s in stored_events],
        )

    def insert_anchored(self, c: SQLiteCursor, rows: Sequence[Row]) -> list[int]:
        """Appends stored rows (patient, version, topic, state) and their anchors to the log in
        the transaction of `c`; returns their notification positions."""
        # One executemany instead of eventsourcing's insert per event: the write lock is
        # held, so the new rowids are the last one's and those just before it.
        c.executemany(self.insert_events_statement, rows)
        c.execute("SELECT last_insert_rowid()")
        last_id = c.fetchone()[0]
        positions = list(range(last_id - len(rows) + 1, last_id + 1))
        c.execute(f"SELECT running_hash FROM {ANCHORS_TABLE} ORDER BY notification_id DESC LIMIT 1")
        last = c.fetchone()
        anchors = anchor_rows(last[0] if last else None, positions, rows)
        c.executemany(f"INSERT INTO {ANCHORS_TABLE} VALUES (?, ?, ?, ?)", anchors)
        return positions

    def select_anchors(self, start: int, limit: int) -> list[Anchor]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT * FROM {ANCHORS_TABLE} WHERE notification_id >= ? "
                "ORDER BY notification_id LIMIT ?",
                (start, limit),
            )
            return [Anchor(*r[:4]) for r in c.fetchall()]

    def count_anchors(self, up_to: int) -> int:
        """How many anchors (events of the log) are at or before position `up_to`."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT count(*) FROM {ANCHORS_TABLE} WHERE notification_id <= ?", (up_to,))
            return int(c.fetchone()[0])

    def select_patient_anchors(self, patient_id: str) -> list[tuple[Anchor, str | None]]:
        """The patient's anchors, each with the running hash of the position before it."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT a.*, (SELECT p.running_hash FROM {ANCHORS_TABLE} p WHERE"
                " p.notification_id < a.notification_id ORDER BY p.notification_id DESC LIMIT 1)"
                f" FROM {ANCHORS_TABLE} a WHERE a.originator_id = ? ORDER BY a.notification_id",
                (patient_id,),
            )
            return [(Anchor(*r[:4]), r[4]) for r in c.fetchall()]


def _stored_id(event: StoredEvent) -> str:
    """The originator id as eventsourcing's SQLite recorder stores it (UUIDs as hex)."""
    originator_id = event.originator_id
    return originator_id.hex if isinstance(originator_id, UUID) else originator_id


def _stored_event(originator_id: str, version: int, topic: str, state: bytes) -> StoredEvent:
    """StoredEvent(originator_id, version, topic, state), as its frozen dataclass would set it."""
    stored: StoredEvent = _new(StoredEvent)
    fields = {"originator_id": originator_id, "originator_version": version, "topic": topic}
    fields["state"] = state
    _set(stored, "__dict__", fields)
    return stored
