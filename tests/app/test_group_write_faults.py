"""Group commit (services.group_writer) when the store fails while a group is written: every
caller of the group gets the store's error, nothing of the group is stored, and once the
store works again the same writer stores the same commands at the right versions (the
patients decided for the failed group are not kept in the application's cache)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from audit.verify import verify_log
from config.settings import Settings
from journey.application import JourneyApplication, Outcome
from journey.commands import Command, parse_command
from services.bootstrap import build_application
from services.group_writer import GroupWriter
from tests.app.bulk_support import log_rows

PATIENTS = ("f-1", "f-2", "f-3")
UNLIMITED_PAGES = 1_073_741_823


def _session(n: int) -> Command:
    return parse_command(
        {
            "command": "record_session",
            "patient_id": PATIENTS[n % 3],
            "session_id": f"s-{n}",
            "format": "group",
            "approach": "cbt",
            "duration_minutes": 60,
            "occurred_at": f"2026-02-{1 + n % 27:02d}T10:{n % 60:02d}:00+00:00",
        }
    )


def _admitted_store(url: str) -> None:
    app = build_application(Settings(database_url=url))
    for pid in PATIENTS:
        app.handle(
            parse_command(
                {
                    "command": "admit",
                    "patient_id": pid,
                    "level": "iop",
                    "occurred_at": "2026-01-05T08:00:00+00:00",
                    "timezone": "UTC",
                }
            )
        )
    app.close()


def _attempt(writer: GroupWriter, command: Command) -> Outcome | BaseException:
    try:
        return writer.handle(command)
    except Exception as error:  # each caller's own answer, asserted by the test
        return error


def _full_disk(monkeypatch: pytest.MonkeyPatch) -> list[sqlite3.Connection]:
    """Every SQLite connection opened from now on cannot grow the file (SQLite keeps the cap
    at least the current size); the list lets the test lift the cap again."""
    real: Callable[..., sqlite3.Connection] = sqlite3.connect
    opened: list[sqlite3.Connection] = []

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real(*args, **kwargs)
        connection.execute("PRAGMA max_page_count = 1")
        opened.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect)
    return opened


def test_a_store_fault_fails_the_whole_group_and_the_writer_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/journey.db"
    _admitted_store(url)
    opened = _full_disk(monkeypatch)
    app: JourneyApplication = build_application(Settings(database_url=url))
    try:
        before = log_rows(app)
        writer = GroupWriter(app)
        commands = [_session(n) for n in range(300)]  # bigger than a page: the file must grow
        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(lambda c: _attempt(writer, c), commands))
        accepted = [a for a in answers if isinstance(a, Outcome)]
        failed = [a for a in answers if not isinstance(a, Outcome)]
        assert len(failed) > len(commands) // 2  # the store did fail (a few fit in free pages)
        assert all("full" in str(error) for error in failed)
        stored = {(pid, version) for _, pid, version, _, _ in log_rows(app)[len(before) :]}
        assert stored == {(o.patient_id, o.version) for o in accepted}  # told = stored

        for connection in opened:  # the disk has room again
            connection.execute(f"PRAGMA max_page_count = {UNLIMITED_PAGES}")
        retried = [writer.handle(command) for command in commands]
        statuses = ["accepted" if isinstance(a, BaseException) else "duplicate" for a in answers]
        assert [o.status for o in retried] == statuses
        rows = log_rows(app)
        assert len(rows) == len(before) + len(commands)
        for pid in PATIENTS:  # every version once, none skipped
            versions = [version for _, p, version, _, _ in rows if p == pid]
            assert versions == list(range(1, len(versions) + 1))
        assert verify_log(app).ok
    finally:
        app.close()
