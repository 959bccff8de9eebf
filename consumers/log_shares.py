"""Reads the notification log page by page, whole or one share of it: the events of the
patients a stable hash of the patient id assigns to share `n` of `shares`. Each patient's
events fall in one share, in log order, so replaying the shares apart gives the read models
a single pass gives (`services/replay_parallel.py`).

On PostgreSQL the server picks the share (`hashtext` of the patient id) and the rows come in
binary: a worker fetches and converts only its own rows, with none of the per-cell decoding
psycopg's pure-Python text loader spends on a bytea. On SQLite the share is a CRC-32 of the
patient id, picked in the query too (a function registered on the connection): a worker
neither fetches nor wraps the other shares' rows. The whole log is read by the recorder."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from eventsourcing.persistence import Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder

from infrastructure.postgres_store import is_postgres
from journey.application import JourneyApplication

if TYPE_CHECKING:  # psycopg is imported by a PostgreSQL store, not by every command
    from eventsourcing.postgres import PostgresApplicationRecorder

BATCH = 5_000
_SHARE_OF = "(hashtext(originator_id::text) & 2147483647) %% %s = %s"  # hashtext: int4


@dataclass(frozen=True)
class Share:
    number: int = 0
    shares: int = 1


@dataclass(frozen=True)
class Page:
    notifications: Sequence[Notification]  # this share's, in log order
    end: int  # the last log position the page covers; 0 when nothing was left up to stop


Reader = Callable[[int, int], Page]  # (start, stop): the next page of positions start..stop


def share_reader(app: JourneyApplication, share: Share = Share(), batch: int = BATCH) -> Reader:
    """Pages of `share`'s notifications from the application's log."""
    recorder = app.recorder
    if is_postgres(recorder):
        return _server_side(cast("PostgresApplicationRecorder", recorder), share, batch)
    if isinstance(recorder, SQLiteApplicationRecorder) and share.shares > 1:
        return _sqlite_share(recorder, share, batch)
    return _whole(app, batch)


def _whole(app: JourneyApplication, batch: int) -> Reader:
    def read(start: int, stop: int) -> Page:
        page = app.recorder.select_notifications(start=start, limit=batch, stop=stop)
        return Page(page, page[-1].id if page else 0)

    return read


def _crc_share(patient_id: str, shares: int) -> int:
    return zlib.crc32(patient_id.encode()) % shares


def _sqlite_share(recorder: SQLiteApplicationRecorder, share: Share, batch: int) -> Reader:
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, state"
        f" FROM {recorder.events_table_name} WHERE rowid >= ? AND rowid <= ?"
        " AND journey_share(originator_id, ?) = ? ORDER BY rowid LIMIT ?"
    )

    def read(start: int, stop: int) -> Page:
        with recorder.datastore.transaction(commit=False) as cursor:
            raw = cursor.sqlite_cursor
            raw.connection.create_function("journey_share", 2, _crc_share, deterministic=True)
            raw.execute(statement, (start, stop, share.shares, share.number, batch))
            rows = raw.fetchall()
        page = [
            Notification(
                id=row[0],
                originator_id=row[1],
                originator_version=row[2],
                topic=row[3],
                state=row[4],
            )
            for row in rows
        ]
        return Page(page, page[-1].id if page else 0)

    return read


def _server_side(recorder: PostgresApplicationRecorder, share: Share, batch: int) -> Reader:
    from psycopg.sql import SQL, Identifier  # noqa: PLC0415 - PostgreSQL only

    mine = f" AND {_SHARE_OF}" if share.shares > 1 else ""
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state"
        " FROM {schema}.{table} WHERE notification_id >= %s AND notification_id <= %s"
        + mine
        + " ORDER BY notification_id LIMIT %s"
    ).format(
        schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name)
    )
    chosen = (share.shares, share.number) if share.shares > 1 else ()

    def read(start: int, stop: int) -> Page:
        with (
            recorder.datastore.get_connection() as connection,
            connection.cursor(binary=True) as cursor,
        ):
            cursor.execute(statement, (start, stop, *chosen, batch), prepare=True)
            rows = cursor.fetchall()
        page = [
            Notification(
                id=row["notification_id"],
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in rows
        ]
        return Page(page, page[-1].id if page else 0)

    return read
