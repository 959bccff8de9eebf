"""The relay's in-process logic, no broker involved: one slice of the notification log in,
the Kafka records to publish out (every event, then one summary per patient touched)."""

from __future__ import annotations

from dataclasses import dataclass

from consumers.log_reader import Slice
from journey.errors import PatientErased
from journey.events import EventEnvelope
from publishing.cloudevents import KafkaRecord, event_record
from publishing.history_cache import HistoryCache
from publishing.state_summary import state_record, summarize
from publishing.topics import TopicNames


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


def build_batch(page: Slice, histories: HistoryCache, topics: TopicNames) -> Batch:
    """Event records in log order; then, per patient of the slice, the summary after the
    patient's last event in it (computed once per patient per batch, not per event)."""
    records = event_outgoing(page, topics)
    events = len(records)
    records += state_outgoing(page, histories, topics)
    return Batch(page.end, events, records)


def event_outgoing(page: Slice, topics: TopicNames) -> list[Outgoing]:
    """The slice's event records, in log order (the first part of its batch: a relay keeping
    up sends them before it computes the summaries)."""
    return [Outgoing(topics.events, event_record(envelope)) for envelope in page.events]


def state_outgoing(page: Slice, histories: HistoryCache, topics: TopicNames) -> list[Outgoing]:
    """The rest of the slice's batch: per patient of the slice, in order of first
    appearance, the summary after its last event in the slice; then a tombstone per erased
    patient. Extends `histories` with the slice's events, so it is called once per slice,
    in log order."""
    records: list[Outgoing] = []
    by_patient: dict[str, list[EventEnvelope]] = {}
    for envelope in page.events:
        by_patient.setdefault(envelope.patient_id, []).append(envelope)
    erased = dict.fromkeys(page.erased)  # an erased patient's events, or its erasure marker
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
    return records


def tombstone(patient_id: str) -> KafkaRecord:
    """A null value for the patient's key: compaction then drops its summaries."""
    return KafkaRecord(key=patient_id.encode(), value=None, headers=[])
