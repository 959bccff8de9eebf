"""Patient-level queries shared by the CLI and the HTTP API: a patient's stored history
folded by the journey projection."""

from __future__ import annotations

from datetime import UTC, datetime

from journey.application import JourneyApplication
from journey.errors import UnknownPatient
from journey.events import EventEnvelope
from projections.journey import project_journey
from projections.journey_view import JourneyView


def patient_history(
    app: JourneyApplication, patient_id: str, *, known_at: datetime | None = None
) -> list[EventEnvelope]:
    """The patient's events in order, only those recorded by `known_at` when given."""
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
    view = project_journey(app.history(patient_id), as_of=as_of or now, known_at=known_at, now=now)
    if view is None:
        raise UnknownPatient(patient_id)
    return view
