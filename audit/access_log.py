"""The access trail (HIPAA 45 CFR 164.312(b)): every attempt to read or export
patient-level data, who, when, what, from where and with what outcome, in an append-only
table of the store whose rows are chained and, with JOURNEY_CIPHER_KEY, encrypted
(audit.access_chain; docs/access-trail.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from audit.access_chain import (
    ADDED,
    STORED,
    TABLE,
    TrailCipher,
    TrailVerification,
    row_content,
    verify_trail,
)
from infrastructure.schema_lock import SCHEMA_LOCK
from infrastructure.sql import Database, Unit, instant_of
from journey import chain
from journey.errors import JourneyError

COLUMNS = ("at", "actor", "role", "channel", "source", "action", "patient_id", "detail", "outcome")
SEALED_DETAIL = "(encrypted: JOURNEY_CIPHER_KEY needed)"


@dataclass(frozen=True)
class Access:
    at: datetime
    actor: str
    role: str
    channel: str  # "http" or "cli"
    source: str  # client address, or user@host
    action: str  # e.g. journey.read, history.read, audit.report, access_log.read
    patient_id: str | None
    detail: str  # the query: as_of, known_at, output file...
    outcome: str  # ok, unauthenticated, forbidden, invalid, not_found, error...


def _table(db: Database) -> str:
    ts = db.dialect.timestamp
    key = "BIGSERIAL PRIMARY KEY" if db.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    return (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, at {ts} NOT NULL, actor TEXT NOT NULL,"
        " role TEXT NOT NULL, channel TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT NULL,"
        " patient_id TEXT, detail TEXT NOT NULL, outcome TEXT NOT NULL, patient_ref TEXT,"
        " sealed TEXT, row_hash TEXT)"
    )


def _guards(db: Database) -> list[str]:
    indexes = [
        f"CREATE INDEX IF NOT EXISTS {TABLE}_patient ON {TABLE} (patient_id, at)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_patient_ref ON {TABLE} (patient_ref, at)",
    ]
    if db.dialect.name == "postgresql":
        return [
            *indexes,
            "CREATE OR REPLACE FUNCTION audit_access_log_append_only() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the access log is append-only';"
            " END $$",
            f"CREATE OR REPLACE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}"
            " FOR EACH ROW EXECUTE FUNCTION audit_access_log_append_only()",
        ]
    return [
        *indexes,
        *(
            f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{op} BEFORE {op.upper()} ON {TABLE}"
            " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END"
            for op in ("update", "delete")
        ),
    ]


def _serialize(unit: Unit) -> None:
    """Appends (and the migration) one at a time: SQLite's write lock is taken by the
    transaction itself; PostgreSQL needs a lock that conflicts with itself (readers pass)."""
    if unit.dialect.name == "postgresql":
        unit.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")


def _columns(unit: Unit) -> set[str]:
    if unit.dialect.name == "postgresql":
        rows = unit.all(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = ?",
            [TABLE],
        )
        return {str(r[0]) for r in rows}
    return {str(r[1]) for r in unit.all(f"PRAGMA table_info({TABLE})")}


def _migrate(unit: Unit, cipher: TrailCipher | None) -> None:
    """A trail written before rows were chained (main f282db8): adds the columns, then
    chains every existing row (and, with a key, encrypts it) in one transaction."""
    missing = [c for c in ADDED if c not in _columns(unit)]
    if not missing:
        return
    if unit.dialect.name == "postgresql":
        unit.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    else:
        for op in ("update", "delete"):
            unit.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{op}")
    for column in missing:
        unit.execute(f"ALTER TABLE {TABLE} ADD COLUMN {column} TEXT")
    previous = chain.GENESIS
    for row_id, *values in unit.all(f"SELECT id, {', '.join(STORED)} FROM {TABLE} ORDER BY id"):
        row = dict(zip(STORED, values, strict=True))
        if cipher is not None:
            row |= {
                "patient_id": None,
                "detail": "",
                "patient_ref": cipher.ref(row["patient_id"]),
                "sealed": cipher.seal(row["patient_id"], row["detail"]),
            }
        previous = chain.link(previous, row_content(unit.dialect, [row[c] for c in STORED]))
        unit.execute(
            f"UPDATE {TABLE} SET patient_id = ?, detail = ?, patient_ref = ?, sealed = ?,"
            " row_hash = ? WHERE id = ?",
            [row["patient_id"], row["detail"], row["patient_ref"], row["sealed"], previous, row_id],
        )


class AccessLog:
    """Appends, lists and verifies accesses; safe to share between threads. With
    `cipher_key` (JOURNEY_CIPHER_KEY) rows keep no patient id or detail in clear."""

    def __init__(self, db: Database, cipher_key: str | None = None) -> None:
        self._db = db
        self._cipher = TrailCipher.from_master(cipher_key) if cipher_key else None
        self._lock = threading.Lock()
        with self._lock, db.transaction() as unit:
            if db.dialect.name == "sqlite":  # what the migration overwrites is zeroed
                unit.execute("PRAGMA secure_delete = ON")
            else:  # one creator at a time (infrastructure.schema_lock)
                unit.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            unit.execute(_table(db))
            _serialize(unit)
            _migrate(unit, self._cipher)
            for statement in _guards(db):
                unit.execute(statement)

    def record(self, access: Access) -> None:
        values = self._stored(access)
        marks = ", ".join("?" for _ in range(len(STORED) + 1))
        insert = f"INSERT INTO {TABLE} ({', '.join(STORED)}, row_hash) VALUES ({marks})"
        with self._lock, self._db.transaction() as unit:
            _serialize(unit)
            last = unit.one(
                f"SELECT row_hash FROM {TABLE} WHERE row_hash IS NOT NULL ORDER BY id DESC LIMIT 1"
            )
            previous = str(last[0]) if last else chain.GENESIS
            unit.execute(insert, [*values, chain.link(previous, row_content(unit.dialect, values))])

    def _stored(self, access: Access) -> list[Any]:
        head = [access.at, access.actor, access.role, access.channel, access.source, access.action]
        if self._cipher is None:
            return [*head, access.patient_id, access.detail, access.outcome, None, None]
        sealed = self._cipher.seal(access.patient_id, access.detail)
        return [*head, None, "", access.outcome, self._cipher.ref(access.patient_id), sealed]

    def query(self, *, limit: int = 1_000, **filters: Any) -> list[Access]:
        """Accesses, newest first; filters: actor, patient_id, action, since, until."""
        where, params = ["1=1"], []
        for column in ("actor", "action"):
            if filters.get(column) is not None:
                where.append(f"{column} = ?")
                params.append(filters[column])
        patient_id = filters.get("patient_id")
        if patient_id is not None:
            where.append("(patient_id = ? OR patient_ref = ?)")
            params += [patient_id, self._cipher.ref(patient_id) if self._cipher else None]
        if filters.get("since") is not None:
            where.append("at >= ?")
            params.append(filters["since"])
        if filters.get("until") is not None:
            where.append("at <= ?")
            params.append(filters["until"])
        statement = (
            f"SELECT {', '.join(STORED)} FROM {TABLE} WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT {int(limit)}"
        )
        with self._lock, self._db.transaction() as unit:
            rows = unit.all(statement, params)
        return [self._access(row) for row in rows]

    def _access(self, row: tuple[Any, ...]) -> Access:
        at, actor, role, channel, source, action, patient_id, detail, outcome, _, sealed = row
        if sealed is not None:
            patient_id, detail = (
                self._cipher.unseal(sealed) if self._cipher else (None, SEALED_DETAIL)
            )
        at = instant_of(self._db.dialect, at)
        return Access(at, actor, role, channel, source, action, patient_id, detail, outcome)

    def verify(self) -> TrailVerification:
        """The chain of the whole trail (audit.access_chain.verify_trail)."""
        with self._lock:
            return verify_trail(self._db)


@contextmanager
def recording(log: AccessLog, access: Access) -> Iterator[None]:
    """Appends `access` with its real outcome, whatever happens: ok, the domain error's kind
    (not_found, invalid...), or `error` for any other failure (never `ok`)."""
    outcome = "ok"
    try:
        yield
    except JourneyError as error:
        outcome = error.kind
        raise
    except BaseException:
        outcome = "error"
        raise
    finally:
        log.record(replace(access, outcome=outcome))
