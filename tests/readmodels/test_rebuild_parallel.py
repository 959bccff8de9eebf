"""`journey project --rebuild --workers N`: worker processes rebuild into a scratch SQLite
file, then one transaction loads it into the live store (COPY on PostgreSQL). The store
must end up exactly as the log follower's single-process rebuild leaves it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.settings import Settings
from infrastructure.sql import connect
from journey.application import JourneyApplication
from projections.read_models.schema import READ_MODEL_TABLES
from services.replay import store_sums
from services.replay_parallel import rebuild_store
from tests.readmodels.support import cohort, load, position, rebuilt

ROOT = Path(__file__).resolve().parents[2]
# COPY's text format gives these characters a meaning: the load must escape them
AWKWARD = ("tab\there, new\nline, back\\slash, CR\r\n, end \\.", "\\N")
START = datetime(2025, 6, 2, 9, tzinfo=UTC)


def awkward_patient() -> list[dict[str, object]]:
    steps = [("php", AWKWARD[0]), ("iop", AWKWARD[1]), ("outpatient", None)]
    return [
        {"command": "admit", "patient_id": "odd-1", "level": "inpatient",
         "occurred_at": START.isoformat(), "timezone": "America/Chicago"},
        *({"command": "transition", "patient_id": "odd-1", "to_level": level,
           "occurred_at": (START + timedelta(days=5 * n)).isoformat(),
           **({"reason": reason} if reason is not None else {})}
          for n, (level, reason) in enumerate(steps, start=1)),
    ]  # fmt: skip


def test_parallel_rebuild_equals_the_log_followers(app: JourneyApplication, store_url: str) -> None:
    load(app, [*cohort(12, seed=3), *awkward_patient()])
    live = connect(store_url)
    try:
        rebuilt(app, store_url)
        single, indexes = store_sums(store_url), _indexes(store_url)
        with live.transaction() as unit:  # the rebuild must drop what is there
            unit.execute("UPDATE rm_stays SET days = days + 1 WHERE days > 1")
            unit.execute("INSERT INTO rm_seen_events (ce_id) VALUES ('stale')")
        assert rebuild_store(live, Settings(database_url=store_url), 2) == len(_log(app))
    finally:
        live.close()
    spread = store_sums(store_url)
    assert spread == single
    assert _indexes(store_url) == indexes  # dropped for the load, then rebuilt
    assert all(spread[t].rows > 0 for t in ("rm_patients", "rm_sessions"))
    assert position(store_url) == len(_log(app))  # the tracked position, set by the load
    # free text (transition reasons) stays out of the read models: nothing left to escape
    assert _reasons(store_url) == {None}


def test_the_cli_rebuilds_with_workers(app: JourneyApplication, store_url: str) -> None:
    load(app, cohort(5, seed=4))
    env = {**os.environ, "JOURNEY_DATABASE_URL": store_url}
    env.pop("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", None)

    def project(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "interfaces", "project", "--once", *args],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    spread = project("--rebuild", "--workers", "2")  # into a store without rm_ tables
    assert spread.returncode == 0, spread.stderr
    assert f"projected {app.recorder.max_notification_id()} events" in spread.stderr
    assert "rm_sessions" in spread.stderr and "events/s" in spread.stderr  # progress
    parallel = store_sums(store_url)
    assert project("--rebuild", "--workers", "1").returncode == 0
    assert store_sums(store_url) == parallel
    refused = project("--workers", "2")
    assert refused.returncode == 2, refused.stderr


def _log(app: JourneyApplication) -> list[int]:
    stop = app.recorder.max_notification_id() or 0
    return [n.id for n in app.recorder.select_notifications(start=1, limit=stop + 1)]


def _indexes(url: str) -> set[str]:
    catalog = (
        "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'rm%%'"
        if url.startswith("postgresql")
        else "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'rm%'"
    )
    db = connect(url)
    try:
        with db.transaction() as unit:
            return {row[0] for row in unit.all(catalog)}
    finally:
        db.close()


def _reasons(url: str) -> set[str | None]:
    db = connect(url)
    try:
        with db.transaction() as unit:
            return {row[0] for row in unit.all("SELECT reason FROM rm_transitions")}
    finally:
        db.close()


def test_a_postgresql_rebuild_leaves_planner_statistics(
    app: JourneyApplication, store_url: str
) -> None:
    """Freshly loaded tables without statistics get guessed plans until autovacuum comes
    (1.2 s instead of 5 ms for an analytics query at 10M events): the load analyzes them."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite's planner keeps no statistics unless asked")
    load(app, cohort(5, seed=5))
    live = connect(store_url)
    try:
        rebuild_store(live, Settings(database_url=store_url), 2)
        with live.transaction() as unit:
            rows = unit.all(
                "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE starts_with(relname, 'rm_')"
            )
    finally:
        live.close()
    analyzed = {table for table, at in rows if at is not None}
    assert analyzed >= set(READ_MODEL_TABLES), set(READ_MODEL_TABLES) - analyzed
