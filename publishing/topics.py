"""The downstream topics (SPEC section 8): their names and how they are created.

Names default to the SPEC's; the relay takes them as a parameter so tests and benchmarks can
use private topics on a shared broker. Configs:
- events: `EVENTS_PARTITIONS` partitions keyed by patient id (per-patient order), kept
  forever (`retention.ms=-1`): the topic is the downstream replayable history;
- state: compacted (`cleanup.policy=compact`), the latest summary per patient;
- anchors: one partition, compacted, the latest anchor head per store (publishing.anchor_head
  says why), a week of heads kept before compaction (`min.compaction.lag.ms`);
- all: `min.insync.replicas` = replication factor - 1 (at least 1), so acks=all survives
  one broker down in a replicated cluster (1 on the single local broker).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# the SPEC's names (no import of the publishing code: the command line shows them in --help)
EVENTS_TOPIC = "care-journey.events.v1"
STATE_TOPIC = "care-journey.state.v1"
ANCHORS_TOPIC = "care-journey.anchors.v1"
EVENTS_PARTITIONS = 6
STATE_PARTITIONS = 6
ANCHORS_PARTITIONS = 1  # the latest head is the partition's last record
HEADS_KEPT_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicNames:
    events: str = EVENTS_TOPIC
    state: str = STATE_TOPIC
    anchors: str = ANCHORS_TOPIC


def topic_configs(replication_factor: int = 1) -> tuple[dict[str, str], dict[str, str]]:
    """(events topic config, state topic config)."""
    min_isr = str(max(1, replication_factor - 1))
    events = {"cleanup.policy": "delete", "retention.ms": "-1", "min.insync.replicas": min_isr}
    state = {
        "cleanup.policy": "compact",
        "min.insync.replicas": min_isr,
        "min.cleanable.dirty.ratio": "0.1",
        "segment.ms": "3600000",
    }
    return events, state


def anchors_config(replication_factor: int = 1) -> dict[str, str]:
    return {
        "cleanup.policy": "compact",
        "min.insync.replicas": str(max(1, replication_factor - 1)),
        "min.compaction.lag.ms": str(HEADS_KEPT_MS),
        "segment.ms": "86400000",
    }


def topic_specs(names: TopicNames, replication_factor: int = 1) -> dict[str, dict[str, Any]]:
    """kafka-python 3 `create_topics` options per topic name."""
    events, state = topic_configs(replication_factor)
    rf = replication_factor
    return {
        names.events: {
            "num_partitions": EVENTS_PARTITIONS,
            "replication_factor": rf,
            "configs": events,
        },
        names.state: {
            "num_partitions": STATE_PARTITIONS,
            "replication_factor": rf,
            "configs": state,
        },
        names.anchors: {
            "num_partitions": ANCHORS_PARTITIONS,
            "replication_factor": rf,
            "configs": anchors_config(rf),
        },
    }


def ensure_topics(bootstrap: str, names: TopicNames, replication_factor: int = 1) -> list[str]:
    """Creates the topics that are missing; returns the names created. Raises KafkaError
    (e.g. NoBrokersAvailable) when the broker cannot be reached."""
    from kafka import KafkaAdminClient  # noqa: PLC0415 - not on every CLI start
    from kafka.errors import TopicAlreadyExistsError  # noqa: PLC0415

    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=10_000, bootstrap_timeout_ms=10_000
    )
    try:
        existing = set(admin.list_topics())
        specs = topic_specs(names, replication_factor)
        created: list[str] = []
        for name in [n for n in specs if n not in existing]:
            try:
                admin.create_topics({name: specs[name]}, wait_for_metadata=True)
            except TopicAlreadyExistsError:  # created concurrently by another relay
                continue
            created.append(name)
        return created
    finally:
        admin.close()


def delete_topics(bootstrap: str, names: Iterable[TopicNames]) -> list[str]:
    """Deletes the topics of `names` that exist (a test's or a benchmark's own); returns the
    names deleted. Every producer of them should be closed first: kafka-python spins a core
    refreshing a deleted topic (benchmarks/producer_deleted_topic.py)."""
    from kafka import KafkaAdminClient  # noqa: PLC0415 - not on every CLI start

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        existing = set(admin.list_topics())
        found = [n for t in names for n in (t.events, t.state, t.anchors) if n in existing]
        if found:
            admin.delete_topics(found)
        return found
    finally:
        admin.close()
