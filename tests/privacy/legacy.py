"""Stores written by the code before per-patient keys (main at f282db8): the SQLite files
in tests/fixtures/ (`main_aes.db` with LEGACY_KEY and the single-key AESCipher,
`main_plain.db` without key; 202 events of two patients, a snapshot at version 200), and
the same rows loaded into a PostgreSQL store laid out as that code laid it out."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from config.storage import persistence_env
from journey.application import JourneyApplication
from services.bootstrap import ANCHORED_RECORDERS

FIXTURES = Path(__file__).parent.parent / "fixtures"
LEGACY_KEY = "UFtHHhRoegLpSYYd1+fNMCk4V51rQIu99FAH02sHda8="
PATIENTS = ("p-legacy-1", "p-legacy-2")


def legacy_store(kind: str, store_url: str, tmp_path: Path) -> str:
    """A copy of the `kind` ("aes" or "plain") legacy store at `store_url`'s place."""
    source = FIXTURES / f"main_{kind}.db"
    if store_url.startswith("sqlite"):
        target = tmp_path / f"legacy_{kind}.db"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    _load_into_postgres(source, store_url, kind)
    return store_url


def _load_into_postgres(source: Path, url: str, kind: str) -> None:
    """The old composition root's application (anchored recorder, orjson transcoder,
    eventsourcing's AESCipher), then the fixture's rows inserted through it."""
    env = persistence_env(url)
    env["APPLICATION_RECORDER_TOPIC"] = ANCHORED_RECORDERS[env["PERSISTENCE_MODULE"]]
    env["TRANSCODER_TOPIC"] = "infrastructure.transcoder:OrjsonTranscoder"
    if kind == "aes":
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = LEGACY_KEY
    app = JourneyApplication(env)
    try:
        with sqlite3.connect(source) as db:
            events = db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_events"
                " ORDER BY rowid"
            ).fetchall()
            snapshots = db.execute(
                "SELECT originator_id, originator_version, topic, state FROM stored_snapshots"
            ).fetchall()
        app.recorder.insert_events([StoredEvent(*row) for row in events])
        assert app.snapshots is not None
        app.snapshots.recorder.insert_events([StoredEvent(*row) for row in snapshots])
    finally:
        app.close()
