"""Helpers for the Kafka tests: load commands, private topics, read a topic to its end."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from devtools.demo.cohort import generate_cohort
from journey.application import JourneyApplication
from publishing.topics import TopicNames
from services.importing import import_lines

UNTIL = date(2026, 11, 1)


@dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str
    headers: dict[str, str]
    value: dict[str, object]


def unique_topics(label: str) -> TopicNames:
    prefix = f"test.{label}.{uuid.uuid4().hex[:10]}"
    return TopicNames(
        events=f"{prefix}.events", state=f"{prefix}.state", anchors=f"{prefix}.anchors"
    )


def cohort_lines(commands: int, *, patients: int, seed: int = 3, prefix: str = "kt") -> list[str]:
    stream: Iterator[dict[str, object]] = generate_cohort(
        patients, seed=seed, until=UNTIL, id_prefix=prefix
    )
    return [json.dumps(c) for c in islice(stream, commands)]


def load(app: JourneyApplication, lines: list[str]) -> int:
    """Applies the commands; returns how many events were stored."""
    report = import_lines(app, lines, continue_on_error=True)
    assert not report.rejected, report.rejected[:3]
    return report.accepted


def read_records(
    bootstrap: str, topic: str, timeout_s: float = 60.0
) -> list[tuple[int, ConsumerRecord]]:
    """Every record of `topic` as stored (partition, record), from the beginning to the end
    offsets seen at the start, in partition then offset order."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: list[tuple[int, ConsumerRecord]] = []
        while any(consumer.position(p) < ends[p] for p in parts):
            for tp, records in consumer.poll(timeout_ms=int(timeout_s * 1000)).items():
                out += [(tp.partition, r) for r in records]
        return sorted(out, key=lambda found: (found[0], found[1].offset))
    finally:
        consumer.close()


def read_topic(bootstrap: str, topic: str, timeout_s: float = 60.0) -> list[Message]:
    """Every record of `topic`, decoded (key, headers, JSON value)."""
    return [_message(topic, p, r) for p, r in read_records(bootstrap, topic, timeout_s)]


def _message(topic: str, partition: int, r: ConsumerRecord) -> Message:
    return Message(
        topic=topic,
        partition=partition,
        offset=r.offset,
        key=r.key.decode(),
        headers={k: v.decode() for k, v in r.headers},
        value=json.loads(r.value),
    )


def read_with_kcat(bootstrap: str, topic: str) -> list[dict[str, object]]:
    """The same topic read by an independent client (librdkafka's kcat), as JSON lines."""
    done = subprocess.run(
        ["kcat", "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
