"""Fixtures of the Kafka tests: private topic names on the shared broker, deleted afterwards."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import pytest
from kafka.errors import KafkaError

from publishing.topics import TopicNames, delete_topics
from tests.kafka.helpers import unique_topics


@pytest.fixture
def private_topics(kafka_bootstrap: str) -> Iterator[Callable[[str], TopicNames]]:
    """Makes unique topic names for a test; the topics are deleted after it."""
    made: list[TopicNames] = []

    def make(label: str) -> TopicNames:
        made.append(unique_topics(label))
        return made[-1]

    yield make
    with contextlib.suppress(KafkaError):  # cleanup only: the test already passed or failed
        delete_topics(kafka_bootstrap, made)


PRODUCER_THREAD = "care-journey-relay-network-thread"  # kafka-python's, for our client_id


@pytest.fixture(autouse=True)
def no_producer_left_open() -> Iterator[None]:
    """No relay producer outlives its test. One left open spins a core once its topics are
    deleted (kafka-python refreshes the metadata of a deleted topic in a busy loop, 5
    minutes later: benchmarks/producer_deleted_topic.py), slowing every later test. A
    producer freed with the test's locals is closed by kafka-python itself (`__del__`); this
    catches the ones something still holds (checked with a publisher kept in a global)."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.name == PRODUCER_THREAD]
    assert not left, f"{len(left)} relay producer(s) left open"
