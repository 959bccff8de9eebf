"""The patient aggregate's stored events (SPEC section 5): each is its payload model
(journey.events, where its fields are declared once) plus the metadata below, stored by
journey.mapper exactly as eventsourcing stored the dataclass events before (same state,
same order, same topic). The clinical program's events are in journey.care_events.

Each event only assigns state in `apply`: no clock, ids or I/O, because it re-runs on every
replay. `timestamp` is the transaction time (when the service recorded the fact),
`occurred_at` the clinical time, `actor` who the command says acted, `recorded_by` the
authenticated principal that recorded it (the API key's principal; on the CLI the
operating-system account `os:<login>`, or `--actor` / JOURNEY_ACTOR).

Schema changes (stored events are forever). `class_version` is an event's schema version;
it is stored with the event (eventsourcing keeps it in the stored state when above 1), and
an event stored under an older version is brought up to date when read by the class's
`upcast_vN_vN+1(state)` static methods, applied in turn. The rules:

1. A new version may only ADD fields. Bump `class_version` of the classes concerned, add
   `upcast_vN_vN+1` filling the new fields for older events (a constant, or a value derived
   from the older fields), and record the new fields in `added_fields[N+1]`. Declare them
   on the payload model (journey.events; appended last: the stored order is the declared
   order) and regenerate contracts/ (`python -m
   publishing.contracts`): readers see every event in the current version (`schema_version`
   of the envelope, `ce_type` ...`.vN`).
2. The chain hash (journey.chain) of an event covers its schema version and fields as
   `hashed_form` gives them: going down from the current version, while dropping the
   fields version N added and upcasting again gives back the same fields (they hold what
   an upcaster would have given them), the event hashes as version N-1 without them. So an
   event stored under version 1 hashes exactly as it did when it was stored, and a new
   event whose added fields hold real values is hashed with them (and its version).
3. Add a test that opens a store written by the previous version (tests/fixtures/): it
   must verify, load and project the same.

Version 2 (all events): `recorded_by` (older events: None). Example of the next change,
an `asam_code` on PatientAdmitted and LevelOfCareChanged: on those two classes set
`class_version = 3`, `added_fields = {**PatientEvent.added_fields, 3: ("asam_code",)}`
and define `upcast_v2_v3(state)` setting `state["asam_code"]` (None, or derived from the
level); the other classes stay at version 2. tests/unit/test_schema_versions.py shows it.

Version 3 (PatientAdmitted, LevelOfCareChanged): `asam_code`, the ASAM code the stay was
entered with (the level's default code when entered by id); older events: None, which
readers take as the level's default code. The upcaster is a constant on purpose: a value
derived from the catalog would change with the catalog and break old chain hashes."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from eventsourcing.domain import (
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
    MetaDomainEvent,
)
from pydantic import BaseModel, ConfigDict

from journey import events as wire
from journey.chain import canonical_content, snapshot_digest
from journey.fingerprints import (
    CORRECTABLE_VALUES,
    correction_fingerprint,
    session_content,
    session_fingerprint,
)

if TYPE_CHECKING:
    from journey.patient import Patient

# The metadata every stored event carries, in the order of its stored state (SPEC 5).
METADATA = ("timestamp", "occurred_at", "actor", "recorded_by", "chain_hash")


class PatientEvent(BaseModel, CanMutateAggregate[str]):
    """A stored event: its payload model's fields (journey.events, declared there once)
    and the metadata. Subclasses are `class <Name>(PatientEvent, wire.<Name>)` and only add
    `apply_to` (and their schema version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    originator_id: str
    originator_version: int
    timestamp: datetime
    occurred_at: datetime
    actor: str | None
    recorded_by: str | None
    chain_hash: str

    class_version: ClassVar[int] = 2
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = {2: ("recorded_by",)}

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["recorded_by"] = None

    def apply(self, aggregate: Any) -> None:
        patient = cast("Patient", aggregate)
        self.apply_to(patient)
        patient.chain_head = self.chain_hash

    def chain_content(self) -> bytes:
        """The canonical bytes this event's `chain_hash` covers (see journey.chain)."""
        values = self.__dict__
        fields = {name: values[name] for name in stored_names(type(self))}
        version, hashed = hashed_form(type(self), fields)
        return canonical_content(
            self.originator_id, self.originator_version, type(self).__name__, version, hashed
        )

    def apply_to(self, patient: Patient) -> None:
        raise NotImplementedError


E = TypeVar("E", bound=PatientEvent)


@cache
def _field_names(event_class: type[PatientEvent]) -> frozenset[str]:
    return frozenset(name for name in event_class.model_fields if name != "type")


def decided(event_class: type[E], fields: dict[str, Any]) -> E:
    """The event the aggregate decided, from values it already validated (the command's,
    and what it derived from them): every field, checked by name, without a second
    validation (the command's was the check; recording stays cheap on the hot path)."""
    names = fields.keys()
    if names != _field_names(event_class):
        expected = _field_names(event_class)
        raise TypeError(
            f"{event_class.__name__}: missing {sorted(expected - names)}, "
            f"unknown {sorted(names - expected)}"
        )
    return trusted(event_class, fields)


def trusted(event_class: type[E], fields: dict[str, Any]) -> E:
    """An event from its fields (a dict it then owns), the way eventsourcing's Mapper
    rebuilds one: its `__dict__`, then `completed`."""
    event = event_class.__new__(event_class)
    object.__setattr__(event, "__dict__", fields)
    return completed(event)


def completed(event: E) -> E:
    """An event whose `__dict__` holds its stored fields (as eventsourcing's Mapper leaves
    it), completed in place: the payload's `type` (stored as the topic) and the rest of a
    pydantic model's instance state."""
    values = event.__dict__
    values["type"] = type(event).__name__
    object.__setattr__(event, "__pydantic_fields_set__", set(values))
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event


@cache
def stored_names(event_class: type[PatientEvent]) -> tuple[str, ...]:
    """The names of an event's stored state, in their stored order (as every version so far
    wrote them): the metadata, the aggregate's topic for a creating event, then the payload
    fields in their declared order. Not stored: the identity (a column of its own) and the
    payload's `type` (the topic says it)."""
    topic = ("originator_topic",) if issubclass(event_class, CanInitAggregate) else ()
    payload = [name for name in payload_class(event_class).model_fields if name != "type"]
    return (*METADATA, *topic, *payload)


def payload_class(event_class: type[PatientEvent]) -> type[BaseModel]:
    """The wire payload model of a stored event class (journey.events, same name)."""
    found: type[BaseModel] = getattr(wire, event_class.__name__)
    return found


def hashed_form(event_class: type[Any], fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The schema version and fields an event's chain hash covers (rule 2 above): an event
    whose newer fields hold what the upcasters would give them hashes as the older version
    without them, exactly as it did when stored under that version."""
    version = int(event_class.class_version)
    while version > 1:
        added = event_class.added_fields.get(version, ())
        older = {name: value for name, value in fields.items() if name not in added}
        upcast = dict(older)
        getattr(event_class, f"upcast_v{version - 1}_v{version}")(upcast)
        if upcast != fields:
            break
        fields, version = older, version - 1
    return version, fields


def _no_asam_code(state: dict[str, Any]) -> None:
    """Events stored before version 3: the code entered is unknown."""
    state["asam_code"] = None


_ASAM_CODE_ADDED: dict[int, tuple[str, ...]] = {**PatientEvent.added_fields, 3: ("asam_code",)}


class PatientAdmitted(PatientEvent, CanInitAggregate[str], wire.PatientAdmitted):
    """Starts an episode (and, the first time, the patient's stream)."""

    originator_topic: str

    class_version: ClassVar[int] = 3
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = _ASAM_CODE_ADDED

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        _no_asam_code(state)

    def mutate(self, aggregate: Any) -> Any:
        if aggregate is None:
            return CanInitAggregate.mutate(self, None)
        return CanMutateAggregate.mutate(self, aggregate)

    def apply_to(self, patient: Patient) -> None:
        patient.timezone = self.timezone
        patient.age_group = self.age_group
        patient.episodes.append([self.occurred_at, None])
        patient.assignments = []
        patient.level = self.level
        patient.stay_started_at = self.occurred_at


class LevelOfCareChanged(PatientEvent, wire.LevelOfCareChanged):
    class_version: ClassVar[int] = 3
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = _ASAM_CODE_ADDED

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        _no_asam_code(state)

    def apply_to(self, patient: Patient) -> None:
        patient.level = self.to_level
        patient.stay_started_at = self.occurred_at


def recorded_session(values: dict[str, Any], fingerprint: str) -> dict[str, Any]:
    """What the patient keeps of a session `SessionRecorded` recorded with these values (the
    event's fields) and the fingerprint of its content."""
    return {
        "fingerprint": fingerprint,
        "occurred_at": values["occurred_at"],
        "voided": False,
        "values": {name: values[name] for name in CORRECTABLE_VALUES},
        "last_correction": None,
    }


class SessionRecorded(PatientEvent, wire.SessionRecorded):
    def apply_to(self, patient: Patient) -> None:
        self.apply_fingerprinted(patient, session_fingerprint(session_content(self)))

    def apply_fingerprinted(self, patient: Patient, fingerprint: str) -> None:
        """`apply_to` given the session's fingerprint, which the decision that recorded the
        event already computed from the same content (journey.session_batch)."""
        patient.sessions[self.session_id] = recorded_session(self.__dict__, fingerprint)


class SessionCorrected(PatientEvent, wire.SessionCorrected):
    def changes(self) -> dict[str, Any]:
        """The corrected fields and their new values, named as in the command."""
        named = {name: getattr(self, name) for name in CORRECTABLE_VALUES}
        named["occurred_at"] = self.session_occurred_at
        return {name: value for name, value in named.items() if value is not None}

    def apply_to(self, patient: Patient) -> None:
        session = patient.sessions[self.session_id]
        changes = self.changes()
        session["last_correction"] = correction_fingerprint(changes, self.reason)
        if "occurred_at" in changes:
            session["occurred_at"] = changes.pop("occurred_at")
        session["values"].update(changes)


class SessionEnteredInError(PatientEvent, wire.SessionEnteredInError):
    def apply_to(self, patient: Patient) -> None:
        patient.sessions[self.session_id]["voided"] = True


class PatientDischarged(PatientEvent, wire.PatientDischarged):
    def apply_to(self, patient: Patient) -> None:
        patient.episodes[-1][1] = self.occurred_at
        patient.level = None
        patient.stay_started_at = None
        patient.assignments = []  # an assignment ends with its episode


class PatientSnapshot(CanSnapshotAggregate[str], metaclass=MetaDomainEvent):
    """The patient's state after its event at `originator_version` (every 200 events).

    `digest` (journey.chain.snapshot_digest) covers the identity, version and state, whose
    `chain_head` is the chain hash of the event at that version. Version 1 snapshots (up to
    f282db8) have none: upcast with `digest` None (`verify` checks them against the events
    all the same; the application rebuilds such a patient from its events)."""

    originator_id: str
    originator_version: int
    timestamp: datetime
    topic: str
    state: dict[str, Any]
    digest: str | None = None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["digest"] = None

    @classmethod
    def take(cls, aggregate: Any) -> PatientSnapshot:
        snapshot = super().take(aggregate)
        digest = snapshot_digest(
            snapshot.originator_id, snapshot.originator_version, snapshot.topic, snapshot.state
        )
        object.__setattr__(snapshot, "digest", digest)  # frozen: set once, as it is created
        return snapshot

    def digest_problem(self) -> str | None:
        """Why this snapshot must not be trusted without its events, or None."""
        if self.digest is None:
            return "it carries no digest (taken before snapshots had one)"
        expected = snapshot_digest(
            self.originator_id, self.originator_version, self.topic, self.state
        )
        if self.digest != expected:
            return "its content does not match its digest (edited)"
        return None
