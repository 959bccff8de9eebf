"""The patient journey as served (SPEC section 6): field order is the JSON key order.

Datetimes serialize to JSON as UTC ISO-8601 with `+00:00`; hours and the attendance rate
are already rounded to 2 decimals (the exact comparisons happen before, in `weeks`).
`as_of_in_future` marks a view asked as of an instant after the moment it was computed
(the figures then project the future: days counted up to T as if nothing changes).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


UtcDatetime = Annotated[datetime, PlainSerializer(_utc_iso, return_type=str, when_used="json")]
JourneyStatus = Literal["active", "discharged", "not_admitted"]
WeekStatus = Literal["no_requirement", "below_minimum", "above_maximum", "within_range"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StayView(_View):
    level: str
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    days: int


class EpisodeView(_View):
    number: int
    admitted_at: UtcDatetime
    discharged_at: UtcDatetime | None
    discharge_reason: str | None
    days: int
    stays: list[StayView]


class WeekView(_View):
    week: str
    start_date: date
    attended_hours: float
    other_hours: float
    evidence_based_hours: float = Field(
        description="the part of attended_hours whose approach is evidence-based"
    )
    individual_sessions: int
    individual_with_primary: int = Field(
        description="attended individual sessions with the primary therapist in force at"
        " the session's start"
    )
    weekly_individual_met: bool | None = Field(
        description="individual_with_primary >= 1; null when fewer than 4 of the week's"
        " dates have a level (a week cut by admission or discharge is not judged)"
    )
    level_days: dict[str, int]
    expected_min_hours: float | None
    expected_max_hours: float | None
    status: WeekStatus
    complete: bool


class SessionCounts(_View):
    attended: int
    no_show: int
    cancelled: int
    voided: int
    attendance_rate: float | None


class TreatmentPlanView(_View):
    plan_id: str
    created_at: UtcDatetime
    reviews: int = Field(description="reviews of the plan at or before as_of")
    last_reviewed_at: UtcDatetime | None
    next_review_due: date = Field(
        description="local date of the last review (or of the creation) plus 7 days"
    )
    review_overdue: bool = Field(
        description="the episode is open at as_of and as_of's local date is after next_review_due"
    )
    objectives: dict[str, int] = Field(
        description="number of the plan's objectives per status as of as_of (`open` before"
        " any review names them)"
    )


class ReferralView(_View):
    referral_id: str
    specialty: str
    referred_at: UtcDatetime
    closed_at: UtcDatetime | None = Field(description="null while open at as_of")
    outcome: str | None
    days_open: int = Field(
        description="local dates from the referral to its close (or, while open, to as_of)"
    )


class JourneyView(_View):
    patient_id: str
    as_of: UtcDatetime
    known_at: UtcDatetime | None
    as_of_in_future: bool = Field(
        default=False,
        description="as_of is after the moment the view was computed: the figures project"
        " the future",
    )
    status: JourneyStatus
    current_level: str | None
    current_stay_started_at: UtcDatetime | None
    age_group: str
    timezone: str
    episodes: list[EpisodeView]
    days_by_level: dict[str, int]
    days_in_care: int
    continuous_care_days: int
    meets_90_day_benchmark: bool
    primary_therapist: str | None = Field(
        description="clinician of the latest assignment of the episode open at as_of"
    )
    treatment_plan: TreatmentPlanView | None = Field(
        description="the latest plan created by as_of in the latest episode admitted by as_of"
    )
    plan_overdue: bool = Field(
        description="the latest episode is open, has no plan, and its admission level's"
        " plan_due_days have passed"
    )
    referrals: list[ReferralView] = Field(description="referrals made by as_of, oldest first")
    weeks: list[WeekView]
    sessions: SessionCounts
