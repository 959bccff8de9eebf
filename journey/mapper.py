"""Stores the pydantic domain events (journey.domain_events) as eventsourcing's Mapper
stores dataclass events, byte for byte: the same state, in the same order, with the same
topic and `class_version` (the library's `aggregate8` example maps pydantic events the
same way, with `model_dump`). Snapshots stay dataclasses and take the library's path.

Reading is trusted, as the library's own Mapper is: a stored event was validated when it
was decided, so it is rebuilt without a second validation (upcast first, as the library
does), which keeps replays of long histories cheap."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic

from journey.domain_events import PatientEvent, completed, stored_names


class DateAsISO(Transcoding):
    """Local dates (a plan objective's target date) as ISO text."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def event_state(domain_event: PatientEvent) -> dict[str, Any]:
    """What is stored of an event (besides its identity): `journey.domain_events.stored_names`
    in order, then its `class_version` when above 1, as eventsourcing's Mapper writes it."""
    event_class = type(domain_event)
    values = domain_event.__dict__
    state = {name: values[name] for name in stored_names(event_class)}
    if event_class.class_version > 1:
        state["class_version"] = event_class.class_version
    return state


class EventMapper(Mapper[str]):
    """eventsourcing's Mapper for the pydantic domain events."""

    def to_stored_event(self, domain_event: DomainEventProtocol[str]) -> StoredEvent:
        if not isinstance(domain_event, PatientEvent):
            return super().to_stored_event(domain_event)
        stored = self.transcoder.encode(event_state(domain_event))
        if self.compressor:
            stored = self.compressor.compress(stored)
        if self.cipher:
            stored = self.cipher.encrypt(stored)
        return StoredEvent(
            domain_event.originator_id,
            domain_event.originator_version,
            get_topic(type(domain_event)),
            stored,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[str]:
        event = super().to_domain_event(stored_event)
        if isinstance(event, PatientEvent):  # rebuilt as the library does: its __dict__ only
            return completed(event)
        return event
