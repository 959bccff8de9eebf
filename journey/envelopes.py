"""Turns stored domain events into wire envelopes (journey.events), the readers' shape.

Stored events were validated when their command was accepted, so envelopes are built
with `model_construct` (no second validation): reading a long history stays cheap."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from uuid import NAMESPACE_URL, uuid5

from pydantic import BaseModel

from journey import domain_events as ev
from journey.events import EventEnvelope

_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://carejourney.org/events").bytes


def event_id(event: ev.PatientEvent) -> str:
    """A stable UUID (version 5) for a stored event, from its patient, version and recording
    time: the CloudEvents ce_id. Same result as uuid.uuid5, without its overhead."""
    return stored_event_id(event.originator_id, event.originator_version, event.timestamp)


def stored_event_id(patient_id: str, version: int, timestamp: datetime) -> str:
    key = f"{patient_id}/{version}/{timestamp.isoformat()}"
    h = hashlib.sha1(_EVENT_NAMESPACE + key.encode()).hexdigest()
    # the UUID's version (5) and variant (RFC 4122) bits, as uuid.uuid5 sets them
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


@cache
def _payload_spec(event_class: type[ev.PatientEvent]) -> tuple[type[Any], tuple[str, ...]]:
    payload = ev.payload_class(event_class)
    return payload, tuple(name for name in payload.model_fields if name != "type")


@cache
def _state_spec(event_class: type[ev.PatientEvent]) -> tuple[type[Any], tuple[str, ...], set[str]]:
    """The payload class, its fields read from the stored state, and its fields set."""
    payload_class, names = _payload_spec(event_class)
    return payload_class, names, {"type", *names}


M = TypeVar("M", bound=BaseModel)
# BaseModel's instance slots, set as object.__setattr__ would set them (without its lookup)
_SET_DICT = object.__setattr__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__
_ENVELOPE_FIELDS = set(EventEnvelope.model_fields)


def _trusted(model: type[M], values: dict[str, Any]) -> M:
    """A model from values that are already valid and complete: what `model_construct`
    builds (for models without extras or private attributes), without its per-field loop."""
    obj = model.__new__(model)
    _SET_DICT(obj, "__dict__", values)
    _SET_FIELDS_SET(obj, set(values))
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
    return obj


def envelope_from_state(
    event_class: type[ev.PatientEvent], patient_id: str, version: int, state: dict[str, Any]
) -> EventEnvelope:
    """The envelope `to_envelope` gives for the event of `event_class` whose stored state
    (decoded and upcast, as eventsourcing's Mapper leaves it) is `state`, without building
    the event: what a read of a long history needs, and nothing more."""
    payload_class, names, payload_fields = _state_spec(event_class)
    fields = {"type": event_class.__name__}
    for name in names:
        fields[name] = state[name]
    payload = object.__new__(payload_class)  # _trusted, inlined: once per stored event
    _SET_DICT(payload, "__dict__", fields)
    _SET_FIELDS_SET(payload, payload_fields.copy())
    _SET_EXTRA(payload, None)
    _SET_PRIVATE(payload, None)
    timestamp = state["timestamp"]
    envelope = object.__new__(EventEnvelope)
    _SET_DICT(
        envelope,
        "__dict__",
        {
            "event_id": stored_event_id(patient_id, version, timestamp),
            "patient_id": patient_id,
            "version": version,
            "schema_version": event_class.class_version,
            "occurred_at": state["occurred_at"],
            "recorded_at": timestamp,
            "actor": state["actor"],
            "recorded_by": state["recorded_by"],
            "chain_hash": state["chain_hash"],
            "payload": payload,
        },
    )
    _SET_FIELDS_SET(envelope, _ENVELOPE_FIELDS.copy())
    _SET_EXTRA(envelope, None)
    _SET_PRIVATE(envelope, None)
    return envelope


def to_envelope(event: ev.PatientEvent) -> EventEnvelope:
    payload_class, names = _payload_spec(type(event))
    fields = {"type": type(event).__name__, **{n: getattr(event, n) for n in names}}
    payload = _trusted(payload_class, fields)
    return _trusted(
        EventEnvelope,
        {
            "event_id": event_id(event),
            "patient_id": event.originator_id,
            "version": event.originator_version,
            "schema_version": type(event).class_version,
            "occurred_at": event.occurred_at,
            "recorded_at": event.timestamp,
            "actor": event.actor,
            "recorded_by": event.recorded_by,
            "chain_hash": event.chain_hash,
            "payload": payload,
        },
    )
