"""The downstream message format (SPEC section 8): CloudEvents 1.0 in Kafka binary mode.

The record key is the patient id (per-patient order; also the `partitionkey` extension), the
value is the event envelope as JSON, and the CloudEvents attributes travel as `ce_`-prefixed
headers (docs/contracts.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass

from journey.events import EventEnvelope
from projections.event_text import instant_text

EVENTS_TOPIC = "care-journey.events.v1"
STATE_TOPIC = "care-journey.state.v1"
SOURCE = "urn:carejourney:care-journey-service"
CONTENT_TYPE = "application/json"
SCHEMA_BASE = "https://carejourney.org/schemas/events"
# CloudEvents sequence extension: the patient's version, zero-padded so that the strings sort
# as the numbers do (20 digits hold any unsigned 64-bit value).
SEQUENCE_WIDTH = 20


@dataclass(frozen=True)
class KafkaRecord:
    key: bytes
    value: bytes | None  # None: a tombstone (compacted topics forget the key)
    headers: list[tuple[str, bytes]]


def ce_type(event_name: str, schema_version: int) -> str:
    return f"org.carejourney.{event_name}.v{schema_version}"


def ce_sequence(version: int) -> str:
    """The `sequence` extension value: lexicographic order equals numeric order."""
    return str(version).zfill(SEQUENCE_WIDTH)


def event_record(envelope: EventEnvelope) -> KafkaRecord:
    """The Kafka record of one stored event."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": envelope.event_id,
        "ce_source": SOURCE,
        "ce_type": ce_type(envelope.type, envelope.schema_version),
        "ce_time": instant_text(envelope.occurred_at),
        "ce_subject": envelope.patient_id,
        "ce_dataschema": f"{SCHEMA_BASE}/{envelope.type}.v{envelope.schema_version}.json",
        "ce_sequence": ce_sequence(envelope.version),
        "ce_partitionkey": envelope.patient_id,
        "ce_recordedat": instant_text(envelope.recorded_at),
        "content-type": CONTENT_TYPE,
    }
    return KafkaRecord(
        key=envelope.patient_id.encode(),
        value=envelope.model_dump_json().encode(),
        headers=[(name, value.encode()) for name, value in headers.items()],
    )


def envelope_from_record(value: bytes) -> EventEnvelope:
    """The envelope carried by a record of the events topic (validated)."""
    return EventEnvelope.model_validate_json(value)


def header_map(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode() for name, value in headers}
