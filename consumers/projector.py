"""The Kafka projector: a thin broker loop around `apply_events`.

The database, not Kafka, holds the truth about progress: each polled batch is applied and
the next offsets are upserted into rm_kafka_offsets in ONE transaction; on assignment the
consumer seeks to those stored offsets (or to the beginning when none are stored, e.g. after
a rebuild). Committing to Kafka afterwards is for lag monitoring only. An event whose ce_id
is in rm_seen_events is skipped, and so is one whose version the patient row already holds."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition

from consumers.projector_hooks import CrashHook
from infrastructure.pseudonym_keys import Pseudonymizer, db_pseudonymizer
from infrastructure.sql import Database, Unit
from projections.read_models.handlers import apply_events
from projections.read_models.positions import claim_events, save_offsets, stored_offsets
from projections.read_models.schema import create_tables
from publishing.cloudevents import envelope_from_record, header_map
from publishing.topics import EVENTS_TOPIC

GROUP_ID = "care-journey-projector"
BATCH_SIZE = 500
ASSIGNMENT_TIMEOUT_SECONDS = 60.0


class ProjectorError(RuntimeError):
    """The projector cannot make progress (e.g. no partition assigned in time)."""


def make_consumer(bootstrap_servers: str, group_id: str = GROUP_ID) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,  # a killed projector's partitions move on within 10 s
        heartbeat_interval_ms=3_000,
    )


class SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, positions each partition at the offset stored with the read models."""

    def __init__(self, consumer: KafkaConsumer, db: Database, group_id: str) -> None:
        self.consumer, self.db, self.group_id = consumer, db, group_id

    def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        """Nothing to flush: every applied batch is already committed with its offsets."""

    def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        with self.db.transaction() as unit:
            stored = {
                t: stored_offsets(unit, self.group_id, t) for t in {p.topic for p in assigned}
            }
        for tp in assigned:
            offset = stored[tp.topic].get(tp.partition)
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)


def apply_records(unit: Unit, records: Sequence[Any], pseudonyms: Pseudonymizer) -> int:
    """Applies records of the events topic in order (pseudonymized for the read models),
    skipping those whose ce_id was seen (redeliveries); returns how many were applied."""
    raw = []
    for record in records:
        envelope = envelope_from_record(record.value)
        raw.append((header_map(record.headers or []).get("ce_id", envelope.event_id), envelope))
    erased = erased_patients(unit, {envelope.patient_id for _, envelope in raw})
    decoded = [(ce_id, pseudonyms(e)) for ce_id, e in raw if e.patient_id not in erased]
    fresh = claim_events(unit, [ce_id for ce_id, _ in decoded])
    chosen = []
    for ce_id, envelope in decoded:
        if ce_id in fresh:
            fresh.discard(ce_id)  # a second copy in the same batch is a duplicate too
            chosen.append(envelope)
    return apply_events(unit, chosen)


def erased_patients(unit: Unit, patient_ids: set[str]) -> set[str]:
    """Those of the patients that were erased in this store (`journey_keys`): the events
    topic still holds their events (until its retention), which must never come back into
    the read models. A read-model database without the key table knows of no erasure."""
    if not patient_ids:
        return set()
    exists = (
        "SELECT to_regclass('journey_keys') IS NOT NULL"
        if unit.dialect.name == "postgresql"
        else "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'journey_keys'"
    )
    row = unit.one(exists)
    if row is None or not row[0]:
        return set()
    ids = sorted(patient_ids)
    marks = ", ".join("?" * len(ids))
    found = unit.all(
        "SELECT patient_id FROM journey_keys"
        f" WHERE erased_at IS NOT NULL AND patient_id IN ({marks})",
        ids,
    )
    return {str(r[0]) for r in found}


def apply_batch(
    db: Database,
    group_id: str,
    batch: Mapping[TopicPartition, Sequence[Any]],
    pseudonyms: Pseudonymizer,
) -> dict[TopicPartition, int]:
    """Applies a polled batch and stores the next offsets in one transaction."""
    next_offsets = {tp: records[-1].offset + 1 for tp, records in batch.items() if records}
    with db.transaction() as unit:
        for records in batch.values():
            apply_records(unit, records, pseudonyms)
        for tp, offset in next_offsets.items():
            save_offsets(unit, group_id, tp.topic, {tp.partition: offset})
    return next_offsets


@dataclass
class KafkaProjector:
    consumer: KafkaConsumer
    db: Database
    topic: str = EVENTS_TOPIC
    group_id: str = GROUP_ID
    batch_size: int = BATCH_SIZE
    crash: CrashHook = field(default_factory=CrashHook)
    records: int = 0
    cipher_key: str | None = None  # the store's JOURNEY_CIPHER_KEY: the pseudonyms' key
    pseudonyms: Pseudonymizer | None = None

    def start(self) -> None:
        self.pseudonyms = db_pseudonymizer(self.db, self.cipher_key)
        with self.db.transaction() as unit:
            create_tables(unit)
        listener = SeekToStored(self.consumer, self.db, self.group_id)
        self.consumer.subscribe([self.topic], listener=listener)

    def step(self) -> int:
        """Polls once and applies what came; returns the number of records."""
        batch = self.consumer.poll(timeout_ms=500, max_records=self.batch_size)
        if not batch:
            return 0
        assert self.pseudonyms is not None, "start() first"
        offsets = apply_batch(self.db, self.group_id, batch, self.pseudonyms)
        self.crash.batch_committed()
        self.consumer.commit_async({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
        count = sum(len(records) for records in batch.values())
        self.records += count
        return count

    def caught_up(self) -> bool:
        """True when every assigned partition is read to its end offset."""
        assigned = list(self.consumer.assignment())
        if not assigned:
            return False
        ends = self.consumer.end_offsets(assigned)
        return all(self.consumer.position(tp) >= ends[tp] for tp in assigned)


def run_projector(
    projector: KafkaProjector, *, once: bool, stop: threading.Event | None = None
) -> int:
    """Consumes until `stop` is set, or with `once` until caught up; returns records read."""
    stop = stop or threading.Event()
    projector.start()
    deadline = time.monotonic() + ASSIGNMENT_TIMEOUT_SECONDS
    while not stop.is_set():
        if projector.step() or not once:
            continue
        if projector.caught_up():
            break
        if not projector.consumer.assignment() and time.monotonic() > deadline:
            raise ProjectorError(f"no partition of '{projector.topic}' assigned in time")
    return projector.records
