"""A full disk, a read-only store, a store that cannot be opened or reached: a clear error
(CLI exit 7, HTTP 503 problem+json naming the cause), never a traceback; a read whose
access-trail entry cannot be written is refused.

Real failures only: the tests may run as root, where file permissions do not apply, so the
read-only and permission cases run the CLI as `nobody` (setpriv) on a store root owns; a
full disk is SQLite's own SQLITE_FULL, reached by capping the file's pages
(`PRAGMA max_page_count` on every connection); PostgreSQL's read-only store is
`default_transaction_read_only`."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from interfaces.api import create_app
from interfaces.cli import app as cli
from services.bootstrap import build_application
from tests.readmodels.support import cohort, load

NOBODY = 65534
KEYS = "kc=dr-a:clinician"
ADMIT = {"command": "admit", "patient_id": "p-1", "level": "iop",
         "occurred_at": "2025-05-05T10:00:00+00:00"}  # fmt: skip


def _run(store_url: str, *args: str, user: int | None = None, cwd: Path) -> Any:
    """`journey ARGS` in a subprocess, as `user` (via setpriv) when given."""
    prefix = []
    if user is not None:
        prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    env = {**os.environ, "JOURNEY_DATABASE_URL": store_url, "JOURNEY_ACTOR": "tester"}
    command = [*prefix, sys.executable, "-m", "interfaces", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)


def _clear(result: Any, cause: str) -> None:
    """Exit 7, one line naming the cause, no traceback."""
    assert result.returncode == 7, (result.returncode, result.stderr)
    assert f"storage unavailable: {cause}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    # one line for the fault, besides the line naming the store that was opened
    lines = [x for x in result.stderr.strip().splitlines() if not x.startswith("store: ")]
    assert len(lines) == 1, result.stderr


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="journey-ro-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _other_user(path: Path) -> int | None:
    """Root: run as nobody. Not root: permissions apply to us, run as ourselves."""
    if os.geteuid() == 0:
        return NOBODY
    return None


def test_a_read_only_sqlite_store_is_a_clear_error(shared_dir: Path) -> None:
    store, commands = shared_dir / "journey.db", shared_dir / "admit.jsonl"
    url = f"sqlite:///{store}"
    commands.write_text(json.dumps(ADMIT) + "\n")
    commands.chmod(0o644)
    assert _run(url, "import", str(commands), cwd=shared_dir).returncode == 0
    second = shared_dir / "second.jsonl"
    second.write_text(json.dumps(ADMIT | {"patient_id": "p-2"}) + "\n")
    second.chmod(0o644)
    store.chmod(0o444)
    user = _other_user(shared_dir)
    if user is None:
        shared_dir.chmod(0o555)
    try:
        _clear(_run(url, "import", str(second), user=user, cwd=shared_dir), "store is read-only")
        shown = _run(url, "show", "p-1", user=user, cwd=shared_dir)
        _clear(shown, "store is read-only")  # the access trail cannot be written: no read
        assert shown.stdout == ""
        store.chmod(0o600)  # not even readable by the other user
        _clear(
            _run(url, "show", "p-1", user=user, cwd=shared_dir),
            f"cannot open database file {store}: permission denied",
        )
    finally:
        shared_dir.chmod(0o755)
        store.chmod(0o644)
    assert _run(url, "show", "p-1", cwd=shared_dir).returncode == 0  # untouched


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Every SQLite connection opened from now on caps its file at `cap["pages"]` pages
    (SQLite keeps the cap at least the current size): a disk that is full."""
    real = sqlite3.connect
    cap = {"pages": 0}

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = real(*args, **kwargs)
        if cap["pages"]:
            connection.execute(f"PRAGMA max_page_count = {cap['pages']}")
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect)
    return cap


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path}/journey.db"
    monkeypatch.setenv("JOURNEY_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_a_full_disk_fails_the_import_with_exit_7(
    configured: str, capped: dict[str, int], tmp_path: Path
) -> None:
    source = tmp_path / "cohort.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in cohort(40, seed=3)))
    application = build_application(Settings(database_url=configured))
    application.close()
    capped["pages"] = 1  # no page beyond what the file holds now
    result = CliRunner().invoke(cli, ["import", str(source)])
    assert result.exit_code == 7, result.output
    assert "storage unavailable: disk full" in result.stderr
    assert "database or disk is full" in result.stderr
    assert not isinstance(result.exception, sqlite3.Error)


def test_a_full_disk_refuses_reads_it_cannot_record(
    configured: str, capped: dict[str, int]
) -> None:
    settings = Settings(database_url=configured, api_keys=KEYS)
    application = build_application(settings)
    load(application, cohort(5, seed=3))
    patient = "demo-000001"
    create_app(application, settings)  # creates the access trail's table
    application.close()
    capped["pages"] = 1
    application = build_application(settings)
    try:
        client = TestClient(create_app(application, settings), headers={"X-API-Key": "kc"})
        served = 0
        for _ in range(500):
            response = client.get(f"/v1/patients/{patient}/journey")
            if response.status_code != 200:
                break
            served += 1
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/disk_full")
        assert problem["detail"].startswith("disk full")
        assert "journey.db" not in problem["detail"]  # the store's location stays private
        assert "current_level" not in response.text  # nothing of the journey is served
        admission = {"level": "iop", "occurred_at": ADMIT["occurred_at"]}
        written = client.post("/v1/patients/p-new/admissions", json=admission)
        assert written.status_code == 503 and written.json()["type"].endswith("/disk_full")
    finally:
        application.close()
    trail = sqlite3.connect(configured.removeprefix("sqlite:///"))
    rows = trail.execute("SELECT COUNT(*) FROM audit_access_log WHERE outcome = 'ok'").fetchone()
    trail.close()
    assert rows[0] == served  # every read served is in the trail


@pytest.mark.postgres
def test_a_read_only_postgres_store_is_a_clear_error(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    commands = tmp_path / "admit.jsonl"
    commands.write_text(json.dumps(ADMIT) + "\n")
    assert _run(fresh_postgres_url, "import", str(commands), cwd=tmp_path).returncode == 0
    database = fresh_postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(fresh_postgres_url, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
    try:
        _clear(
            _run(fresh_postgres_url, "import", str(commands), cwd=tmp_path), "store is read-only"
        )
        _clear(_run(fresh_postgres_url, "show", "p-1", cwd=tmp_path), "store is read-only")
    finally:
        with psycopg.connect(fresh_postgres_url, autocommit=True) as admin:
            admin.execute("SET default_transaction_read_only = off")
            admin.execute(f'ALTER DATABASE "{database}" RESET default_transaction_read_only')


def test_an_unreachable_postgres_is_a_clear_error(tmp_path: Path) -> None:
    url = "postgresql://journey:secret@127.0.0.1:9/journey?connect_timeout=2"  # nothing listens
    result = _run(url, "show", "p-1", cwd=tmp_path)
    _clear(result, "cannot connect to PostgreSQL at 127.0.0.1:9/journey")
    assert "secret" not in result.stderr
