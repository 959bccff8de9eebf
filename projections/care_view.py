"""The care detail of one patient as of T, known at K: every treatment plan created by T
(goals by ASAM dimension, objectives with their target dates and statuses), the referrals
and the primary therapist. The journey (`projections.care`) gives the figures (review due
and overdue, plan overdue, days open, objective statuses by `care.objective_statuses`);
this view adds what those figures are about, for the patient page
(`GET /v1/patients/{id}/care`), the audit report and the FHIR export (CarePlan, Goal,
ServiceRequest). Nothing here decides a clinical rule of its own."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from journey.events import EventEnvelope, TreatmentPlanCreated, TreatmentPlanReviewed
from projections.care import CareLog, PlanFacts, collect_care, objective_statuses
from projections.facts import JourneyFacts, journey_facts, visible_events
from projections.journey_view import UtcDatetime


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObjectiveView(_View):
    objective_id: str
    target_date: date = Field(description="local date (the patient's time zone)")
    description: str | None
    status: str = Field(description="open, in_progress, met, not_met or discontinued, as of T")


class GoalView(_View):
    goal_id: str
    dimension: str = Field(description="ASAM dimension (catalog id)")
    description: str | None
    objectives: list[ObjectiveView]


class PlanView(_View):
    plan_id: str
    episode: int = Field(description="number of the episode the plan belongs to")
    status: Literal["active", "completed"] = Field(
        description="active: the journey's current plan in an open episode; completed:"
        " superseded by a later plan or its episode discharged"
    )
    created_at: UtcDatetime
    reviews: int = Field(description="reviews at or before T")
    last_reviewed_at: UtcDatetime | None
    last_outcome: str | None = Field(description="outcome of the latest review by T")
    next_review_due: date | None = Field(description="the journey's, for the current plan")
    review_overdue: bool = Field(description="the journey's, for the current plan")
    goals: list[GoalView]


class ReferralDetail(_View):
    referral_id: str
    specialty: str
    to_clinician_id: str | None
    referred_at: UtcDatetime
    closed_at: UtcDatetime | None
    outcome: str | None
    days_open: int


class CareView(_View):
    """What `GET /v1/patients/{id}/care` answers."""

    patient_id: str
    as_of: UtcDatetime
    known_at: UtcDatetime | None
    timezone: str
    primary_therapist: str | None
    plan_overdue: bool
    plans: list[PlanView] = Field(description="every plan created by T, oldest first")
    referrals: list[ReferralDetail] = Field(description="made by T, oldest first")


def _goals(plan: TreatmentPlanCreated, reviews: Sequence[TreatmentPlanReviewed]) -> list[GoalView]:
    status = objective_statuses(plan, reviews)
    return [
        GoalView(
            goal_id=g["goal_id"], dimension=g["dimension"], description=g.get("description"),
            objectives=[
                ObjectiveView(objective_id=o["objective_id"], target_date=o["target_date"],
                              description=o.get("description"), status=status[o["objective_id"]])
                for o in g["objectives"]
            ],
        )
        for g in plan.goals
    ]  # fmt: skip


def _plan(
    log: CareLog, episode: int, created_at: datetime, plan: TreatmentPlanCreated,
    facts: JourneyFacts,
) -> PlanView:  # fmt: skip
    reviews = [
        (at, review) for (at, _), review in log.reviews.get(plan.plan_id, []) if at <= facts.as_of
    ]
    current: PlanFacts | None = facts.care.treatment_plan
    latest = facts.timeline.latest
    is_current = current is not None and current.plan_id == plan.plan_id
    active = is_current and latest is not None and latest.is_open
    return PlanView(
        plan_id=plan.plan_id,
        episode=episode,
        status="active" if active else "completed",
        created_at=created_at,
        reviews=len(reviews),
        last_reviewed_at=reviews[-1][0] if reviews else None,
        last_outcome=reviews[-1][1].outcome if reviews else None,
        next_review_due=current.next_review_due if is_current and current else None,
        review_overdue=bool(is_current and current and current.review_overdue),
        goals=_goals(plan, [r for _, r in reviews]),
    )


def care_view_of(facts: JourneyFacts, log: CareLog) -> CareView:
    """The view from the journey's facts and the care log of the same known events."""
    plans = [
        _plan(log, episode, at, plan, facts)
        for episode, entries in sorted(log.plans.items())
        for (at, _), plan in entries
        if at <= facts.as_of
    ]
    sent = {r.referral_id: r for _, r in log.referrals}
    referrals = [
        ReferralDetail(
            referral_id=r.referral_id, specialty=r.specialty,
            to_clinician_id=sent[r.referral_id].to_clinician_id, referred_at=r.referred_at,
            closed_at=r.closed_at, outcome=r.outcome, days_open=r.days_open,
        )
        for r in facts.care.referrals
    ]  # fmt: skip
    return CareView(
        patient_id=facts.patient_id,
        as_of=facts.as_of,
        known_at=facts.known_at,
        timezone=facts.calendar.timezone,
        primary_therapist=facts.care.primary_therapist,
        plan_overdue=facts.care.plan_overdue,
        plans=plans,
        referrals=referrals,
    )


def care_view(
    events: Sequence[EventEnvelope], *, as_of: datetime, known_at: datetime | None = None
) -> CareView | None:
    """The care detail of one patient's stream; None when nothing is known at K."""
    facts = journey_facts(events, as_of=as_of, known_at=known_at)
    if facts is None:
        return None
    return care_view_of(facts, collect_care(visible_events(events, known_at)))
