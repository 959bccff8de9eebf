"""Erasure on a real broker: the relay, following the log, ends the erased patient's
summaries on the compacted state topic with a tombstone (null value), read back by kcat."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eventsourcing.cryptography import AESCipher
from publishing.relay import Relay, RelayConfig
from publishing.topics import TopicNames

from infrastructure.erasure import erase_patient
from journey.application import JourneyApplication
from tests.kafka.helpers import cohort_lines, load, read_with_kcat

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


def test_the_state_topic_gets_a_tombstone_for_an_erased_patient(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app(cipher_key=AESCipher.create_key(32))
    load(app, cohort_lines(60, patients=3, prefix="erase"))
    topics = private_topics("erasure")
    config = RelayConfig(bootstrap=kafka_bootstrap, topics=topics, batch_size=25)
    Relay(app, config).run(once=True)
    erased = "erase-000001"
    erase_patient(app, erased, "patient request", actor="admin")
    Relay(app, config).run(once=True)
    state = [m for m in read_with_kcat(kafka_bootstrap, topics.state) if m["key"] == erased]
    assert len(state) >= 2 and state[-1]["payload"] is None
    assert all(m["payload"] is not None for m in state[:-1])
    events = [m for m in read_with_kcat(kafka_bootstrap, topics.events) if m["key"] == erased]
    assert events and all(m["payload"] is not None for m in events)  # no event after erasure


def test_a_slice_of_only_erased_events_does_not_stop_the_relay_early(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app(cipher_key=AESCipher.create_key(32))
    load(app, cohort_lines(40, patients=1, prefix="gone"))
    erase_patient(app, "gone-000001", "patient request", actor="admin")
    load(app, cohort_lines(10, patients=1, prefix="kept"))
    topics = private_topics("erased-slices")
    config = RelayConfig(bootstrap=kafka_bootstrap, topics=topics, batch_size=10)
    report = Relay(app, config).run(once=True)
    assert report.lag is not None and report.lag.behind == 0
    keys = {m["key"] for m in read_with_kcat(kafka_bootstrap, topics.events)}
    assert keys == {"kept-000001"}
