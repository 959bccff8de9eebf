"""Patient-level queries shared by the CLI and the HTTP API: a patient's stored history
folded by the journey projection.

Each query reads and folds with the cyclic garbage collector paused (reference counting
still frees every temporary): a long history is thousands of new long-lived objects and
the fold thousands of short-lived ones, without cycles, so a collection scans nothing it
could free. Paused over the whole query, the survivors are scanned once, when it resumes,
instead of by every young collection the fold would trigger (the `show` of a 1,000-event
patient spent about a fifth of its time there).

`patient_journey` folds the patient's stored rows without an envelope per event
(projections/stored_journey.py; the cold `show`); the other queries fold its envelopes."""

from __future__ import annotations

from datetime import UTC, datetime

from journey.application import JourneyApplication
from journey.errors import UnknownPatient
from journey.events import EventEnvelope
from journey.mapper import cyclic_gc_paused
from projections.care_view import CareView, care_view
from projections.journey import project_journey
from projections.journey_view import JourneyView
from projections.session_view import SessionLogView, session_log_view
from projections.stored_journey import fold_journey, read_history


def patient_history(
    app: JourneyApplication, patient_id: str, *, known_at: datetime | None = None
) -> list[EventEnvelope]:
    """The patient's events in order, only those recorded by `known_at` when given."""
    with cyclic_gc_paused():
        events = [e for e in app.history(patient_id) if e.known_by(known_at)]
    if not events:
        raise UnknownPatient(patient_id)
    return events


def patient_journey(
    app: JourneyApplication,
    patient_id: str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> JourneyView:
    """The journey as of `as_of` (default now), from what was known at `known_at`; an
    `as_of` after now is marked (`as_of_in_future`)."""
    now = datetime.now(UTC)
    with cyclic_gc_paused():
        stored = read_history(app, patient_id)  # None: this mapper reads envelopes only
        if stored is not None:
            view = fold_journey(stored, as_of=as_of or now, known_at=known_at, now=now)
        else:
            history = app.history(patient_id)
            view = project_journey(history, as_of=as_of or now, known_at=known_at, now=now)
    if view is None:
        raise UnknownPatient(patient_id)
    return view


def patient_sessions(
    app: JourneyApplication,
    patient_id: str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> SessionLogView:
    """The sessions (corrections and voids applied) started by `as_of` (default now), and
    every correction and void, from what was known at `known_at`."""
    with cyclic_gc_paused():
        view = session_log_view(
            app.history(patient_id), as_of=as_of or datetime.now(UTC), known_at=known_at
        )
    if view is None:
        raise UnknownPatient(patient_id)
    return view


def patient_care(
    app: JourneyApplication,
    patient_id: str,
    *,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> CareView:
    """The treatment plans (goals, objectives and their statuses), referrals and primary
    therapist as of `as_of` (default now), from what was known at `known_at`."""
    with cyclic_gc_paused():
        history = app.history(patient_id)
        view = care_view(history, as_of=as_of or datetime.now(UTC), known_at=known_at)
    if view is None:
        raise UnknownPatient(patient_id)
    return view
