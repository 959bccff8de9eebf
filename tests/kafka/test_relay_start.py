"""A relay's start: the producer connects to every topic, and the head published last is read
from the anchors topic while it does (publishing.relay, `_ready_publisher`). Reading the
head beside the connection must not weaken the check it feeds: a head that cannot be read
stops the relay before anything is sent, and the head that is read is the one checked."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from kafka import KafkaProducer

from journey.application import JourneyApplication
from publishing.anchor_head import HeadUnavailable
from publishing.relay import Relay, RelayConfig
from publishing.relay_heads import AnchorMissing
from publishing.topics import TopicNames, ensure_topics
from tests.kafka.helpers import cohort_lines, load, read_records

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


def put_on_anchors(bootstrap: str, topic: str, key: str, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        producer.send(topic, key=key.encode(), value=value).get(timeout=30)
    finally:
        producer.close()


def nothing_published(bootstrap: str, topics: TopicNames, anchors_before: int) -> None:
    assert read_records(bootstrap, topics.events, timeout_s=1.0) == []
    assert read_records(bootstrap, topics.state, timeout_s=1.0) == []
    assert len(read_records(bootstrap, topics.anchors, timeout_s=1.0)) == anchors_before


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_record_on_the_anchors_topic_that_is_no_head_stops_the_relay_before_any_send(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    """An insider (or a bug elsewhere) writes a record under the store's key that is not a
    head: the relay cannot tell which head it must extend, so it publishes nothing."""
    app = make_app()
    load(app, cohort_lines(30, patients=2, prefix="start"))
    topics = private_topics("start-junk")
    ensure_topics(kafka_bootstrap, topics)
    put_on_anchors(kafka_bootstrap, topics.anchors, app.name, b'{"not": "a head"}')
    relay = Relay(app, RelayConfig(kafka_bootstrap, topics, create_topics=False))
    try:
        with pytest.raises(HeadUnavailable, match="is no head"):
            relay.step()
    finally:
        relay.close()
    assert relay.position.get() == 0
    nothing_published(kafka_bootstrap, topics, anchors_before=1)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_head_read_at_start_is_the_one_checked(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    """The anchors topic's latest head for this store no longer matches the store's anchor
    at its position (the log was rewritten, or the head forged): a relay started afresh
    (position 0 of a new events topic) reads that head while it connects, and refuses
    the log instead of publishing it."""
    app = make_app()
    load(app, cohort_lines(30, patients=2, prefix="start"))
    topics = private_topics("start-head")
    Relay(make_app(), RelayConfig(kafka_bootstrap, topics)).run(once=True)
    heads = len(read_records(kafka_bootstrap, topics.anchors, timeout_s=1.0))
    assert heads == 1
    head = read_records(kafka_bootstrap, topics.anchors, timeout_s=1.0)[0][1]
    fresh = TopicNames(f"{topics.events}.again", topics.state, topics.anchors)
    put_on_anchors(kafka_bootstrap, topics.anchors, app.name, rewritten_head(head.value))
    relay = Relay(app, RelayConfig(kafka_bootstrap, fresh))
    try:
        with pytest.raises(AnchorMissing, match="differs from the head published"):
            relay.step()
    finally:
        relay.close()
    assert read_records(kafka_bootstrap, fresh.events, timeout_s=1.0) == []
    assert len(read_records(kafka_bootstrap, topics.anchors, timeout_s=1.0)) == heads + 1


def rewritten_head(value: bytes) -> bytes:
    """The head with another running hash (what the topic says the store held)."""
    head = json.loads(value)
    head["running_hash"] = "f" * len(head["running_hash"])
    return json.dumps(head).encode()
