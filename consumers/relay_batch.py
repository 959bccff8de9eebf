"""The relay's in-process logic, no broker involved: one slice of the notification log in,
the Kafka records to publish out (every event, then one summary per patient touched)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification

from consumers.cloudevents import KafkaRecord, event_record
from consumers.histories import HistoryCache
from consumers.state_summary import state_record, summarize
from consumers.topics import TopicNames
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
    for notification in notifications:
        envelope = decode(notification)
        records.append(Outgoing(topics.events, event_record(envelope)))
        by_patient.setdefault(envelope.patient_id, []).append(envelope)
    for patient_id, new in by_patient.items():
        summary = summarize(histories.extended(patient_id, new))
        records.append(Outgoing(topics.state, state_record(summary)))
    return Batch(notifications[-1].id, len(notifications), records)
