"""PostgreSQL bulk writer: COPY of stored events and their anchors, in one transaction.

The transaction takes the events table's EXCLUSIVE lock first (as the anchored recorder's
inserts do), so no other writer interleaves; notification ids are then assigned explicitly
and contiguously after the log's last one, the anchors continue the last running hash, and
the table's id sequence is moved past the new rows before the commit. Rows go in COPY's
binary format (no escaping, no hex: the stored bytes as they are)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from audit.anchors import Row, anchor_rows
from infrastructure.anchored_postgres import ANCHORS_TABLE, AnchoredPostgresApplicationRecorder
from infrastructure.keystore import KeyRow
from infrastructure.patient_keys import insert_keys

IDLE_LIMIT = "10min"  # instead of the datastore's few seconds: see transaction()
_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_TRAILER = b"\xff\xff"
_FIELDS = struct.Struct(">h").pack
_LENGTH = struct.Struct(">i").pack
_BIGINT = struct.Struct(">iq").pack  # its length (8), then the value
_HASH_LENGTH = _LENGTH(64)  # a running hash: 64 hex digits


def _field(value: bytes) -> bytes:
    return _LENGTH(len(value)) + value


def events_copy(rows: Sequence[Row], positions: Iterable[int]) -> bytes:
    """COPY BINARY data: originator_id, originator_version, topic, state, notification_id."""
    head, fields = _FIELDS(5), _Fields()
    parts = [_HEADER]
    for (patient_id, version, topic, state), position in zip(rows, positions, strict=True):
        parts += (head, fields(patient_id), _BIGINT(8, version), fields(topic))
        parts += (_LENGTH(len(state)), state, _BIGINT(8, position))
    parts.append(_TRAILER)
    return b"".join(parts)


def anchors_copy(anchors: Sequence[tuple[int, str, int, str]]) -> bytes:
    """COPY BINARY data of `anchor_rows`: notification_id, originator_id, originator_version,
    running_hash."""
    head, fields = _FIELDS(4), _Fields()
    parts = [_HEADER]
    for position, patient_id, version, running_hash in anchors:
        parts += (head, _BIGINT(8, position), fields(patient_id), _BIGINT(8, version))
        parts += (_HASH_LENGTH, running_hash.encode())
    parts.append(_TRAILER)
    return b"".join(parts)


class _Fields(dict[str, bytes]):
    """Text fields (length and UTF-8 bytes) of the values seen: patient ids and topics
    repeat from row to row."""

    def __call__(self, text: str) -> bytes:
        field = self.get(text)
        if field is None:
            if len(self) > 10_000:
                self.clear()
            field = self[text] = _field(text.encode())
        return field


def _fetch(cursor: Cursor[DictRow], statement: Composed, column: str) -> Any:
    cursor.execute(statement)
    row = cursor.fetchone()
    return row[column] if row else None


class PostgresBulkWriter:
    """Appends batches at the log's head with COPY, in transactions of its own connection."""

    def __init__(self, recorder: AnchoredPostgresApplicationRecorder, snapshots: Any) -> None:
        self.recorder = recorder
        schema = Identifier(recorder.datastore.schema)
        events, anchors = (schema, Identifier(recorder.events_table_name)), recorder.anchors
        self.copy_events = SQL(
            "COPY {}.{} (originator_id, originator_version, topic, state, notification_id)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(*events)
        self.copy_anchors = SQL(
            "COPY {}.{} (notification_id, originator_id, originator_version, running_hash)"
            " FROM STDIN (FORMAT BINARY)"
        ).format(*anchors)
        self.heads = [
            SQL("SELECT max(notification_id) AS last FROM {}.{}").format(*events),
            SQL("SELECT running_hash FROM {}.{} ORDER BY notification_id DESC LIMIT 1").format(
                schema, Identifier(ANCHORS_TABLE)
            ),
        ]
        self.move_sequence = SQL("SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), %s)")
        self.table = events
        self.notify = SQL("NOTIFY {}").format(Identifier(recorder.channel_name))
        self.insert_snapshot: Composed | None = None
        if snapshots is not None:
            self.insert_snapshot = SQL(
                "INSERT INTO {}.{} (originator_id, originator_version, topic, state)"
                " VALUES (%s, %s, %s, %s)"
            ).format(schema, Identifier(snapshots.events_table_name))
        self.last_position: int = 0
        self.last_hash: str | None = None

    @contextmanager
    def transaction(self) -> Iterator[Cursor[DictRow]]:
        with (
            self.recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            # the writer waits for the deciding workers between statements
            cursor.execute(f"SET LOCAL idle_in_transaction_session_timeout = '{IDLE_LIMIT}'")
            for statement in self.recorder.lock_table_statements:
                cursor.execute(statement)
            self.last_position = _fetch(cursor, self.heads[0], "last") or 0
            self.last_hash = _fetch(cursor, self.heads[1], "running_hash")
            yield cursor
            if self.last_position:  # later inserts of the recorder continue after ours
                table = ".".join(i.as_string(conn) for i in self.table)
                cursor.execute(self.move_sequence, (table, self.last_position))
            cursor.execute(self.notify)

    def append(
        self,
        cursor: Cursor[DictRow],
        events: Sequence[Row],
        snapshots: Sequence[Row],
        keys: Sequence[KeyRow],
    ) -> None:
        insert_keys(self.recorder, cursor, keys)
        first = self.last_position + 1
        positions = range(first, first + len(events))
        anchors = anchor_rows(self.last_hash, positions, events)
        with cursor.copy(self.copy_events) as copy:
            copy.write(events_copy(events, positions))
        with cursor.copy(self.copy_anchors) as copy:
            copy.write(anchors_copy(anchors))
        if snapshots and self.insert_snapshot is not None:
            cursor.executemany(self.insert_snapshot, snapshots)
        if anchors:
            self.last_position, self.last_hash = anchors[-1][0], anchors[-1][3]
