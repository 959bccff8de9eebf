"""The patient aggregate's stored events (SPEC section 5).

Each event only assigns state in `apply`: no clock, ids or I/O, because it re-runs on every
replay. `timestamp` is the transaction time (when the service recorded the fact),
`occurred_at` the clinical time, `actor` who reported it. `class_version` is the schema
version (see `hashed_form` for how a schema change keeps old chain hashes valid).

Version 2 of PatientAdmitted and LevelOfCareChanged: `asam_code`, the ASAM code the stay
was entered with (older events: None, read as the level's default code)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from eventsourcing.domain import (
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
    MetaDomainEvent,
)

from journey.chain import canonical_content

if TYPE_CHECKING:
    from journey.patient import Patient


class PatientEvent(CanMutateAggregate[str], metaclass=MetaDomainEvent):
    originator_id: str
    originator_version: int
    timestamp: datetime
    occurred_at: datetime
    actor: str | None
    chain_hash: str

    class_version = 1
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = {}  # version -> fields it added

    def apply(self, aggregate: Any) -> None:
        patient = cast("Patient", aggregate)
        self.apply_to(patient)
        patient.chain_head = self.chain_hash

    def chain_content(self) -> bytes:
        """The canonical bytes this event's `chain_hash` covers (see journey.chain)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        version, hashed = hashed_form(type(self), fields)
        return canonical_content(
            self.originator_id, self.originator_version, type(self).__name__, version, hashed
        )

    def apply_to(self, patient: Patient) -> None:
        raise NotImplementedError


def hashed_form(event_class: type[Any], fields: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The schema version and fields an event's chain hash covers. A new version may only
    add fields (`added_fields[N]`) that `upcast_vN-1_vN` fills for older events; going down
    from the current version, while dropping the fields version N added and upcasting
    again gives back the same fields, the event hashes as version N-1 without them. So an
    event stored under an older version hashes exactly as it did when stored, and a new
    event whose added fields hold real values is hashed with them and its version."""
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
    """Events stored before the code was kept: unknown (read as the level's default)."""
    state["asam_code"] = None


class PatientAdmitted(CanInitAggregate[str], PatientEvent):
    """Starts an episode (and, the first time, the patient's stream)."""

    originator_topic: str
    level: str
    asam_code: str | None
    age_group: str
    timezone: str

    class_version = 2
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = {2: ("asam_code",)}
    upcast_v1_v2 = staticmethod(_no_asam_code)

    def mutate(self, aggregate: Any) -> Any:
        if aggregate is None:
            return CanInitAggregate.mutate(self, None)
        return CanMutateAggregate.mutate(self, aggregate)

    def apply_to(self, patient: Patient) -> None:
        patient.timezone = self.timezone
        patient.age_group = self.age_group
        patient.episodes.append([self.occurred_at, None])
        patient.level = self.level
        patient.stay_started_at = self.occurred_at


class LevelOfCareChanged(PatientEvent):
    from_level: str
    to_level: str
    asam_code: str | None
    direction: str
    reason: str | None

    class_version = 2
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = {2: ("asam_code",)}
    upcast_v1_v2 = staticmethod(_no_asam_code)

    def apply_to(self, patient: Patient) -> None:
        patient.level = self.to_level
        patient.stay_started_at = self.occurred_at


class SessionRecorded(PatientEvent):
    session_id: str
    format: str
    approach: str
    duration_minutes: int
    delivery: str
    status: str
    clinician_id: str | None

    def apply_to(self, patient: Patient) -> None:
        patient.sessions[self.session_id] = {
            "fingerprint": session_fingerprint(session_content(self)),
            "occurred_at": self.occurred_at,
            "voided": False,
        }


class SessionCorrected(PatientEvent):
    session_id: str
    reason: str
    format: str | None
    approach: str | None
    duration_minutes: int | None
    session_occurred_at: datetime | None
    delivery: str | None
    status: str | None

    def apply_to(self, patient: Patient) -> None:
        if self.session_occurred_at is not None:
            patient.sessions[self.session_id]["occurred_at"] = self.session_occurred_at


class SessionEnteredInError(PatientEvent):
    session_id: str
    reason: str

    def apply_to(self, patient: Patient) -> None:
        patient.sessions[self.session_id]["voided"] = True


class PatientDischarged(PatientEvent):
    reason: str

    def apply_to(self, patient: Patient) -> None:
        patient.episodes[-1][1] = self.occurred_at
        patient.level = None
        patient.stay_started_at = None


class PatientSnapshot(CanSnapshotAggregate[str], metaclass=MetaDomainEvent):
    originator_id: str
    originator_version: int
    timestamp: datetime
    topic: str
    state: dict[str, Any]


SESSION_FIELDS = ("format", "approach", "duration_minutes", "delivery", "status", "clinician_id")


def session_content(source: Any) -> dict[str, Any]:
    """A session's recorded content (its start and SESSION_FIELDS), from the command that
    records it or from the event that recorded it."""
    return {"occurred_at": source.occurred_at, **{n: getattr(source, n) for n in SESSION_FIELDS}}


def session_fingerprint(content: dict[str, Any]) -> str:
    """A canonical text of a session's recorded content, to tell a retry from a clash."""
    return (
        f"{content['occurred_at'].timestamp()}|{content['format']}|{content['approach']}|"
        f"{content['duration_minutes']}|{content['delivery']}|{content['status']}|"
        f"{content['clinician_id']}"
    )
