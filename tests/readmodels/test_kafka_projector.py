"""The Kafka projector on a real broker: the same rows as the log follower, redelivered
records change nothing, it resumes from the offsets stored with the rows, and a projector
killed right after a database commit, then restarted, counts no event twice."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from journey.application import JourneyApplication
from services.bootstrap import build_application
from tests.readmodels.kafka_support import (
    new_topic,
    produce_log,
    project_once,
    share_pseudonym_key,
)
from tests.readmodels.support import cohort, dump, load, rebuilt, rows

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[tuple[JourneyApplication, str]]:
    """A store holding a small demo cohort, its read models rebuilt from the log."""
    url = f"sqlite:///{tmp_path}/events.db"
    app = build_application(Settings(database_url=url))
    load(app, cohort(20, seed=4))
    rebuilt(app, url)
    yield app, url
    app.close()


def _group() -> str:
    return f"rm-test-{uuid.uuid4().hex[:8]}"


def test_projecting_the_topic_gives_the_log_followers_rows(
    source: tuple[JourneyApplication, str], kafka_bootstrap: str, store_url: str
) -> None:
    app, url = source
    topic = new_topic(kafka_bootstrap)
    total = produce_log(app, kafka_bootstrap, topic)
    share_pseudonym_key(url, store_url)
    assert project_once(store_url, kafka_bootstrap, topic, _group(), batch_size=200) == total
    assert dump(store_url) == dump(url)
    assert rows(store_url, "SELECT COUNT(*) FROM rm_seen_events") == [(total,)]


def test_redelivered_records_change_nothing(
    source: tuple[JourneyApplication, str], kafka_bootstrap: str, tmp_path: Path
) -> None:
    app, url = source
    target = f"sqlite:///{tmp_path}/target.db"
    topic = new_topic(kafka_bootstrap)
    total = produce_log(app, kafka_bootstrap, topic) + produce_log(app, kafka_bootstrap, topic)
    share_pseudonym_key(url, target)
    assert project_once(target, kafka_bootstrap, topic, _group()) == total
    assert dump(target) == dump(url)
    assert rows(target, "SELECT COUNT(*) FROM rm_seen_events") == [(total // 2,)]


def test_it_resumes_from_the_offsets_stored_with_the_rows(
    source: tuple[JourneyApplication, str], kafka_bootstrap: str, tmp_path: Path
) -> None:
    app, url = source
    target, group = f"sqlite:///{tmp_path}/target.db", _group()
    topic = new_topic(kafka_bootstrap)
    first = produce_log(app, kafka_bootstrap, topic)
    share_pseudonym_key(url, target)
    assert project_once(target, kafka_bootstrap, topic, group) == first
    load(app, cohort(3, seed=8, prefix="late"))
    more = produce_log(app, kafka_bootstrap, topic, start=first + 1)
    assert project_once(target, kafka_bootstrap, topic, group) == more
    assert dump(target) == rebuilt(app, url)
    # An empty store (a rebuild) ignores the group's Kafka offsets: it starts from the beginning.
    fresh = f"sqlite:///{tmp_path}/fresh.db"
    assert project_once(fresh, kafka_bootstrap, topic, group) == first + more


def _project(url: str, bootstrap: str, topic: str, group: str, **env: str) -> int:
    args = ["project", "--source", "kafka", "--once", "--topic", topic, "--group", group]
    environment = {**os.environ, "JOURNEY_DATABASE_URL": url, **env}
    environment["JOURNEY_KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    completed = subprocess.run(
        [sys.executable, "-m", "interfaces", *args, "--batch-size", "100"],
        cwd=ROOT, env=environment, timeout=120, check=False, capture_output=True,
    )  # fmt: skip
    return completed.returncode


def test_a_projector_killed_after_a_commit_counts_nothing_twice(
    source: tuple[JourneyApplication, str], kafka_bootstrap: str, tmp_path: Path
) -> None:
    app, url = source
    target, group = f"sqlite:///{tmp_path}/target.db", _group()
    topic = new_topic(kafka_bootstrap)
    total = produce_log(app, kafka_bootstrap, topic)
    share_pseudonym_key(url, target)
    crash = {"JOURNEY_PROJECTOR_CRASH_AFTER_BATCHES": "3"}
    assert _project(target, kafka_bootstrap, topic, group, **crash) == 137
    [(stored,)] = rows(target, "SELECT SUM(next_offset) FROM rm_kafka_offsets")
    assert 0 < stored < total
    assert _project(target, kafka_bootstrap, topic, group) == 0
    assert dump(target) == dump(url)
    assert rows(target, "SELECT SUM(next_offset) FROM rm_kafka_offsets") == [(total,)]


def test_an_erased_patients_events_on_the_topic_never_come_back(
    kafka_bootstrap: str, store_url: str
) -> None:
    """The events topic keeps an erased patient's events until its retention: after a
    rebuild, the Kafka projector re-reading the topic skips them."""
    from eventsourcing.cryptography import AESCipher

    from consumers.projector import KafkaProjector, make_consumer, run_projector
    from infrastructure.erasure import erase_patient
    from infrastructure.sql import connect

    key = AESCipher.create_key(32)
    app = build_application(Settings(database_url=store_url, cipher_key=key))
    try:
        load(app, cohort(6, seed=4))
        topic = new_topic(kafka_bootstrap)
        total = produce_log(app, kafka_bootstrap, topic)
        erase_patient(app, "demo-000002", "patient request", actor="admin")
        before = rebuilt(app, store_url)  # from the log: without the erased patient
        assert len(before["rm_patients"]) == 5
        group = _group()
        db, consumer = connect(store_url), make_consumer(kafka_bootstrap, group)
        try:
            projector = KafkaProjector(consumer, db, topic, group, cipher_key=key)
            assert run_projector(projector, once=True) == total
        finally:
            consumer.close()
            db.close()
        assert dump(store_url) == before
    finally:
        app.close()
