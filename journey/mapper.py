"""Stores the pydantic domain events (journey.domain_events) as eventsourcing's Mapper
stores dataclass events, byte for byte: the same state, in the same order, with the same
topic and `class_version` (the library's `aggregate8` example maps pydantic events the
same way, with `model_dump`). Snapshots stay dataclasses and take the library's path.

Reading is trusted, as the library's own Mapper is: a stored event was validated when it
was decided, so it is rebuilt without a second validation (upcast first, as the library
does), which keeps replays of long histories cheap. A patient's history is read further
still (`EventMapper.to_envelopes`): its envelopes are built straight from each row's decoded
and upcast state, without the domain events (tests/app/test_fast_history.py compares it
with the plain path)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import Any, cast

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
    find_id_convertor,
)
from eventsourcing.utils import TopicError, get_topic, resolve_topic

from journey.domain_events import PatientEvent, completed, stored_names
from journey.envelopes import envelope_from_state, to_envelope
from journey.events import EventEnvelope


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

    def to_envelopes(self, rows: Iterable[StoredEvent]) -> list[EventEnvelope]:
        """The envelopes of stored rows, as `to_envelope(self.to_domain_event(row))` gives
        them (same decryption, decoding, upcasting and errors), without building the domain
        events. Many long-lived objects and no cycles: the cyclic collector is paused."""
        read = self.envelope_reader()
        with cyclic_gc_paused():
            return [read(row) for row in rows]

    def envelope_reader(self) -> Callable[[StoredEvent], EventEnvelope]:
        """Reads one row at a time as `to_envelopes` reads them, raising what
        `to_domain_event` raises (an erased patient's row: PatientErased), so a reader of the
        log can set a row aside and go on. Made once per read: it keeps what it looked up
        (`row_opener`)."""
        opener = self.row_opener()

        def read(row: StoredEvent) -> EventEnvelope:
            event_class = patient_event_class(row.topic)
            if event_class is None:  # erasure markers, snapshots: the library's path
                return to_envelope(self.to_domain_event(row))  # type: ignore[arg-type]
            plaintext = row.state if opener is None else opener(row)
            state = self.decoded_state(event_class, row, plaintext)
            version = row.originator_version
            return envelope_from_state(event_class, state["originator_id"], version, state)

        return read

    def row_opener(self) -> Callable[[StoredEvent], bytes] | None:
        """How `to_envelopes` gets the plain state of each of its rows; None: it is the
        stored state (a subclass keeps what it looked up for one call, such as a key)."""
        if not self.cipher and not self.compressor:
            return None
        return lambda row: self.unpacked(row, row.state)

    def unpacked(self, row: StoredEvent, state: bytes) -> bytes:
        """`state` of `row` decrypted and decompressed by eventsourcing's cipher and
        compressor, when configured."""
        try:
            if self.cipher:
                state = self.cipher.decrypt(state)
            if self.compressor:
                state = self.compressor.decompress(state)
        except Exception as error:  # the library's wrapping, re-raised
            raise _undecodable(row, error) from error
        return state

    def decoded_state(
        self, event_class: type[PatientEvent], row: StoredEvent, plaintext: bytes
    ) -> dict[str, Any]:
        """The stored state decoded, with the identity, upcast to the class's version: the
        `__dict__` eventsourcing's `Mapper.to_domain_event` gives the event."""
        try:
            state: dict[str, Any] = self.transcoder.decode(plaintext)
        except Exception as error:  # the library's wrapping, re-raised
            raise _undecodable(row, error) from error
        convert = find_id_convertor(event_class, cast("Hashable", type(row.originator_id)))
        state["originator_id"] = convert(row.originator_id)
        state["originator_version"] = row.originator_version
        version = state.pop("class_version", 1)
        while version < event_class.class_version:
            getattr(event_class, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
        return state


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector (reference counting still frees memory) and
    restores it: building many long-lived objects without cycles then triggers no
    collection of the whole heap."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _undecodable(row: StoredEvent, error: Exception) -> MapperDeserialisationError:
    """eventsourcing's MapperDeserialisationError, with its message."""
    return MapperDeserialisationError(
        f"Failed to deserialise state of stored event with topic '{row.topic}', "
        f"originator_id '{row.originator_id}' and originator_version "
        f"{row.originator_version}: {error}"
    )


@cache
def patient_event_class(topic: str) -> type[PatientEvent] | None:
    """The patient event class of a stored topic; None for any other topic."""
    try:
        found = resolve_topic(topic)
    except TopicError:  # an unknown topic fails on the library's path, as before
        return None
    return found if isinstance(found, type) and issubclass(found, PatientEvent) else None
