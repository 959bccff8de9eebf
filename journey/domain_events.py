"""The patient aggregate's stored events (SPEC section 5).

Each event only assigns state in `apply`: no clock, ids or I/O, because it re-runs on every
replay. `timestamp` is the transaction time (when the service recorded the fact),
`occurred_at` the clinical time, `actor` who reported it. `class_version` is the schema
version; add an `upcast_vN_vN+1` and a test the first time a schema changes."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from eventsourcing.domain import (
    CanInitAggregate,
    CanMutateAggregate,
    CanSnapshotAggregate,
    MetaDomainEvent,
)

from journey.chain import canonical_content, snapshot_digest

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

    def apply(self, aggregate: Any) -> None:
        patient = cast("Patient", aggregate)
        self.apply_to(patient)
        patient.chain_head = self.chain_hash

    def chain_content(self) -> bytes:
        """The canonical bytes this event's `chain_hash` covers (see journey.chain)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return canonical_content(
            self.originator_id,
            self.originator_version,
            type(self).__name__,
            self.class_version,
            fields,
        )

    def apply_to(self, patient: Patient) -> None:
        raise NotImplementedError


class PatientAdmitted(CanInitAggregate[str], PatientEvent):
    """Starts an episode (and, the first time, the patient's stream)."""

    originator_topic: str
    level: str
    age_group: str
    timezone: str

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
    direction: str
    reason: str | None

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
