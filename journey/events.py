"""Events on the wire: one pydantic payload model per domain event, and the envelope that
carries a payload with its metadata. Readers (projections, history, Kafka) see events only
in this shape; the JSON Schemas of the topic contract are generated from these models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

EVENT_NAMES = (
    "PatientAdmitted",
    "LevelOfCareChanged",
    "SessionRecorded",
    "SessionCorrected",
    "SessionEnteredInError",
    "PatientDischarged",
)


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PatientAdmitted(_Payload):
    """An episode of care began at `level`."""

    type: Literal["PatientAdmitted"] = "PatientAdmitted"
    level: str
    asam_code: str | None = Field(
        default=None,
        description="the ASAM code the stay was entered with (the level's default code when"
        " entered by id); null for events stored before schema version 3",
    )
    age_group: Literal["adult", "adolescent"]
    timezone: str = Field(description="IANA zone of the patient, fixed at first admission")


class LevelOfCareChanged(_Payload):
    """The patient moved from one level of care to another within an open episode."""

    type: Literal["LevelOfCareChanged"] = "LevelOfCareChanged"
    from_level: str
    to_level: str
    asam_code: str | None = Field(
        default=None,
        description="the ASAM code the new stay was entered with (the level's default code"
        " when entered by id); null for events stored before schema version 3",
    )
    direction: Literal["step_down", "step_up"]
    reason: str | None = None


class SessionRecorded(_Payload):
    """A therapy session took place (or was missed or cancelled) at `occurred_at`."""

    type: Literal["SessionRecorded"] = "SessionRecorded"
    session_id: str
    format: str
    approach: str
    duration_minutes: int
    delivery: str
    status: str
    clinician_id: str | None = None


class SessionCorrected(_Payload):
    """Fields of a recorded session were corrected; null means unchanged."""

    type: Literal["SessionCorrected"] = "SessionCorrected"
    session_id: str
    reason: str
    format: str | None = None
    approach: str | None = None
    duration_minutes: int | None = None
    session_occurred_at: AwareDatetime | None = Field(
        default=None, description="the corrected start of the session"
    )
    delivery: str | None = None
    status: str | None = None


class SessionEnteredInError(_Payload):
    """A recorded session was voided: it was entered in error."""

    type: Literal["SessionEnteredInError"] = "SessionEnteredInError"
    session_id: str
    reason: str


class PatientDischarged(_Payload):
    """The open episode ended."""

    type: Literal["PatientDischarged"] = "PatientDischarged"
    reason: str


class PrimaryTherapistAssigned(_Payload):
    """The clinician became the patient's primary therapist for the open episode."""

    type: Literal["PrimaryTherapistAssigned"] = "PrimaryTherapistAssigned"
    clinician_id: str
    previous_clinician_id: str | None = None


class PlanObjective(_Payload):
    """A measurable objective of a treatment-plan goal, due by a local date."""

    objective_id: str
    target_date: date = Field(description="local date (the patient's time zone)")
    description: str | None = None


class PlanGoal(_Payload):
    """A treatment-plan goal addressing one ASAM dimension."""

    goal_id: str
    dimension: str
    description: str | None = None
    objectives: list[PlanObjective]


class TreatmentPlanCreated(_Payload):
    """A personalized treatment plan was created for the open episode."""

    type: Literal["TreatmentPlanCreated"] = "TreatmentPlanCreated"
    plan_id: str
    goals: list[PlanGoal]


class TreatmentPlanReviewed(_Payload):
    """The plan was reviewed; `objectives` gives objective id -> status ({} when none)."""

    type: Literal["TreatmentPlanReviewed"] = "TreatmentPlanReviewed"
    plan_id: str
    outcome: str
    objectives: dict[str, str] = Field(default_factory=dict)


class PatientReferred(_Payload):
    """The patient was referred to a specialist."""

    type: Literal["PatientReferred"] = "PatientReferred"
    referral_id: str
    specialty: str
    to_clinician_id: str | None = None


class ReferralClosed(_Payload):
    """A referral was closed with an outcome."""

    type: Literal["ReferralClosed"] = "ReferralClosed"
    referral_id: str
    outcome: str


Payload = Annotated[
    PatientAdmitted
    | LevelOfCareChanged
    | SessionRecorded
    | SessionCorrected
    | SessionEnteredInError
    | PatientDischarged
    | PrimaryTherapistAssigned
    | TreatmentPlanCreated
    | TreatmentPlanReviewed
    | PatientReferred
    | ReferralClosed,
    Field(discriminator="type"),
]


class EventEnvelope(BaseModel):
    """One stored event with its bitemporal metadata."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str = Field(description="stable id of the event (CloudEvents ce_id)")
    patient_id: str
    version: int = Field(description="aggregate version: position in the patient's stream, from 1")
    schema_version: int
    occurred_at: AwareDatetime = Field(description="clinical time")
    recorded_at: AwareDatetime = Field(description="transaction time: when the service stored it")
    actor: str | None = Field(default=None, description="who the command says acted")
    recorded_by: str | None = Field(
        default=None,
        description="the authenticated principal that recorded the event (API key's principal,"
        " or the CLI's operating-system account or --actor); null for events stored before"
        " schema version 2",
    )
    chain_hash: str | None = Field(
        default=None,
        description="SHA-256 linking the event to the patient's previous event and its content",
    )
    payload: Payload

    @property
    def type(self) -> str:
        return self.payload.type

    def known_by(self, known_at: datetime | None) -> bool:
        """Whether the event was recorded at or before `known_at` (None: now)."""
        return known_at is None or self.recorded_at <= known_at
