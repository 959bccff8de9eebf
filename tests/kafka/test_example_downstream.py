"""The README's downstream consumer: importing it connects to nothing (it is in an installed
package), and run against a real broker it hands each event on once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic

from consumers import example_downstream
from publishing.topics import TopicNames

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_example_connects_to_nothing() -> None:
    """A listening socket given as the bootstrap address must see no connection at import
    (the module used to build its consumer and loop over it at import time)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        code = (
            f"import sys; sys.argv = ['example', '127.0.0.1:{port}'];"
            " import consumers.example_downstream"
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", code],
            check=False,
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr.decode()
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody knocked


@pytest.mark.kafka
@pytest.mark.xdist_group("kafka")
def test_the_example_hands_each_event_on_once(
    kafka_bootstrap: str, private_topics: Callable[[str], TopicNames]
) -> None:
    topic = private_topics("example").events
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for ce_id, subject in (("e-1", "p-1"), ("e-2", "p-2"), ("e-1", "p-1")):  # e-1 redelivered
        headers = [("ce_id", ce_id.encode()), ("ce_type", b"PatientAdmitted")]
        producer.send(topic, b"{}", headers=[*headers, ("ce_subject", subject.encode())])
    producer.flush()
    producer.close()

    consumer = example_downstream.connect(
        kafka_bootstrap, topic=topic, group_id=f"example-{uuid.uuid4().hex}", idle_ms=5_000
    )
    handled: list[tuple[str, str]] = []
    try:
        example_downstream.consume(consumer, set(), lambda kind, s: handled.append((kind, s)))
    finally:
        consumer.close()
    assert handled == [("PatientAdmitted", "p-1"), ("PatientAdmitted", "p-2")]
