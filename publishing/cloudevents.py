"""The downstream message format (SPEC section 8): CloudEvents 1.0 in Kafka binary mode.

The record key is the patient id (per-patient order; also the `partitionkey` extension), the
value is the event envelope as JSON, and the CloudEvents attributes travel as `ce_`-prefixed
headers (docs/contracts.md lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from journey.events import EventEnvelope
from projections.event_text import instant_text

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


@cache
def _type_headers(event_name: str, schema_version: int) -> tuple[bytes, bytes]:
    """(ce_type, ce_dataschema) of an event type, encoded once."""
    dataschema = f"{SCHEMA_BASE}/{event_name}.v{schema_version}.json"
    return ce_type(event_name, schema_version).encode(), dataschema.encode()


_SPECVERSION, _SOURCE, _CONTENT_TYPE = b"1.0", SOURCE.encode(), CONTENT_TYPE.encode()


# What differs between two event records, as bytes: key (the patient), value (the
# envelope), then the values of ce_id, ce_type, ce_time, ce_dataschema, ce_sequence and
# ce_recordedat. A flat tuple of bytes: it crosses a process boundary several times faster
# than the record's list of header pairs (publishing.relay_worker).
EventParts = tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes]


def event_parts(envelope: EventEnvelope) -> EventParts:
    kind, dataschema = _type_headers(envelope.type, envelope.schema_version)
    return (
        envelope.patient_id.encode(),
        envelope.model_dump_json().encode(),
        envelope.event_id.encode(),
        kind,
        instant_text(envelope.occurred_at).encode(),
        dataschema,
        ce_sequence(envelope.version).encode(),
        instant_text(envelope.recorded_at).encode(),
    )


def event_headers(parts: EventParts) -> list[tuple[str, bytes]]:
    """The record's headers, in the order docs/contracts.md lists them, the constant ones
    encoded once."""
    patient, _, event_id, kind, time, dataschema, sequence, recorded_at = parts
    return [
        ("ce_specversion", _SPECVERSION),
        ("ce_id", event_id),
        ("ce_source", _SOURCE),
        ("ce_type", kind),
        ("ce_time", time),
        ("ce_subject", patient),
        ("ce_dataschema", dataschema),
        ("ce_sequence", sequence),
        ("ce_partitionkey", patient),
        ("ce_recordedat", recorded_at),
        ("content-type", _CONTENT_TYPE),
    ]


def event_record(envelope: EventEnvelope) -> KafkaRecord:
    """The Kafka record of one stored event."""
    parts = event_parts(envelope)
    return KafkaRecord(key=parts[0], value=parts[1], headers=event_headers(parts))


def envelope_from_record(value: bytes) -> EventEnvelope:
    """The envelope carried by a record of the events topic (validated)."""
    return EventEnvelope.model_validate_json(value)


def header_map(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode() for name, value in headers}
