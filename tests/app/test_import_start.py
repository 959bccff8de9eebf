"""Process start of `journey import` on SQLite: the PostgreSQL driver (psycopg, its pool,
eventsourcing's PostgreSQL module: about 0.15 s of CPU) is imported by a PostgreSQL store
alone, and storage failures are still recognized on both stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import psycopg_pool

from infrastructure.storage_errors import storage_exceptions
from tests.app.bulk_support import cohort_lines
from tests.cli_support import run_journey

POSTGRES_MODULES = ("psycopg", "psycopg_pool", "eventsourcing.postgres")


def imported(stderr: str) -> set[str]:
    """The modules `python -X importtime` (PYTHONPROFILEIMPORTTIME) reported importing."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def import_reports(tmp_path: Path) -> dict[str, set[str]]:
    """`journey import` of a small file on SQLite, bulk and `--plain`, each into a fresh store
    (every event stored): the modules each process reported importing, by its flags."""
    source = tmp_path / "commands.jsonl"
    lines = cohort_lines(3)
    source.write_text("\n".join(lines) + "\n")
    store = tmp_path / "store.db"
    reports: dict[str, set[str]] = {}
    for flags in ([], ["--plain"]):
        store.unlink(missing_ok=True)
        done = run_journey(
            f"sqlite:///{store}", "import", str(source), *flags,
            env={"PYTHONPROFILEIMPORTTIME": "1"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        with sqlite3.connect(store) as connection:
            (events,) = connection.execute("SELECT count(*) FROM stored_events").fetchone()
        assert events == len(lines)
        reports[" ".join(flags) or "bulk"] = imported(done.stderr)
    return reports


def test_a_sqlite_import_does_not_load_the_postgresql_driver(tmp_path: Path) -> None:
    for flags, modules in import_reports(tmp_path).items():
        assert "interfaces.cli" in modules  # the report is there: what it lacks counts
        loaded = {m for m in modules if m.split(".")[0] in POSTGRES_MODULES[:2]}
        assert not loaded and POSTGRES_MODULES[2] not in modules, (flags, loaded)


def test_the_postgresql_errors_are_caught_once_the_driver_is_loaded() -> None:
    assert psycopg.Error in storage_exceptions()  # imported by this test module
    assert psycopg_pool.PoolTimeout in storage_exceptions()
    assert {sqlite3.Error, OSError} <= set(storage_exceptions())
    assert psycopg.Error in storage_exceptions(postgres=True)  # the API's handlers
