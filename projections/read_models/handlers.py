"""Applies event envelopes to the read models inside the caller's transaction.

Every driver (the projection's poller and runner, the Kafka projector, the rebuilds) calls
`apply_events`; it is plain Python, callable without any broker. The batch's rows are read
and written through a typed unit of work (`unit.ReadModelUnit`), flushed at its end.

Each patient's events arrive in version order (the log is ordered, Kafka keys by patient),
so an event whose version is not above the patient's `last_version` was applied already and
is skipped: applying twice changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol, assert_never

from infrastructure.sql import Unit
from journey.events import (
    EventEnvelope,
    LevelOfCareChanged,
    PatientAdmitted,
    PatientDischarged,
    PatientReferred,
    PrimaryTherapistAssigned,
    ReferralClosed,
    SessionCorrected,
    SessionEnteredInError,
    SessionRecorded,
    TreatmentPlanCreated,
    TreatmentPlanReviewed,
)
from projections.calendar import week_monday
from projections.read_models import care_weeks, overdue
from projections.read_models.care import on_care_event
from projections.read_models.episodes import on_admitted, on_discharged, on_level_changed
from projections.read_models.patients import load_patient, preload_patients, save_patient
from projections.read_models.session_counters import stay_boundary
from projections.read_models.sessions import flush_pending, on_session_amended, on_session_recorded
from projections.read_models.unit import ReadModelUnit
from projections.read_models.weeks import preload_weeks

PRELOAD_MARGIN = timedelta(days=2)  # local dates differ from UTC ones by at most a day


class Dated(Protocol):
    """An event as `prepare` needs it: an envelope, or a decoded session's columns."""

    @property
    def patient_id(self) -> str: ...

    @property
    def occurred_at(self) -> datetime: ...


def prepare(unit: ReadModelUnit, envelopes: Sequence[Dated]) -> None:
    """Reads the rows a batch of events will need (patients, their recent weeks) in a few
    statements, so applying them reads little more."""
    if not envelopes:
        return
    patient_ids = sorted({e.patient_id for e in envelopes})
    preload_patients(unit, patient_ids)
    earliest = min(e.occurred_at for e in envelopes).astimezone(UTC).date()
    preload_weeks(unit, patient_ids, week_monday(earliest - PRELOAD_MARGIN))


def apply_events(unit: Unit, envelopes: Sequence[EventEnvelope]) -> int:
    """Applies a batch of events in order and writes what they changed; returns how many
    were not held already."""
    work = unit if isinstance(unit, ReadModelUnit) else ReadModelUnit(unit)
    prepare(work, envelopes)
    applied = sum(apply_event(work, envelope) for envelope in envelopes)
    work.flush()
    return applied


def apply_event(unit: ReadModelUnit, envelope: EventEnvelope) -> bool:
    """Applies `envelope`; False when the read models already hold it."""
    patient = load_patient(unit, envelope.patient_id)
    if patient is not None and envelope.version <= patient.last_version:
        return False
    payload, before = envelope.payload, patient
    if isinstance(payload, PatientAdmitted | LevelOfCareChanged | PatientDischarged):
        if isinstance(payload, PatientAdmitted):
            patient = on_admitted(unit, envelope, payload, patient)
        elif isinstance(payload, LevelOfCareChanged):
            patient = on_level_changed(unit, envelope, payload, patient)
        else:
            patient = on_discharged(unit, envelope, payload, patient)
        if patient is not None and patient is not before:
            flush_pending(unit)
            stay_boundary(unit, before, patient, envelope.occurred_at)
            roster_changed = not isinstance(payload, LevelOfCareChanged)
            care_weeks.stay_boundary(
                unit, patient, envelope.occurred_at, roster_changed=roster_changed
            )
            overdue.stay_boundary(unit, patient, roster_changed=roster_changed)
    elif isinstance(payload, SessionRecorded):
        on_session_recorded(unit, envelope, payload, patient)
    elif isinstance(payload, SessionCorrected | SessionEnteredInError):
        on_session_amended(unit, envelope, payload, patient)
    elif isinstance(
        payload,
        PrimaryTherapistAssigned | TreatmentPlanCreated | TreatmentPlanReviewed
        | PatientReferred | ReferralClosed,
    ):  # fmt: skip
        on_care_event(unit, envelope, payload, patient)
        if isinstance(payload, PrimaryTherapistAssigned) and patient is not None:
            flush_pending(unit)
            care_weeks.therapist_assigned(unit, patient, envelope.occurred_at)
    else:
        assert_never(payload)
    if patient is not None:  # None only for a stream not starting with an admission
        save_patient(unit, patient, envelope)
    return True
