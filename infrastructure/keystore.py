"""The store's key tables, next to its events (SQLite or PostgreSQL, eventsourcing's own
datastore and transactions):

- `journey_meta (name, value)`: the key check value (`key_check`) and, on a plain store,
  the random pseudonym key (`pseudonym_key`, hex);
- `journey_keys (patient_id, wrapped, erased_at)`: each patient's data key wrapped by the
  master key; an erased patient keeps its row with `wrapped` NULL and `erased_at` set.

Keys of new patients and erasures are written by the anchored recorders in the transaction
of the events they concern (`insert_keys`, `erase`), so a key exists exactly when its
patient's first event does, and an erasure marker is stored exactly when the key is gone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.sqlite import SQLiteDatastore

from infrastructure.postgres_store import is_postgres

META, KEYS = "journey_meta", "journey_keys"
KeyRow = tuple[str, bytes]  # patient id, wrapped data key


class KeyStore:
    """SQL of the key tables on one datastore; `?` placeholders become `%s` on PostgreSQL."""

    def __init__(self, datastore: Any, events_table: str) -> None:
        self.datastore = datastore
        self.postgres = is_postgres(datastore)
        if not self.postgres and not isinstance(datastore, SQLiteDatastore):
            raise TypeError(f"no key store for {type(datastore).__name__}")
        prefix = f'"{datastore.schema}".' if self.postgres else ""
        self.meta, self.keys = prefix + META, prefix + KEYS
        self.events = prefix + events_table
        self._names = (f"{datastore.schema}.{events_table}" if self.postgres else events_table,)

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    @contextmanager
    def cursor(self, *, commit: bool) -> Iterator[Any]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _exists(self, cursor: Any, table: str) -> bool:
        if self.postgres:
            cursor.execute("SELECT to_regclass(%s) AS t", (table,))
            return cursor.fetchone()["t"] is not None
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
        return cursor.fetchone() is not None

    def create_tables(self) -> None:
        blob = "bytea" if self.postgres else "BLOB"
        with self.cursor(commit=True) as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.meta}"
                " (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.keys} (patient_id TEXT PRIMARY KEY,"
                f" wrapped {blob}, erased_at TEXT)"
            )

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        """A metadata value; None when absent (or when the table does not exist yet)."""
        with self.cursor(commit=False) as c:
            if not self._exists(c, f"{self.datastore.schema}.{META}" if self.postgres else META):
                return None
            c.execute(self.sql(f"SELECT value FROM {self.meta} WHERE name = ?"), (name,))
            row = c.fetchone()
        return None if row is None else str(row[0] if not self.postgres else row["value"])

    def put_meta(self, name: str, value: str) -> None:
        """Records a value once (the first writer wins); returns nothing."""
        with self.cursor(commit=True) as c:
            c.execute(
                self.sql(
                    f"INSERT INTO {self.meta} (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                (name, value),
            )

    def sample_states(self) -> list[bytes]:
        """The stored bytes of the log's first and last events (none for an empty or new
        store): enough to tell a plain store from an encrypted one, and whose key it is."""
        with self.cursor(commit=False) as c:
            if not self._exists(c, self._names[0]):
                return []
            states: list[bytes] = []
            position = "notification_id" if self.postgres else "rowid"
            for order in ("ASC", "DESC"):
                c.execute(f"SELECT state FROM {self.events} ORDER BY {position} {order} LIMIT 1")
                row = c.fetchone()
                if row is not None:
                    states.append(bytes(row["state"] if self.postgres else row[0]))
            return states

    # -- data keys --------------------------------------------------------------------------
    def load_key(self, patient_id: str) -> tuple[bytes | None, str | None] | None:
        """(wrapped key, erased_at) of the patient; None when it has no row."""
        with self.cursor(commit=False) as c:
            c.execute(
                self.sql(f"SELECT wrapped, erased_at FROM {self.keys} WHERE patient_id = ?"),
                (patient_id,),
            )
            row = c.fetchone()
        if row is None:
            return None
        wrapped, erased_at = (row["wrapped"], row["erased_at"]) if self.postgres else row
        return (None if wrapped is None else bytes(wrapped)), erased_at

    def insert_keys(self, cursor: Any, rows: Sequence[KeyRow]) -> None:
        """New patients' wrapped keys, in the caller's transaction (a second key for the
        same patient is an integrity error: the transaction's events conflicted too)."""
        if rows:
            cursor.executemany(
                self.sql(f"INSERT INTO {self.keys} (patient_id, wrapped) VALUES (?, ?)"), rows
            )

    def erase(self, cursor: Any, patient_id: str, erased_at: str) -> None:
        """Destroys the patient's wrapped key, in the caller's transaction."""
        cursor.execute(
            self.sql(
                f"INSERT INTO {self.keys} (patient_id, wrapped, erased_at) VALUES (?, NULL, ?) "
                "ON CONFLICT (patient_id) DO UPDATE SET wrapped = NULL, erased_at = ?"
            ),
            (patient_id, erased_at, erased_at),
        )

    def wrapped_keys(self, cursor: Any) -> list[tuple[str, bytes]]:
        """Every live (not erased) wrapped key, read in the caller's transaction (`cursor`):
        for re-wrapping under a new master key."""
        cursor.execute(f"SELECT patient_id, wrapped FROM {self.keys} WHERE wrapped IS NOT NULL")
        rows = cursor.fetchall()
        if self.postgres:
            return [(r["patient_id"], bytes(r["wrapped"])) for r in rows]
        return [(r[0], bytes(r[1])) for r in rows]
