"""The care resources of a patient's FHIR Bundle (SPEC 9): a CarePlan per treatment plan
with a Goal per goal, and a ServiceRequest per referral, from `projections.care_view` (the
journey's care fold, as of the export). Same conventions as the other resources: a
conditional update keyed by a stable identifier (`<patient>/plan/<plan id>`,
`<patient>/plan/<plan id>/goal/<goal id>`, `<patient>/referral/<referral id>`), the
42 CFR Part 2 labels in `meta.security`, a generated narrative.

Mapping (docs/exports.md): plan status active/completed -> CarePlan.status and the goals'
lifecycleStatus; a goal's ASAM dimension -> Goal.category (our asam-dimension code
system); each objective -> a Goal.target with its dueDate, its status and description in a
Goal.note; a referral open -> ServiceRequest.status active, closed `completed` ->
completed, closed otherwise -> revoked, its outcome in a note; the specialty ->
ServiceRequest.code (our referral-specialty code system)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from projections.care_view import CareView, GoalView, PlanView, ReferralDetail
from projections.event_text import instant_text as _iso
from projections.exports.fhir_model import Identity, Json, Model

if TYPE_CHECKING:
    from projections.exports.fhir import BundleBuilder


class CareResources:
    """Builds the care entries of one Bundle with the builder's shared parts."""

    def __init__(self, builder: BundleBuilder) -> None:
        self.b = builder

    def _concept(self, kind: str, code: str) -> tuple[Model, str]:
        display = self.b.displays[kind][code]
        return self.b.make.concept(self.b._code(kind, code, display), text=display), display

    def goal(self, goal: GoalView, plan: PlanView, identity: Identity, patient: Identity) -> Model:
        dimension = self.b.displays["asam_dimension"][goal.dimension]
        description = goal.description or f"Goal for the ASAM dimension: {dimension}"
        notes = [
            f"Objective {o.objective_id}, target {o.target_date.isoformat()}: {o.status}"
            + (f" ({o.description})" if o.description else "")
            for o in goal.objectives
        ]
        return self.b._resource(
            identity, [f"Goal {goal.goal_id} of plan {plan.plan_id}: {description}", *notes],
            lifecycleStatus=plan.status,
            category=[self._concept("asam_dimension", goal.dimension)[0]],
            description={"text": description}, subject={"reference": patient.full_url},
            target=[{"dueDate": o.target_date.isoformat()} for o in goal.objectives],
            note=[{"text": n} for n in notes],
        )  # fmt: skip

    def care_plan(
        self, plan: PlanView, identity: Identity, patient: Identity, goals: list[Identity],
        episode: Identity | None,
    ) -> Model:  # fmt: skip
        review = (
            f"{plan.reviews} review(s), last {_iso(plan.last_reviewed_at)} ({plan.last_outcome})"
            if plan.last_reviewed_at else "not reviewed yet"
        )  # fmt: skip
        if plan.next_review_due is not None:
            review += f"; next review due {plan.next_review_due.isoformat()}"
            review += " (overdue)" if plan.review_overdue else ""
        extra: Json = {"supportingInfo": [{"reference": episode.full_url}]} if episode else {}
        return self.b._resource(
            identity, [f"Treatment plan {plan.plan_id} ({plan.status}), created"
                       f" {_iso(plan.created_at)}", review],
            status=plan.status, intent="plan", title=f"Treatment plan {plan.plan_id}",
            subject={"reference": patient.full_url}, period={"start": _iso(plan.created_at)},
            created=_iso(plan.created_at), goal=[{"reference": g.full_url} for g in goals],
            note=[{"text": review}], **extra,
        )  # fmt: skip

    def service_request(
        self, referral: ReferralDetail, identity: Identity, patient: Identity
    ) -> Model:
        if referral.closed_at is None:
            status, state = "active", f"open for {referral.days_open} day(s)"
        else:
            status = "completed" if referral.outcome == "completed" else "revoked"
            state = f"closed {_iso(referral.closed_at)}: {referral.outcome}"
        code, specialty = self._concept("referral_specialty", referral.specialty)
        period = {"start": _iso(referral.referred_at)}
        if referral.closed_at is not None:
            period["end"] = _iso(referral.closed_at)
        extra: Json = {}
        if referral.to_clinician_id is not None:
            value = f"clinician/{referral.to_clinician_id}"
            extra["performer"] = [{"identifier": {"system": identity.system, "value": value}}]
        return self.b._resource(
            identity, [f"Referral {referral.referral_id} to {specialty}, made"
                       f" {_iso(referral.referred_at)}; {state}"],
            status=status, intent="order",
            code=code if self.b.version == "R4B" else {"concept": code},
            subject={"reference": patient.full_url}, authoredOn=_iso(referral.referred_at),
            occurrencePeriod=period, note=[{"text": state}], **extra,
        )  # fmt: skip

    def entries(
        self, pid: str, care: CareView, patient: Identity, episodes: dict[int, Identity]
    ) -> list[Json]:
        """The care entries: per plan its Goals then its CarePlan; then the referrals."""
        out: list[Json] = []
        for plan in care.plans:
            plan_key = f"{pid}/plan/{plan.plan_id}"
            goals = [self.b._identity("Goal", f"{plan_key}/goal/{g.goal_id}") for g in plan.goals]
            for goal, identity in zip(plan.goals, goals, strict=True):
                out.append(self.b.make.entry(identity, self.goal(goal, plan, identity, patient)))
            identity = self.b._identity("CarePlan", plan_key)
            resource = self.care_plan(plan, identity, patient, goals, episodes.get(plan.episode))
            out.append(self.b.make.entry(identity, resource))
        for referral in care.referrals:
            identity = self.b._identity("ServiceRequest", f"{pid}/referral/{referral.referral_id}")
            out.append(
                self.b.make.entry(identity, self.service_request(referral, identity, patient))
            )
        return out
