"""The anchor head topic `care-journey.anchors.v1` (SPEC sections 8 and 10).

After each batch the relay publishes the head of the log up to the batch's last event: its
position, the running hash of the anchors there (audit.anchors), that event's patient and
version, the number of events up to it and when it was published. A store whose log is
shorter than the latest head, or whose anchor at its position differs, was truncated or
rewritten: `journey verify --all` checks that.

Topic design: ONE partition, key = the store's name (the application name), compacted.
Verify needs the latest head only, and it is the partition's last record (a compacted topic
always keeps the latest record of a key; the head is re-published, never rewound). Keeping
every head forever would grow the topic by one record per relay batch (thousands an hour
on a busy store) for no check that the latest head does not already make: its running
hash covers every event before it. `min.compaction.lag.ms` keeps a week of heads readable
(when did the log still have position P?); the exported anchors (`journey anchors --out`)
are the complete history to keep off-site."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from journey.values import UtcInstant
from publishing.cloudevents import CONTENT_TYPE, KafkaRecord

if TYPE_CHECKING:  # imported where used: kafka is not loaded on every CLI start
    from kafka import KafkaConsumer, TopicPartition

HEAD_TYPE, HEAD_VERSION = "AnchorHead", 1
SCAN_WINDOW = 200  # records read backwards at a time when other stores share the topic


class AnchorHead(BaseModel):
    """The anchor head of a store's log, as published after a relay batch."""

    model_config = ConfigDict(extra="forbid", frozen=True, title=HEAD_TYPE)

    store: str = Field(min_length=1, description="the store's name (also the record key)")
    position: int = Field(ge=1, description="log position (notification id) of the head")
    running_hash: str = Field(
        pattern="^[0-9a-f]{64}$", description="the anchors' running SHA-256 at that position"
    )
    patient_id: str = Field(min_length=1, description="patient of the event at that position")
    version: int = Field(ge=1, description="that event's version in its patient's stream")
    events: int = Field(ge=1, description="events in the log up to and including the head")
    published_at: UtcInstant = Field(description="when the relay published the head")


class HeadUnavailable(RuntimeError):
    """The broker could not be asked for the latest head (unreachable, timed out)."""


def head_record(head: AnchorHead) -> KafkaRecord:
    return KafkaRecord(
        key=head.store.encode(),
        value=head.model_dump_json().encode(),
        headers=[("content-type", CONTENT_TYPE.encode())],
    )


def latest_head(
    bootstrap: str, topic: str, store: str, *, timeout_s: float = 10.0
) -> AnchorHead | None:
    """The latest head the store published on `topic`; None when it published none (or the
    topic does not exist). Raises HeadUnavailable when the broker cannot be read."""
    from kafka import KafkaConsumer, TopicPartition  # noqa: PLC0415 - not on every CLI start
    from kafka.errors import KafkaError  # noqa: PLC0415

    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            isolation_level="read_committed",
            allow_auto_create_topics=False,
            request_timeout_ms=int(timeout_s * 1000) + 1000,
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError as error:
        raise HeadUnavailable(f"{type(error).__name__}: {error}") from error
    try:
        if not consumer.partitions_for_topic(topic):
            return None
        return _read_backwards(consumer, TopicPartition(topic, 0), store, timeout_s)
    except KafkaError as error:
        raise HeadUnavailable(f"{type(error).__name__}: {error}") from error
    finally:
        consumer.close()


def _read_backwards(
    consumer: KafkaConsumer, part: TopicPartition, store: str, timeout_s: float
) -> AnchorHead | None:
    timeout_ms = int(timeout_s * 1000)
    consumer.assign([part])
    first = consumer.beginning_offsets([part], timeout_ms=timeout_ms)[part]
    end = consumer.end_offsets([part], timeout_ms=timeout_ms)[part]
    while end > first:
        start = max(first, end - SCAN_WINDOW)
        consumer.seek(part, start)
        found: AnchorHead | None = None
        deadline = time.monotonic() + timeout_s
        while consumer.position(part) < end:
            if time.monotonic() > deadline:
                raise HeadUnavailable(f"timed out reading {part.topic} from offset {start}")
            for record in consumer.poll(timeout_ms=500).get(part, []):
                if record.offset < end and record.key == store.encode():
                    found = _head(record.value, part.topic, record.offset)
        if found is not None:
            return found
        end = start
    return None


def _head(value: bytes, topic: str, offset: int) -> AnchorHead:
    try:
        return AnchorHead.model_validate_json(value)
    except ValidationError as error:
        raise HeadUnavailable(
            f"the record at {topic} offset {offset} is no head: {error}"
        ) from None
