"""The access trail (HIPAA 45 CFR 164.312(b)): every read or export of patient-level data,
who, when, what and from where, in an append-only table of the store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from infrastructure.sql import Database
from journey.errors import JourneyError

TABLE = "audit_access_log"
COLUMNS = ("at", "actor", "role", "channel", "source", "action", "patient_id", "detail", "outcome")


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
    outcome: str  # ok, denied, not_found, invalid


def _schema(db: Database) -> list[str]:
    ts = db.dialect.timestamp
    key = "BIGSERIAL PRIMARY KEY" if db.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    create = (
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, at {ts} NOT NULL, actor TEXT NOT NULL,"
        " role TEXT NOT NULL, channel TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT NULL,"
        " patient_id TEXT, detail TEXT NOT NULL, outcome TEXT NOT NULL)"
    )
    index = f"CREATE INDEX IF NOT EXISTS {TABLE}_patient ON {TABLE} (patient_id, at)"
    if db.dialect.name == "postgresql":
        guard = [
            "CREATE OR REPLACE FUNCTION audit_access_log_append_only() RETURNS trigger"
            " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the access log is append-only';"
            " END $$",
            f"CREATE OR REPLACE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}"
            " FOR EACH ROW EXECUTE FUNCTION audit_access_log_append_only()",
        ]
    else:
        guard = [
            f"CREATE TRIGGER IF NOT EXISTS {TABLE}_no_{op} BEFORE {op.upper()} ON {TABLE}"
            " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END"
            for op in ("update", "delete")
        ]
    return [create, index, *guard]


class AccessLog:
    """Appends and lists accesses; safe to share between threads."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        with self._lock, db.transaction() as unit:
            for statement in _schema(db):
                unit.execute(statement)

    def record(self, access: Access) -> None:
        values = [getattr(access, c) for c in COLUMNS]
        marks = ", ".join("?" for _ in COLUMNS)
        with self._lock, self._db.transaction() as unit:
            unit.execute(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({marks})", values)

    def query(self, *, limit: int = 1_000, **filters: Any) -> list[Access]:
        """Accesses, newest first; filters: actor, patient_id, action, since, until."""
        where, params = ["1=1"], []
        for column in ("actor", "patient_id", "action"):
            if filters.get(column) is not None:
                where.append(f"{column} = ?")
                params.append(filters[column])
        if filters.get("since") is not None:
            where.append("at >= ?")
            params.append(filters["since"])
        if filters.get("until") is not None:
            where.append("at <= ?")
            params.append(filters["until"])
        statement = (
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE {' AND '.join(where)}"
            f" ORDER BY id DESC LIMIT {int(limit)}"
        )
        with self._lock, self._db.transaction() as unit:
            rows = unit.all(statement, params)
        return [Access(self._db.dialect.instant(r[0]) or datetime.now(UTC), *r[1:]) for r in rows]


@contextmanager
def recording(log: AccessLog, access: Access) -> Iterator[None]:
    """Appends `access` with its outcome (ok, or the error's kind), whatever happens."""
    outcome = "ok"
    try:
        yield
    except JourneyError as error:
        outcome = error.kind
        raise
    finally:
        log.record(replace(access, outcome=outcome))
