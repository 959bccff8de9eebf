"""Incremental handlers for sessions: one row per session, as corrected, voided flagged.

Corrections and voids follow `projections.session_log` (they apply whatever T is; one
naming an unknown session is ignored); a moved start re-dates the session's local date and
ISO week in the patient's zone. `counts_toward_intensity` comes from the catalog; an
approach missing from it does not count (as in `projections.journey_weeks`)."""

from __future__ import annotations

from infrastructure.sql import Params
from journey.events import EventEnvelope, SessionCorrected, SessionEnteredInError, SessionRecorded
from projections.calendar import iso_week_label, week_monday
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.session_counters import counts_toward_intensity, session_counted
from projections.read_models.unit import ReadModelUnit
from projections.session_log import SessionState, amended

_FIELDS = "occurred_at, format, approach, duration_minutes, delivery, status, clinician_id"


def _dated(session: SessionState, patient: PatientRow | None) -> Params:
    """The session's stored fields, with its local date, ISO week and intensity flag."""
    day = calendar_for(patient.timezone if patient else None).local_date(session.occurred_at)
    return (
        session.occurred_at, session.format, session.approach, session.duration_minutes,
        session.delivery, session.status, session.clinician_id, day, iso_week_label(day),
        week_monday(day), counts_toward_intensity(session.approach),
    )  # fmt: skip


def on_session_recorded(
    unit: ReadModelUnit, envelope: EventEnvelope, event: SessionRecorded, patient: PatientRow | None
) -> None:
    session = SessionState(
        event.session_id, envelope.occurred_at, event.format, event.approach,
        event.duration_minutes, event.delivery, event.status, event.clinician_id,
    )  # fmt: skip
    unit.buffers.new_sessions.append(
        unit.dialect.row(
            (envelope.patient_id, event.session_id, *_dated(session, patient), False, False,
             envelope.version),
        )
    )  # fmt: skip
    unit.before_flush("rm_sessions", _insert_pending)
    session_counted(unit, patient, session, +1)


_INSERT = (
    f"INSERT INTO rm_sessions (patient_id, session_id, {_FIELDS}, local_date, iso_week,"
    " week_start, counts_toward_intensity, voided, corrected, recorded_version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (patient_id, session_id) DO NOTHING"
)


def queue_insert(unit: ReadModelUnit, rows: list[Params]) -> None:
    """Rows of new sessions (`_INSERT`'s parameters, as the dialect stores them: on SQLite
    instants and dates as their text), inserted with the pending ones."""
    unit.buffers.new_sessions.extend(rows)
    unit.before_flush("rm_sessions", _insert_pending)


def _insert_pending(unit: ReadModelUnit) -> None:
    """New sessions are inserted together: before a handler reads them, or at commit."""
    pending, unit.buffers.new_sessions = unit.buffers.new_sessions, []
    if not pending:
        return
    if unit.dialect.name == "sqlite":  # queued as SQLite stores them: nothing to convert
        unit.connection.executemany(_INSERT, pending)
    else:
        unit.executemany(_INSERT, pending)


def _load(unit: ReadModelUnit, patient_id: str, session_id: str) -> SessionState | None:
    _insert_pending(unit)
    row = unit.one(
        f"SELECT {_FIELDS}, voided FROM rm_sessions WHERE patient_id = ? AND session_id = ?",
        (patient_id, session_id),
    )
    if row is None:
        return None
    occurred_at = unit.dialect.instant(row[0])
    assert occurred_at is not None
    fmt, approach, minutes, delivery, status, clinician = row[1:7]
    return SessionState(
        session_id, occurred_at, fmt, approach, minutes, delivery, status, clinician, bool(row[7])
    )


def on_session_amended(
    unit: ReadModelUnit,
    envelope: EventEnvelope,
    event: SessionCorrected | SessionEnteredInError,
    patient: PatientRow | None,
) -> None:
    """A correction or a void: the stored session, amended by the journey fold's rule."""
    pid = envelope.patient_id
    known = _load(unit, pid, event.session_id)
    if known is None:
        return
    session = amended(known, event)
    session_counted(unit, patient, known, -1)
    session_counted(unit, patient, session, +1)
    unit.execute(
        "UPDATE rm_sessions SET occurred_at = ?, format = ?, approach = ?,"
        " duration_minutes = ?, delivery = ?, status = ?, clinician_id = ?, local_date = ?,"
        " iso_week = ?, week_start = ?, counts_toward_intensity = ?, voided = ?,"
        " corrected = corrected OR ? WHERE patient_id = ? AND session_id = ?",
        (*_dated(session, patient), session.voided, isinstance(event, SessionCorrected), pid,
         event.session_id),
    )  # fmt: skip


flush_pending = _insert_pending
