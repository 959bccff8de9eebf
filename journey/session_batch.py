"""`record_session` decided many times over (the bulk import's commands are mostly sessions):
the same rules, event, chain hash and aggregate state as `Patient.record_session` behind
`JourneyApplication.decide`, with each value computed once.

`SessionDecisions.decide` takes the common case itself, a new session within an episode at
an instant the rules allow: the instant converted to UTC once (for the time checks and the
chain), the session's fingerprint computed once (for the duplicate check and the state the
event assigns: `SessionRecorded.apply_fingerprinted`), and the canonical bytes the chain
hash covers written straight from the values, in the form `hashed_form` and
`canonical_content` give. Every other case (a session id already used: a retry or a
conflict; an instant out of range or outside every episode; an instant `datetime` cannot
convert to UTC) is handed to the reference path, which decides it and raises its errors.
Should `SessionRecorded`'s stored or hashed form change (a new schema version), or the
registry decide `record_session` otherwise, the reference path takes every command
(`FAST`); tests/unit/test_session_batch.py compares both to the byte."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from hashlib import sha256
from typing import TYPE_CHECKING, Any

import orjson

from journey import domain_events as ev
from journey.commands import REGISTRY
from journey.fingerprints import session_fingerprint
from journey.patient import Patient
from journey.timekeeping import FUTURE_TOLERANCE, not_before_earliest

if TYPE_CHECKING:
    from journey.commands import RecordSession

Event = ev.SessionRecorded
STORED = (  # SessionRecorded.stored_names, as decided and written by the bulk path
    "timestamp",
    "occurred_at",
    "actor",
    "recorded_by",
    "chain_hash",
    "session_id",
    "format",
    "approach",
    "duration_minutes",
    "delivery",
    "status",
    "clinician_id",
)
# Whether the event is stored and hashed in the form written below: schema version 2, whose
# only addition is `recorded_by` (hashed as version 1 without it when None).
FAST = (
    ev.stored_names(Event) == STORED
    and Event.class_version == 2
    and Event.added_fields == {2: ("recorded_by",)}
    and Event.upcast_v1_v2 is ev.PatientEvent.upcast_v1_v2
    # and the command is decided as this module decides it (the registry's entry)
    and REGISTRY["record_session"].decide is Patient.record_session
    and REGISTRY["record_session"].instants == ("occurred_at",)
    and REGISTRY["record_session"].records == (Event,)
)


KEPT_EPISODES = 4096  # patients whose last episode in UTC is kept (then forgotten at once)


class SessionDecisions:
    """Decides `record_session` commands at `now`, recorded by `by`, clinical instants from
    `earliest` on (the application's settings)."""

    def __init__(self, now: datetime, by: str | None, earliest: datetime) -> None:
        self.now, self.by, self.earliest = now, by, earliest
        self.latest = now + FUTURE_TOLERANCE
        # per patient: its last episode's bounds (the very objects) and them in UTC, which
        # compare many times faster than instants in other offsets (the same order)
        self._last_episode: dict[str, tuple[Any, Any, datetime, datetime | None]] = {}

    def decide(self, patient: Patient, cmd: RecordSession) -> ev.SessionRecorded | None:
        """The event recorded on `patient` (None: a retry); raises the domain error of a
        rejected command, leaving the patient untouched."""
        values = self.record(patient, cmd.__dict__, cmd.occurred_at, cmd.actor)
        if values is None:
            return self._reference(patient, cmd)
        event = ev.trusted(Event, values)
        patient._pending_events.append(event)
        return event

    def _reference(self, patient: Patient, cmd: RecordSession) -> ev.SessionRecorded | None:
        """`JourneyApplication.decide_event` for a known patient's session."""
        not_before_earliest(cmd.occurred_at, self.earliest)
        event = patient.record_session(cmd, now=self.now, by=self.by)
        assert event is None or isinstance(event, ev.SessionRecorded)
        return event

    def record(
        self, patient: Patient, fields: Mapping[str, Any], at: datetime, actor: str | None
    ) -> dict[str, Any] | None:
        """A valid command's session recorded on `patient` when it is the common case (a new
        session within an episode at an instant the rules allow): the event's values (its
        `__dict__` but `type`), applied to the patient (state, chain head, version; no
        pending event: the caller makes the event, or its stored row). `fields` hold the
        command's `session_id` and SESSION_FIELDS, `at` its instant. None, the patient
        untouched, when the reference path must decide it."""
        session_id = fields["session_id"]
        at_utc = self.common_case(patient, session_id, at) if FAST else None
        if at_utc is None:
            return None
        timestamp = Event.create_timestamp()
        version = patient.version + 1
        values: dict[str, Any] = {  # the order `Patient.record` gives the event's fields
            "originator_id": patient.id,
            "originator_version": version,
            "timestamp": timestamp,
            "actor": actor,
            "recorded_by": self.by,
            "session_id": session_id,
            "occurred_at": at,
            "format": fields["format"],
            "approach": fields["approach"],
            "duration_minutes": fields["duration_minutes"],
            "delivery": fields["delivery"],
            "status": fields["status"],
            "clinician_id": fields["clinician_id"],
        }
        content = _canonical_content(values, at_utc)  # `link` of it, inline
        chain_hash = sha256(patient.chain_head.encode() + b"\n" + content).hexdigest()
        values["chain_hash"] = chain_hash
        # `PatientEvent.apply` and eventsourcing's `mutate` (identity and version hold by
        # construction), with the fingerprint computed once
        patient.sessions[session_id] = ev.recorded_session(values, session_fingerprint(values))
        patient.chain_head = chain_hash
        patient.version = version
        patient.modified_on = timestamp
        return values

    def common_case(self, patient: Patient, session_id: str, at: datetime) -> datetime | None:
        """`at` in UTC when a session `session_id` at `at` is the common case (a new session
        within an episode, at an instant the rules allow); None when the reference path must
        decide it."""
        try:
            at_utc = at.astimezone(UTC)
        except OverflowError:  # near years 1 and 9999: the reference path knows
            return None
        if (
            at_utc < self.earliest
            or at_utc > self.latest
            or session_id in patient.sessions
            or not self.within_an_episode(patient, at, at_utc)
        ):
            return None
        return at_utc

    def within_an_episode(self, patient: Patient, at: datetime, at_utc: datetime) -> bool:
        """`_within_an_episode(patient, at)`, the last episode compared in UTC."""
        if not patient.episodes:
            return False
        admitted, discharged = patient.episodes[-1]
        known = self._last_episode.get(patient.id)
        if known is None or known[0] is not admitted or known[1] is not discharged:
            if admitted is None:
                return _within_an_episode(patient, at)
            try:
                end = None if discharged is None else discharged.astimezone(UTC)
                known = (admitted, discharged, admitted.astimezone(UTC), end)
            except OverflowError:  # near years 1 and 9999: compared as they are
                return _within_an_episode(patient, at)
            if len(self._last_episode) >= KEPT_EPISODES:
                self._last_episode.clear()
            self._last_episode[patient.id] = known
        end = known[3]
        if known[2] <= at_utc and (end is None or at_utc <= end):
            return True
        return _within_an_episode(patient, at)


def _within_an_episode(patient: Patient, at: datetime) -> bool:
    """`Patient._within_an_episode` as a test."""
    return any(
        admitted is not None and admitted <= at and (discharged is None or at <= discharged)
        for admitted, discharged in patient.episodes
    )


def _canonical_content(values: dict[str, object], at_utc: datetime) -> bytes:
    """`journey.chain.canonical_content` of the event's `hashed_form`: keys already in
    sorted order, instants in UTC; `recorded_by` None hashes as schema version 1 without
    it."""
    timestamp = values["timestamp"]
    assert isinstance(timestamp, datetime)
    by = values["recorded_by"]
    fields = {
        "actor": values["actor"],
        "approach": values["approach"],
        "clinician_id": values["clinician_id"],
        "delivery": values["delivery"],
        "duration_minutes": values["duration_minutes"],
        "format": values["format"],
        "occurred_at": at_utc,
        "recorded_by": by,
        "session_id": values["session_id"],
        "status": values["status"],
        "timestamp": timestamp if timestamp.tzinfo is UTC else timestamp.astimezone(UTC),
    }
    if by is None:
        del fields["recorded_by"]
    document = {
        "fields": fields,
        "patient_id": values["originator_id"],
        "schema_version": 1 if by is None else 2,
        "type": "SessionRecorded",
        "version": values["originator_version"],
    }
    return orjson.dumps(document)
