"""Broker down: the relay retries with back-off and never advances its position, commands
are still accepted; once the broker is back the relay drains the lag to zero.

Runs on a private broker (tests/kafka/private_broker.py): the shared one is never stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from publishing.relay import Relay, RelayConfig, RelayReport

from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from tests.kafka.helpers import cohort_lines, load, read_topic, unique_topics
from tests.kafka.private_broker import private_broker

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_broker_down_then_back_drains_the_lag(
    make_app: Callable[..., JourneyApplication], tmp_path: Path
) -> None:
    app = make_app()
    lines = cohort_lines(600, patients=15, seed=9)
    with private_broker(tmp_path / "broker") as broker:
        topics = unique_topics("down")
        config = RelayConfig(
            bootstrap=broker.bootstrap, topics=topics, batch_size=100,
            backoff_initial_s=0.2, backoff_max_s=1.0, delivery_timeout_s=5.0,
        )  # fmt: skip
        relay = Relay(app, config)
        stop = threading.Event()
        reports: list[RelayReport] = []
        runner = threading.Thread(target=lambda: reports.append(relay.run(stop=stop)))
        runner.start()
        try:
            first = load(app, lines[:200])
            wait_until(lambda: relay.position.lag().behind == 0, 60, "the first drain")
            broker.stop()
            second = load(app, lines[200:])  # the write path never touches Kafka
            wait_until(lambda: relay.report.failures >= 1, 60, "a failed attempt")
            assert relay.position.get() == first  # never advanced while down
            broker.start()
            wait_until(lambda: relay.position.lag().behind == 0, 90, "the drain after restart")
        finally:
            stop.set()
            runner.join(timeout=60)
        assert reports and reports[0].lag is not None and reports[0].lag.behind == 0
        published = {m.headers["ce_id"] for m in read_topic(broker.bootstrap, topics.events)}
    notifications = app.recorder.select_notifications(start=1, limit=first + second + 1)
    expected = {to_envelope(app.mapper.to_domain_event(n)).event_id for n in notifications}  # type: ignore[arg-type]
    assert len(expected) == first + second
    assert published == expected
