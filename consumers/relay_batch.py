"""The relay's in-process logic, no broker involved: one slice of the notification log in,
the Kafka records to publish out (every event, then one summary per patient touched)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification
from publishing.cloudevents import KafkaRecord, event_record
from publishing.history_cache import HistoryCache
from publishing.state_summary import state_record, summarize
from publishing.topics import TopicNames

from journey.errors import PatientErased
from journey.events import EventEnvelope

Decoder = Callable[[Notification], EventEnvelope]


@dataclass(frozen=True)
class Outgoing:
    topic: str
    record: KafkaRecord


@dataclass(frozen=True)
class Batch:
    last_notification_id: int
    events: int
    records: list[Outgoing]

    @property
    def summaries(self) -> int:
        return len(self.records) - self.events


def build_batch(
    notifications: Sequence[Notification],
    decode: Decoder,
    histories: HistoryCache,
    topics: TopicNames,
) -> Batch:
    """Event records in log order; then, per patient of the slice, the summary after the
    patient's last event in it (computed once per patient per batch, not per event)."""
    records: list[Outgoing] = []
    by_patient: dict[str, list[EventEnvelope]] = {}
    erased: dict[str, None] = {}
    for notification in notifications:
        try:
            envelope = decode(notification)
        except PatientErased:  # an erased patient's event, or its erasure marker
            erased[str(notification.originator_id)] = None
            continue
        records.append(Outgoing(topics.events, event_record(envelope)))
        by_patient.setdefault(envelope.patient_id, []).append(envelope)
    events = len(records)
    for patient_id, new in by_patient.items():
        if patient_id in erased:
            continue
        try:
            summary = summarize(histories.extended(patient_id, new))
        except PatientErased:  # erased while this batch was being built
            erased[patient_id] = None
            continue
        records.append(Outgoing(topics.state, state_record(summary)))
    for patient_id in erased:  # the compacted state topic forgets the patient
        histories.forget(patient_id)
        records.append(Outgoing(topics.state, tombstone(patient_id)))
    return Batch(notifications[-1].id, events, records)


def tombstone(patient_id: str) -> KafkaRecord:
    """A null value for the patient's key: compaction then drops its summaries."""
    return KafkaRecord(key=patient_id.encode(), value=None, headers=[])
