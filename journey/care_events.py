"""The stored events of the clinical program (SPEC sections 4 and 5): the primary
therapist, treatment plans and their reviews, referrals. As in journey.domain_events, each
is its payload model (journey.events) plus the metadata, and only assigns state in
`apply_to`; the aggregate keeps what the rules of journey.care_program need."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from journey import events as wire
from journey.domain_events import PatientEvent
from journey.fingerprints import fingerprint

if TYPE_CHECKING:
    from journey.patient import Patient


class ProgramEvent(PatientEvent):
    """The clinical program's events: schema version 1 (they came after `recorded_by`)."""

    class_version: ClassVar[int] = 1
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = {}


class PrimaryTherapistAssigned(ProgramEvent, wire.PrimaryTherapistAssigned):
    def apply_to(self, patient: Patient) -> None:
        patient.assignments.append([self.occurred_at, self.clinician_id])


class TreatmentPlanCreated(ProgramEvent, wire.TreatmentPlanCreated):
    def apply_to(self, patient: Patient) -> None:
        patient.plans[self.plan_id] = {
            "fingerprint": fingerprint(self.occurred_at, self.goals),
            "created_at": self.occurred_at,
            "episode": len(patient.episodes),
            "objectives": [o["objective_id"] for g in self.goals for o in g["objectives"]],
            "reviews": [],
        }


class TreatmentPlanReviewed(ProgramEvent, wire.TreatmentPlanReviewed):
    def apply_to(self, patient: Patient) -> None:
        review = fingerprint(self.occurred_at, self.outcome, self.objectives)
        patient.plans[self.plan_id]["reviews"].append([self.occurred_at, review])


class PatientReferred(ProgramEvent, wire.PatientReferred):
    def apply_to(self, patient: Patient) -> None:
        patient.referrals[self.referral_id] = {
            "fingerprint": fingerprint(self.occurred_at, self.specialty, self.to_clinician_id),
            "occurred_at": self.occurred_at,
            "episode": len(patient.episodes),
            "closed": None,
        }


class ReferralClosed(ProgramEvent, wire.ReferralClosed):
    def apply_to(self, patient: Patient) -> None:
        referral = patient.referrals[self.referral_id]
        referral["closed"] = fingerprint(self.occurred_at, self.outcome)
