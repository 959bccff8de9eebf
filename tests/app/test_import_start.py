"""Process start of `journey import` on SQLite: the PostgreSQL driver (psycopg, its pool,
eventsourcing's PostgreSQL module: about 0.15 s of CPU) is imported by a PostgreSQL store
alone, and storage failures are still recognized on both stores."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg

from infrastructure.storage_errors import STORAGE_EXCEPTIONS, storage_exceptions
from tests.app.bulk_support import cohort_lines

LOADED = (
    "import atexit, sys\n"
    "atexit.register(lambda: print(sorted(m for m in sys.modules if m == 'eventsourcing.postgres'"
    " or m.split('.')[0] in ('psycopg', 'psycopg_pool')), file=sys.stderr))\n"
    "sys.argv = ['journey', *sys.argv[1:]]\n"
    "from interfaces.cli import main\n"
    "main()\n"
)


def test_a_sqlite_import_does_not_load_the_postgresql_driver(tmp_path: Path) -> None:
    source = tmp_path / "commands.jsonl"
    lines = cohort_lines(3)
    source.write_text("\n".join(lines) + "\n")
    store = tmp_path / "store.db"
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}"}
    for flags in ([], ["--plain"]):
        store.unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", LOADED, "import", str(source), *flags],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
        with sqlite3.connect(store) as connection:
            (events,) = connection.execute("SELECT count(*) FROM stored_events").fetchone()
        assert events == len(lines)


def test_the_postgresql_errors_are_caught_once_the_driver_is_loaded() -> None:
    assert psycopg.Error in storage_exceptions()  # imported by this test module
    assert psycopg.Error in STORAGE_EXCEPTIONS  # the API registers its handlers with these
    assert {sqlite3.Error, OSError} <= set(storage_exceptions())
    assert len(set(storage_exceptions())) == len(storage_exceptions())
