"""The composition root closes what it opened: after every CLI command, and when the API
shuts down, no connection to the store is left open (SQLite: no file descriptor of this
process on the store's files; PostgreSQL: no session on the store's database)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from config.storage import persistence_env
from interfaces.api.app import create_app
from interfaces.cli import app as cli
from services.runtime import Runtime

COMMANDS = (
    '{"command": "admit", "patient_id": "p-001", "level": "detox",'
    ' "occurred_at": "2026-11-02T09:00:00-07:00", "timezone": "America/Phoenix"}\n'
    '{"command": "transition", "patient_id": "p-001", "to_level": "iop",'
    ' "occurred_at": "2026-11-06T10:00:00-07:00"}\n'
)


def open_connections(store_url: str) -> int:
    """Connections of this process to the store (SQLite), or sessions on it (PostgreSQL)."""
    env = persistence_env(store_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        store = Path(env["SQLITE_DBNAME"]).resolve()
        names = {str(store), f"{store}-wal", f"{store}-shm"}
        fds = Path("/proc/self/fd")
        return sum(1 for fd in fds.iterdir() if _target(fd) in names)
    with psycopg.connect(store_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def none_open(store_url: str) -> bool:
    """No connection is open; a PostgreSQL backend ends shortly after its client closed
    (its session may still be listed for a moment): waited for, up to 5 s."""
    for _ in range(50):
        if open_connections(store_url) == 0:
            return True
        time.sleep(0.1)
    return False


def _target(fd: Path) -> str:
    try:
        return os.readlink(fd)
    except OSError:  # closed meanwhile
        return ""


@pytest.fixture
def configured(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("JOURNEY_DATABASE_URL", store_url)
    monkeypatch.setenv("JOURNEY_ACTOR", "runtime-test")
    get_settings.cache_clear()
    yield store_url
    get_settings.cache_clear()


def _journey(*args: str, stdin: str | None = None) -> int:
    result = CliRunner().invoke(cli, list(args), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("show", "p-001", "--json"), 0),
        (("history", "p-001"), 0),
        (("show", "nobody"), 3),  # a domain error ends the command: closed all the same
        (("verify", "--all"), 0),
        (("census",), 0),
        (("replay", "--workers", "1"), 6),  # the live read models were not projected
        (("access-log",), 0),
        (("project", "--once", "--source", "log"), 0),
        (("relay", "--status"), 0),
    ],
)
def test_a_cli_command_leaves_no_connection_open(
    configured: str, tmp_path: Path, args: tuple[str, ...], code: int
) -> None:
    assert _journey("import", "-", stdin=COMMANDS) == 0
    assert none_open(configured)
    assert _journey(*args) == code
    assert none_open(configured)


def test_the_api_closes_its_root_at_shutdown(configured: str) -> None:
    with TestClient(create_app(settings=Settings(database_url=configured, auth=False))) as client:
        assert client.get("/v1/patients/p-001/journey").status_code == 404
        assert open_connections(configured) > 0
    assert none_open(configured)


def test_a_borrowed_application_stays_open(configured: str) -> None:
    with Runtime(Settings(database_url=configured)) as owner:
        application = owner.application
        with Runtime(owner.settings, application=application) as borrower:
            assert borrower.access_log.query() == []
        assert open_connections(configured) > 0
        assert application.recorder.max_notification_id() in (None, 0)
    assert none_open(configured)


def test_an_error_inside_closes_everything(configured: str) -> None:
    def fail_inside() -> None:
        with Runtime(Settings(database_url=configured)) as rt:
            assert rt.application.recorder.max_notification_id() in (None, 0)
            assert rt.access_log.query() == []
            assert rt.database.dialect.name in ("sqlite", "postgresql")
            raise ValueError("stop")

    with pytest.raises(ValueError, match="stop"):
        fail_inside()
    assert none_open(configured)
