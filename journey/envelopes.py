"""Turns stored domain events into wire envelopes (journey.events), the readers' shape."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from pydantic import TypeAdapter

from journey import domain_events as ev
from journey.events import EventEnvelope, Payload

_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://carejourney.org/events")
_BASE_FIELDS = {
    "originator_id",
    "originator_version",
    "timestamp",
    "occurred_at",
    "actor",
}
_NOT_PAYLOAD = _BASE_FIELDS | {"originator_topic"}
_PAYLOAD: TypeAdapter[Any] = TypeAdapter(Payload)


def event_id(event: ev.PatientEvent) -> str:
    """A stable id for a stored event, derived from what is stored (CloudEvents ce_id)."""
    key = f"{event.originator_id}/{event.originator_version}/{event.timestamp.isoformat()}"
    return str(uuid5(_EVENT_NAMESPACE, key))


def payload_fields(event: ev.PatientEvent) -> dict[str, Any]:
    return {
        f.name: getattr(event, f.name)
        for f in dataclasses.fields(event)  # type: ignore[arg-type]
        if f.name not in _NOT_PAYLOAD
    }


def to_envelope(event: ev.PatientEvent) -> EventEnvelope:
    payload = _PAYLOAD.validate_python({"type": type(event).__name__, **payload_fields(event)})
    return EventEnvelope(
        event_id=event_id(event),
        patient_id=event.originator_id,
        version=event.originator_version,
        schema_version=type(event).class_version,
        occurred_at=event.occurred_at,
        recorded_at=event.timestamp,
        actor=event.actor,
        payload=payload,
    )
