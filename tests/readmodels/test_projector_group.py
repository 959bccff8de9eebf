"""A group of 3 Kafka projectors on PostgreSQL, one killed with SIGKILL mid-stream and
restarted: after the rebalance the read models equal a `journey replay` (SPEC 9, issue 10).

Everything is real and in subprocesses, as an operator runs it: demo events bulk-loaded into
a PostgreSQL store, `journey relay --once` publishing them to a fresh topic, three
`journey project --source kafka` in one consumer group writing the store's rm_ tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from config.settings import Settings
from devtools.demo.bulk import bulk_load_cohort
from tests.readmodels.support import rows

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.xdist_group("kafka")]
ROOT = Path(__file__).resolve().parents[2]
PATIENTS = 60
PROJECTORS = 3


def _env(url: str, bootstrap: str) -> dict[str, str]:
    return {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_KAFKA_BOOTSTRAP_SERVERS": bootstrap}


def _journey(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interfaces", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _projector(env: dict[str, str], topic: str, group: str, log: Path) -> subprocess.Popen[Any]:
    args = [
        "project",
        "--source",
        "kafka",
        "--topic",
        topic,
        "--group",
        group,
        "--batch-size",
        "50",
    ]
    with log.open("a") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "interfaces", *args],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _applied(url: str) -> int:
    """Events applied by the group so far (0 until a projector created the tables)."""
    try:
        return int(rows(url, "SELECT COUNT(*) FROM rm_seen_events")[0][0])
    except psycopg.errors.UndefinedTable:
        return 0


def _wait(condition: Any, seconds: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            output = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)
            pytest.fail(f"timed out waiting for {what}\n{output}")
        time.sleep(0.2)


def test_a_projector_killed_mid_stream_leaves_read_models_equal_to_a_replay(
    fresh_postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    url, tag = fresh_postgres_url, uuid.uuid4().hex[:8]
    report = bulk_load_cohort(
        PATIENTS, until=date(2026, 3, 1), seed=13, settings=Settings(database_url=url), workers=0
    )
    total = report.accepted
    env = _env(url, kafka_bootstrap)
    topic, group = f"rm-group-events-{tag}", f"rm-group-{tag}"
    relayed = _journey(env, "relay", "--once", "--events-topic", topic,
                       "--state-topic", f"rm-group-state-{tag}",
                       "--anchors-topic", f"rm-group-anchors-{tag}")  # fmt: skip
    assert relayed.returncode == 0, relayed.stderr
    logs = [tmp_path / f"projector-{i}.log" for i in range(PROJECTORS)]
    group_of = [_projector(env, topic, group, logs[i]) for i in range(PROJECTORS)]
    try:
        _wait(lambda: _applied(url) >= total // 4, 60, "a quarter of the events", logs)
        victim = group_of[0]
        assert victim.poll() is None, logs[0].read_text()
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
        assert _applied(url) < total, "the projectors finished before the kill: add events"
        group_of[0] = _projector(env, topic, group, logs[0])
        _wait(lambda: _applied(url) == total, 90, f"all {total} events applied", logs)
        for process in group_of:
            assert process.poll() is None, "\n".join(p.read_text()[-3000:] for p in logs)
    finally:
        for process in group_of:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in group_of:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    assert [p.returncode for p in group_of] == [0] * PROJECTORS, [p.read_text() for p in logs]
    replayed = _journey(env, "replay", "--workers", "1")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "differ" not in replayed.stdout.lower()
