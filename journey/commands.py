"""Commands as pydantic v2 models, one JSON object per command (SPEC section 4), and the
command registry: one entry per command (journey.registry).

A command's fields are its event's facts (journey.events, declared there once) plus its
own (`command`, `patient_id`, `occurred_at`, `actor`). Everything a command can get wrong on
its own (unknown fields, catalog values, identifier syntax, timestamps without an offset)
is rejected here, naming the field and the rule; rules that depend on the patient's
history live in the aggregate (journey.patient), which the registry names per command."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import PydanticCustomError

from journey import care_events as ce
from journey import domain_events as ev
from journey import events as facts
from journey import fingerprints as fp
from journey.catalog import default_catalog
from journey.patient import Patient
from journey.registry import CommandSpec, parse, registry_of
from journey.values import (
    Actor,
    AgeGroup,
    FreeText,
    Identifier,
    Instant,
    LevelId,
    Timezone,
)


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    patient_id: Identifier


class _EntersLevel(_Command):
    """A command that starts a stay: its level field (`level` or `to_level`) is the level id
    (SPEC 2: output always uses the id), and `asam_code` the ASAM code it was entered with
    (the level's default code when entered by id)."""

    _level_field: ClassVar[str]
    _entered_code: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_entered_code(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        command = handler(data)
        entered = data.get(cls._level_field) if isinstance(data, dict) else None
        if isinstance(entered, str) and entered != getattr(command, cls._level_field):
            command._entered_code = entered
        return command

    @property
    def asam_code(self) -> str:
        level: str = getattr(self, self._level_field)
        return self._entered_code or default_catalog().default_code(level)


class Admit(_EntersLevel):
    _level_field = "level"
    command: Literal["admit"] = "admit"
    level: LevelId = Field(description="level id or an ASAM code of its row (kept as entered)")
    occurred_at: Instant
    age_group: AgeGroup = "adult"
    timezone: Timezone | None = Field(default=None, description="IANA name; default from settings")
    actor: Actor | None = None


class Transition(_EntersLevel):
    _level_field = "to_level"
    command: Literal["transition"] = "transition"
    to_level: LevelId = Field(description="level id or an ASAM code of its row (kept as entered)")
    occurred_at: Instant
    reason: FreeText | None = None
    actor: Actor | None = None


class RecordSession(_Command, facts.SessionRecordedFacts):
    command: Literal["record_session"] = "record_session"
    occurred_at: Instant
    actor: Actor | None = None


class CorrectSession(_Command, facts.SessionCorrectedFacts):
    """The corrected start is `occurred_at` in the command (`session_occurred_at` in the
    event: the event's own `occurred_at` is when the correction was made)."""

    command: Literal["correct_session"] = "correct_session"
    session_occurred_at: Instant | None = Field(
        default=None, alias="occurred_at", description="the corrected start of the session"
    )
    actor: Actor | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> CorrectSession:
        if not self.changes():
            raise PydanticCustomError(
                "changes_required",
                "a correction names at least one of: format, approach, duration_minutes, "
                "occurred_at, delivery, status",
            )
        return self

    def changes(self) -> dict[str, Any]:
        """The corrected fields and their new values, named as in the command."""
        named = {name: getattr(self, name) for name in fp.CORRECTABLE_VALUES}
        named["occurred_at"] = self.session_occurred_at
        return {name: value for name, value in named.items() if value is not None}


class VoidSession(_Command, facts.SessionEnteredInErrorFacts):
    command: Literal["void_session"] = "void_session"
    actor: Actor | None = None


class Discharge(_Command, facts.PatientDischargedFacts):
    command: Literal["discharge"] = "discharge"
    occurred_at: Instant
    actor: Actor | None = None


class AssignPrimaryTherapist(_Command, facts.PrimaryTherapistAssignedFacts):
    command: Literal["assign_primary_therapist"] = "assign_primary_therapist"
    occurred_at: Instant
    actor: Actor | None = None


class CreateTreatmentPlan(_Command, facts.TreatmentPlanCreatedFacts):
    command: Literal["create_treatment_plan"] = "create_treatment_plan"
    occurred_at: Instant
    actor: Actor | None = None


class ReviewTreatmentPlan(_Command, facts.TreatmentPlanReviewedFacts):
    command: Literal["review_treatment_plan"] = "review_treatment_plan"
    occurred_at: Instant
    actor: Actor | None = None


class Refer(_Command, facts.PatientReferredFacts):
    command: Literal["refer"] = "refer"
    occurred_at: Instant
    actor: Actor | None = None


class CloseReferral(_Command, facts.ReferralClosedFacts):
    command: Literal["close_referral"] = "close_referral"
    occurred_at: Instant
    actor: Actor | None = None


Command = (
    Admit
    | Transition
    | RecordSession
    | CorrectSession
    | VoidSession
    | Discharge
    | AssignPrimaryTherapist
    | CreateTreatmentPlan
    | ReviewTreatmentPlan
    | Refer
    | CloseReferral
)

# The command registry: one entry per command of the union (checked at import).
REGISTRY = registry_of(
    Command,
    [
        CommandSpec(
            Admit,
            Patient.readmit,
            (ev.PatientAdmitted,),
            "admissions",
            "Admit the patient (opens an episode)",
            opens=Patient.admit_new,
        ),
        CommandSpec(
            Transition,
            Patient.transition,
            (ev.LevelOfCareChanged,),
            "transitions",
            "Move the patient to another level of care",
        ),
        CommandSpec(
            RecordSession,
            Patient.record_session,
            (ev.SessionRecorded,),
            "sessions",
            "Record a therapy session (retries are safe)",
        ),
        CommandSpec(
            CorrectSession,
            Patient.correct_session,
            (ev.SessionCorrected,),
            "session-corrections",
            "Correct fields of a recorded session",
        ),
        CommandSpec(
            VoidSession,
            Patient.void_session,
            (ev.SessionEnteredInError,),
            "session-voids",
            "Void a session entered in error",
        ),
        CommandSpec(
            Discharge,
            Patient.discharge,
            (ev.PatientDischarged,),
            "discharges",
            "Discharge the patient (closes the episode)",
        ),
        CommandSpec(
            AssignPrimaryTherapist,
            Patient.assign_primary_therapist,
            (ce.PrimaryTherapistAssigned,),
            "primary-therapist",
            "Assign the patient's primary therapist for the open episode",
        ),
        CommandSpec(
            CreateTreatmentPlan,
            Patient.create_treatment_plan,
            (ce.TreatmentPlanCreated,),
            "treatment-plans",
            "Create a treatment plan: goals by ASAM dimension, objectives (retries are safe)",
        ),
        CommandSpec(
            ReviewTreatmentPlan,
            Patient.review_treatment_plan,
            (ce.TreatmentPlanReviewed,),
            "treatment-plans/{plan_id}/reviews",
            "Review the current treatment plan: outcome and objective statuses",
        ),
        CommandSpec(
            Refer,
            Patient.refer,
            (ce.PatientReferred,),
            "referrals",
            "Refer the patient to a specialist (retries are safe)",
        ),
        CommandSpec(
            CloseReferral,
            Patient.close_referral,
            (ce.ReferralClosed,),
            "referrals/{referral_id}/closure",
            "Close a referral with its outcome",
        ),
    ],
)
COMMAND_TYPES: dict[str, type[BaseModel]] = {name: s.model for name, s in REGISTRY.items()}
_ADAPTER: TypeAdapter[Command] = TypeAdapter(Annotated[Command, Field(discriminator="command")])


def parse_command(raw: Any) -> Command:
    """Validate one command object (a dict, as parsed from JSON)."""
    return parse(_ADAPTER, raw, list(REGISTRY))


def parse_command_json(text: str | bytes) -> Command:
    """Validate one command from its JSON text."""
    return parse(_ADAPTER, text, list(REGISTRY), text=True)
