"""Files holding patient data are owner-only: the SQLite store with its -wal and -shm
files, and a read-model copy kept by `journey replay --keep` (which is in the trail)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from eventsourcing.cryptography import AESCipher

from audit.access_log import AccessLog
from config.settings import Settings
from infrastructure.sql import connect
from journey.commands import parse_command
from services.bootstrap import build_application
from tests.cli_support import run_journey
from tests.privacy.support import raw_rows

KEY = AESCipher.create_key(32)
ADMIT = {
    "command": "admit",
    "patient_id": "p-1",
    "level": "detox",
    "occurred_at": "2026-01-01T10:00:00Z",
    "timezone": "Europe/Oslo",
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_store_and_its_wal_files_are_created_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = tmp_path / "journey.db"
        app = build_application(Settings(database_url=f"sqlite:///{store}", cipher_key=KEY))
        app.handle(parse_command(ADMIT))
        files = [store, store.with_name("journey.db-wal"), store.with_name("journey.db-shm")]
        assert all(f.exists() for f in files)
        assert [mode(f) for f in files] == [0o600] * 3
        app.close()
    finally:
        os.umask(old)


def test_replay_keep_writes_an_owner_only_copy_and_records_it(tmp_path: Path) -> None:
    store, copy = tmp_path / "journey.db", tmp_path / "copy.db"
    url, keyed = f"sqlite:///{store}", {"JOURNEY_CIPHER_KEY": KEY}

    def journey(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_journey(url, *args, stdin=stdin, env=keyed)

    assert journey("import", "-", stdin=json.dumps(ADMIT) + "\n").returncode == 0
    assert journey("project", "--once").returncode == 0
    kept = journey("replay", "--keep", str(copy), "--workers", "1", "--actor", "ops-olga")
    assert kept.returncode == 0, kept.stderr
    assert mode(copy) == 0o600
    raw = raw_rows(
        f"sqlite:///{store}",
        "SELECT actor, detail, outcome FROM audit_access_log WHERE action = 'read_models.copy'",
    )
    assert raw == [("ops-olga", "", "ok")]  # the detail (a path) is sealed with the key
    trail = AccessLog(connect(f"sqlite:///{store}"), KEY).query(action="read_models.copy")
    assert [(a.actor, a.detail, a.outcome) for a in trail] == [
        ("ops-olga", f"out={copy.resolve()}", "ok")
    ]
