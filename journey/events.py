"""Every clinical fact's fields, declared once (SPEC sections 4 and 5).

For each event: its facts (`<Name>Facts`, the fields a command and its event share), and
its payload model `journey.events.<Name>` (the facts, the event's own derived fields and
the `type` literal). The payload is what readers see (projections, history, Kafka; the
JSON Schemas of the topic contract are generated from it), the stored event
(`journey.domain_events.<Name>`) is the payload plus the event's metadata, and the command
(`journey.commands`) is the facts plus the command's own fields. `EventEnvelope` carries a
payload with its metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, with_config
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from journey.values import (
    Approach,
    Delivery,
    Dimension,
    DischargeReason,
    Format,
    FreeText,
    Identifier,
    Instant,
    LocalDate,
    Minutes,
    ObjectiveStatus,
    ReferralOutcome,
    ReviewOutcome,
    Specialty,
    Status,
)


class Facts(BaseModel):
    """Fields of a clinical fact, shared by a command and its event."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )


class _Payload(Facts):
    type: str


# -- admissions and levels of care (command fields differ: see journey.commands) -----------
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


# -- sessions ------------------------------------------------------------------------------
class SessionRecordedFacts(Facts):
    session_id: Identifier
    format: Format
    approach: Approach
    duration_minutes: Minutes
    delivery: Delivery = "in_person"
    status: Status = "attended"
    clinician_id: Identifier | None = None


class SessionRecorded(SessionRecordedFacts, _Payload):
    """A therapy session took place (or was missed or cancelled) at `occurred_at`."""

    type: Literal["SessionRecorded"] = "SessionRecorded"


class SessionCorrectedFacts(Facts):
    session_id: Identifier
    reason: FreeText
    format: Format | None = None
    approach: Approach | None = None
    duration_minutes: Minutes | None = None
    session_occurred_at: Instant | None = Field(
        default=None, description="the corrected start of the session"
    )
    delivery: Delivery | None = None
    status: Status | None = None


class SessionCorrected(SessionCorrectedFacts, _Payload):
    """Fields of a recorded session were corrected; null means unchanged."""

    type: Literal["SessionCorrected"] = "SessionCorrected"


class SessionEnteredInErrorFacts(Facts):
    session_id: Identifier
    reason: FreeText


class SessionEnteredInError(SessionEnteredInErrorFacts, _Payload):
    """A recorded session was voided: it was entered in error."""

    type: Literal["SessionEnteredInError"] = "SessionEnteredInError"


class PatientDischargedFacts(Facts):
    reason: DischargeReason


class PatientDischarged(PatientDischargedFacts, _Payload):
    """The open episode ended."""

    type: Literal["PatientDischarged"] = "PatientDischarged"


# -- the clinical program: primary therapist, treatment plans, referrals (SPEC 4, 6) -------
class PrimaryTherapistAssignedFacts(Facts):
    clinician_id: Identifier


class PrimaryTherapistAssigned(PrimaryTherapistAssignedFacts, _Payload):
    """The patient's primary therapist for the open episode is `clinician_id` from
    `occurred_at` (until another is assigned or the episode ends)."""

    type: Literal["PrimaryTherapistAssigned"] = "PrimaryTherapistAssigned"
    previous_clinician_id: Identifier | None = Field(
        description="the primary therapist in force at `occurred_at` before it; null when none"
    )


@with_config(ConfigDict(extra="forbid"))
class Objective(TypedDict):
    """A measurable step of a goal, due by a local date of the patient's time zone."""

    objective_id: Identifier
    target_date: LocalDate
    description: NotRequired[FreeText | None]


@with_config(ConfigDict(extra="forbid"))
class Goal(TypedDict):
    """A goal of the plan in one ASAM dimension, with its objectives."""

    goal_id: Identifier
    dimension: Dimension
    description: NotRequired[FreeText | None]
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=20)]


def _described(goals: list[Any]) -> list[Any]:
    """Goals and objectives with their `description` (null when not given), ids unique."""
    goal_ids = [g["goal_id"] for g in goals]
    objective_ids = [o["objective_id"] for g in goals for o in g["objectives"]]
    for kind, ids in (("goal_id", goal_ids), ("objective_id", objective_ids)):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise PydanticCustomError(
                f"unique_{kind}", f"{kind} used twice in the plan: {', '.join(repeated)}"
            )
    return [
        {
            "goal_id": g["goal_id"],
            "dimension": g["dimension"],
            "description": g.get("description"),
            "objectives": [
                {
                    "objective_id": o["objective_id"],
                    "target_date": o["target_date"],
                    "description": o.get("description"),
                }
                for o in g["objectives"]
            ],
        }
        for g in goals
    ]


class TreatmentPlanCreatedFacts(Facts):
    plan_id: Identifier
    goals: Annotated[list[Goal], Field(min_length=1, max_length=20), AfterValidator(_described)]


class TreatmentPlanCreated(TreatmentPlanCreatedFacts, _Payload):
    """A personalized treatment plan was made: goals by ASAM dimension, each with its
    objectives and their target dates. Descriptions are free text (protected)."""

    type: Literal["TreatmentPlanCreated"] = "TreatmentPlanCreated"


class TreatmentPlanReviewedFacts(Facts):
    plan_id: Identifier
    outcome: ReviewOutcome
    objectives: dict[Identifier, ObjectiveStatus] = Field(
        default_factory=dict, description="objective_id -> its status at this review"
    )


class TreatmentPlanReviewed(TreatmentPlanReviewedFacts, _Payload):
    """The therapist and the patient reviewed the plan: its outcome and the status of the
    objectives named ({} when none)."""

    type: Literal["TreatmentPlanReviewed"] = "TreatmentPlanReviewed"


class PatientReferredFacts(Facts):
    referral_id: Identifier
    specialty: Specialty
    to_clinician_id: Identifier | None = None


class PatientReferred(PatientReferredFacts, _Payload):
    """The patient was referred to a specialist (a specialty, and the clinician if named)."""

    type: Literal["PatientReferred"] = "PatientReferred"


class ReferralClosedFacts(Facts):
    referral_id: Identifier
    outcome: ReferralOutcome


class ReferralClosed(ReferralClosedFacts, _Payload):
    """A referral ended with `outcome`."""

    type: Literal["ReferralClosed"] = "ReferralClosed"


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
PAYLOAD_TYPES: tuple[type[_Payload], ...] = get_args(get_args(Payload)[0])
EVENT_NAMES = tuple(payload.__name__ for payload in PAYLOAD_TYPES)


class EventEnvelope(BaseModel):
    """One stored event with its bitemporal metadata."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_serialization_defaults_required=True
    )

    event_id: str = Field(description="stable id of the event (CloudEvents ce_id)")
    patient_id: str
    version: int = Field(description="aggregate version: position in the patient's stream, from 1")
    schema_version: int
    occurred_at: Instant = Field(description="clinical time")
    recorded_at: Instant = Field(description="transaction time: when the service stored it")
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
