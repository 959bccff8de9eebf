"""Catching up with the log: idempotent, resumes from its tracked position (eventsourcing's
tracking table), and a rebuild from 0 gives the same rows as incremental following."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from journey.application import JourneyApplication
from projections.read_models.positions import TRACKED
from tests.readmodels.support import cohort, dump, follow, load, position, rebuilt, rows

ROOT = Path(__file__).resolve().parents[2]


def test_following_twice_reads_nothing_new_and_changes_nothing(
    app: JourneyApplication, store_url: str
) -> None:
    load(app, cohort(8, seed=5))
    total = app.recorder.max_notification_id()
    assert follow(app, store_url, batch_size=100) == total
    first = dump(store_url)
    assert follow(app, store_url) == 0
    assert dump(store_url) == first
    assert position(store_url) == total


def test_it_resumes_from_its_position_and_matches_a_rebuild(
    app: JourneyApplication, store_url: str
) -> None:
    load(app, cohort(6, seed=1, prefix="a"))
    before = app.recorder.max_notification_id()
    follow(app, store_url, batch_size=64)
    load(app, cohort(6, seed=2, prefix="b"))
    after = app.recorder.max_notification_id()
    assert follow(app, store_url, batch_size=64) == after - before
    incremental = dump(store_url)
    assert rebuilt(app, store_url) == incremental
    assert len(incremental["rm_patients"]) == 12


def test_replaying_from_position_zero_counts_nothing_twice(
    app: JourneyApplication, store_url: str
) -> None:
    """Even with its position lost, the per-patient versions stop double counting."""
    load(app, cohort(5, seed=9))
    follow(app, store_url)
    first = dump(store_url)
    table = "tracking" if store_url.startswith("sqlite") else "readmodels_tracking"
    rows(store_url, f"DELETE FROM {table} WHERE application_name = ? RETURNING 1", [TRACKED])
    assert position(store_url) is None
    assert follow(app, store_url) == app.recorder.max_notification_id()
    assert dump(store_url) == first


def test_the_cli_follows_then_rebuilds(app: JourneyApplication, store_url: str) -> None:
    load(app, cohort(4, seed=6))
    env = {**os.environ, "JOURNEY_DATABASE_URL": store_url}
    env.pop("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", None)  # the log is the default source then
    for args in (["--once"], ["--rebuild", "--once"]):
        done = subprocess.run(
            [sys.executable, "-m", "interfaces", "project", *args],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"projected {app.recorder.max_notification_id()} events from the log" in done.stderr
    assert dump(store_url) == rebuilt(app, store_url)
