"""Stored rows are edited, deleted, inserted and reordered directly in SQLite and
PostgreSQL; verification names the first broken patient and version, and passes on an
untouched store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from audit.verify import verify_log, verify_patient
from journey.application import JourneyApplication
from journey.commands import parse_command

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def load(app: JourneyApplication) -> None:
    for pid in ("p-a", "p-b"):
        commands = [
            {
                "command": "admit",
                "patient_id": pid,
                "level": "detox",
                "occurred_at": "2026-01-01T10:00:00Z",
            }
        ]
        commands += [
            {
                "command": "record_session",
                "patient_id": pid,
                "session_id": f"s-{i}",
                "format": "group",
                "approach": "cbt",
                "duration_minutes": 60,
                "occurred_at": f"2026-01-0{i + 2}T10:00:00Z",
            }
            for i in range(4)
        ]
        for c in commands:
            app.handle(parse_command(c), now=NOW)


@contextmanager
def raw(store_url: str) -> Iterator[tuple[Any, str, str]]:
    """A DB-API connection to the store, its events table and its placeholder."""
    if store_url.startswith("sqlite"):
        with closing(sqlite3.connect(store_url.removeprefix("sqlite:///"))) as conn:
            yield conn, "stored_events", "?"
            conn.commit()
    else:
        with psycopg.connect(store_url, autocommit=True) as conn:
            yield conn, "carejourney_events", "%s"


def run(store_url: str, statement: str, *params: Any) -> None:
    with raw(store_url) as (conn, table, mark):
        conn.execute(statement.format(table=table, p=mark), params)


EDIT_SQLITE = "UPDATE {table} SET state = CAST(replace(CAST(state AS TEXT), '60', '90') AS BLOB)"
EDIT_POSTGRES = (
    "UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'),"
    " '60', '90'), 'UTF8')"
)

TAMPERING: dict[str, Callable[[str], tuple[str, int]]] = {
    "edited": lambda url: (
        run(
            url,
            (EDIT_SQLITE if url.startswith("sqlite") else EDIT_POSTGRES)
            + " WHERE originator_id = {p} AND originator_version = 3",
            "p-b",
        ),
        ("p-b", 3),
    )[1],
    "deleted": lambda url: (
        run(url, "DELETE FROM {table} WHERE originator_id = {p} AND originator_version = 5", "p-a"),
        ("p-a", 5),
    )[1],
    "inserted": lambda url: (
        run(
            url,
            "INSERT INTO {table} (originator_id, originator_version, topic,"
            " state) SELECT originator_id, 6, topic, state FROM {table}"
            " WHERE originator_id = {p} AND originator_version = 5",
            "p-a",
        ),
        ("p-a", 6),
    )[1],
    "reordered": lambda url: (
        run(
            url,
            "UPDATE {table} SET originator_version = -originator_version WHERE"
            " originator_id = {p} AND originator_version IN (2, 3)",
            "p-b",
        ),
        run(
            url,
            "UPDATE {table} SET originator_version = CASE originator_version WHEN -2 THEN 3"
            " ELSE 2 END WHERE originator_id = {p} AND originator_version < 0",
            "p-b",
        ),
        ("p-b", 2),
    )[2],
}


def test_an_untouched_store_verifies(app: JourneyApplication) -> None:
    load(app)
    result = verify_log(app)
    assert result.ok, result.breaks
    assert result.events == 10 and result.head is not None and result.head.position == 10
    assert verify_patient(app, "p-a").ok


@pytest.mark.parametrize("how", list(TAMPERING))
def test_direct_tampering_is_named(
    make_app: Callable[..., JourneyApplication], store_url: str, how: str
) -> None:
    load(make_app())
    where = TAMPERING[how](store_url)
    app = make_app()  # a fresh process's view: nothing cached
    whole = verify_log(app)
    assert not whole.ok
    first = whole.first()
    assert first is not None and (first.patient_id, first.version) == where, whole.breaks
    one = verify_patient(app, where[0])
    assert not one.ok and (one.first().patient_id, one.first().version) == where, one.breaks  # type: ignore[union-attr]
    assert verify_patient(app, "p-a" if where[0] == "p-b" else "p-b").ok


def test_a_rewritten_log_is_caught_by_the_exported_anchors(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    load(app)
    exported = app.recorder.select_anchors(1, 100)  # type: ignore[attr-defined]
    with raw(store_url) as (conn, table, mark):
        conn.execute(
            f"DELETE FROM {table} WHERE originator_id = {mark} AND originator_version = 5", ("p-b",)
        )
        conn.execute(f"DELETE FROM audit_anchors WHERE notification_id = {mark}", (10,))
    app = make_app()
    assert verify_log(app).ok  # consistent with itself after the rewrite...
    caught = verify_log(app, exported)
    assert not caught.ok  # ...but not with the copy kept elsewhere
    assert "shorter than the exported anchors" in str(caught.first())


def test_the_access_trail_is_append_only_on_every_store(store_url: str) -> None:
    from datetime import UTC, datetime

    from audit.access_log import Access, AccessLog
    from infrastructure.sql import connect

    log = AccessLog(connect(store_url))
    log.record(
        Access(
            datetime.now(UTC), "aud-1", "auditor", "cli", "me@host", "history.read", "p-1", "", "ok"
        )
    )
    assert [a.actor for a in log.query(patient_id="p-1")] == ["aud-1"]
    for statement in ("UPDATE audit_access_log SET actor = 'x'", "DELETE FROM audit_access_log"):
        with raw(store_url) as (conn, _, _), pytest.raises(Exception, match="append-only"):
            conn.execute(statement)
    assert len(log.query()) == 1
