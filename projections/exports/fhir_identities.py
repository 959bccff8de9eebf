"""The FHIR export is identified (docs/exports.md) but the read models hold keyed
pseudonyms of patient and session ids (docs/privacy.md). `Identities` maps them back,
built from the event log: each patient id of the log under its pseudonym, and the session
ids of the patients the read models hold (from their SessionRecorded events). Patients
absent from the read models (erased ones) are never read. The same pass folds each
patient's care (`projections.care_view`: treatment plans and referrals, which carry free
text and clinician ids the read models do not hold) as of the export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infrastructure.pseudonym_keys import app_pseudonymizer
from infrastructure.sql import Unit
from journey.application import JourneyApplication
from projections.care_view import CareView, care_view

PAGE = 10_000


@dataclass(frozen=True)
class Identities:
    """Read-model pseudonym -> identifier, for patients and sessions."""

    patients: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    care: dict[str, CareView] = field(default_factory=dict)  # by patient id, as of the export

    def patient(self, pseudonym: str) -> str:
        return self.patients[pseudonym]

    def session(self, pseudonym: str) -> str:
        return self.sessions[pseudonym]


def _log_patients(app: JourneyApplication) -> set[str]:
    found: set[str] = set()
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=PAGE)
        found.update(str(n.originator_id) for n in page)
        if len(page) < PAGE:
            return found
        start = page[-1].id + 1


def identities(app: JourneyApplication, unit: Unit) -> Identities:
    """The identities of every patient in the read models (`unit`) and of their sessions."""
    pseudonyms = app_pseudonymizer(app)
    held = {str(r[0]) for r in unit.all("SELECT patient_id FROM rm_patients")}
    patients = {p: pid for pid in _log_patients(app) if (p := pseudonyms.id(pid)) in held}
    sessions: dict[str, str] = {}
    care: dict[str, CareView] = {}
    now = datetime.now(UTC)
    for pid in patients.values():
        history = app.history(pid)
        for envelope in history:
            payload: Any = envelope.payload
            if envelope.type == "SessionRecorded":
                sessions[pseudonyms.id(payload.session_id, "session")] = payload.session_id
        found = care_view(history, as_of=now)
        if found is not None and (found.plans or found.referrals):
            care[pid] = found
    return Identities(patients, sessions, care)
