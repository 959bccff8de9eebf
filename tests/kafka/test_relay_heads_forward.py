"""A relay that resumes behind the anchor head already published (its position written
before its last heads were: the position is written by a thread of its own) re-publishes
the events but no head until it passes that head: the latest head never moves back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from config.settings import Settings
from publishing.relay import Relay, RelayConfig
from publishing.topics import TopicNames
from services.bootstrap import build_application
from tests.kafka.helpers import cohort_lines, load, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


def test_heads_never_move_backwards(
    tmp_path: Path, kafka_bootstrap: str, private_topics: Callable[[str], TopicNames]
) -> None:
    app = build_application(Settings(database_url=f"sqlite:///{tmp_path}/heads.db"))
    stored = load(app, cohort_lines(600, patients=12, seed=4))
    first = private_topics("ahead")
    Relay(app, RelayConfig(kafka_bootstrap, first, batch_size=100)).run(once=True)
    # A relay at position 0 (another events topic) on the same anchors topic: behind.
    behind = replace(private_topics("behind"), anchors=first.anchors)
    report = Relay(app, RelayConfig(kafka_bootstrap, behind, batch_size=100)).run(once=True)
    app.close()
    assert report.events == stored and report.batches == -(-stored // 100)
    assert report.heads == 1  # only at the head already published (re-published)
    positions = [int(m.value["position"]) for m in read_topic(kafka_bootstrap, first.anchors)]  # type: ignore[call-overload]
    assert positions == sorted(positions) and positions[-1] == stored
