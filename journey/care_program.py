"""The clinical program's rules (SPEC section 4), decided on the patient aggregate: the
primary therapist, treatment plans and their weekly reviews, referrals to specialists.

Every rule is checked before the event is recorded (a rejection leaves the patient as it
was). Choices where the SPEC is silent (docs/architecture-write.md):
- a retry is a duplicate before any other rule, as for sessions: a plan or referral id
  with the same content, a review of the same plan with the same instant, outcome and
  objective statuses, a close of the same referral with the same instant and outcome;
- the primary therapist in force at an instant is the clinician of the latest assignment
  of the episode at or before it (by `occurred_at`; the later recorded on a tie); naming
  the one in force now, or the one in force at the assignment's instant, is
  `already_primary`;
- the current plan of the open episode is its latest created (by `occurred_at`);
- an unknown plan, objective or referral is a violation (422, as an unknown session), a
  plan that is not the current one and an already closed referral are conflicts (409);
- a referral may be closed after the discharge of its episode."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from journey import care_events as ce
from journey import domain_events as ev
from journey import fingerprints as fp
from journey.errors import Issue, RuleViolation, conflict, violation

if TYPE_CHECKING:
    from journey.commands import (
        AssignPrimaryTherapist,
        CloseReferral,
        CreateTreatmentPlan,
        Refer,
        ReviewTreatmentPlan,
    )


class CareProgram:
    """The clinical program's part of the patient aggregate (journey.patient.Patient)."""

    episodes: list[list[datetime | None]]
    assignments: list[list[Any]]  # [occurred_at, clinician_id] of the open episode
    plans: dict[str, dict[str, Any]]
    referrals: dict[str, dict[str, Any]]

    if TYPE_CHECKING:  # the aggregate's (journey.patient.Patient)

        def record_for(
            self,
            event_class: type[ev.PatientEvent],
            cmd: Any,
            by: str | None,
            *,
            occurred_at: datetime | None = None,
            **fields: Any,
        ) -> ev.PatientEvent: ...

        def not_in_future(self, occurred_at: datetime, now: datetime) -> None: ...

    # -- primary therapist ------------------------------------------------------------
    def primary_at(self, at: datetime | None = None) -> str | None:
        """The primary therapist of the open episode in force at `at` (None: latest)."""
        found: tuple[datetime, str] | None = None
        for assigned_at, clinician in self.assignments:
            if (at is None or assigned_at <= at) and (found is None or assigned_at >= found[0]):
                found = (assigned_at, clinician)
        return None if found is None else found[1]

    def assign_primary_therapist(
        self, cmd: AssignPrimaryTherapist, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent:
        self._in_open_episode(cmd.occurred_at, now, "assign_primary_therapist")
        previous = self.primary_at(cmd.occurred_at)
        if cmd.clinician_id in (self.primary_at(), previous):
            raise conflict(
                "clinician_id",
                "already_primary",
                f"'{cmd.clinician_id}' is already the patient's primary therapist",
            )
        return self.record_for(
            ce.PrimaryTherapistAssigned,
            cmd,
            by,
            clinician_id=cmd.clinician_id,
            previous_clinician_id=previous,
        )

    # -- treatment plans --------------------------------------------------------------
    def current_plan(self) -> str | None:
        """The latest plan created in the open episode (None when none or discharged)."""
        if not self.episodes or self.episodes[-1][1] is not None:
            return None
        found: tuple[datetime, str] | None = None
        for plan_id, plan in self.plans.items():
            if plan["episode"] == len(self.episodes) and (
                found is None or plan["created_at"] >= found[0]
            ):
                found = (plan["created_at"], plan_id)
        return None if found is None else found[1]

    def create_treatment_plan(
        self, cmd: CreateTreatmentPlan, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent | None:
        known = self.plans.get(cmd.plan_id)
        if known is not None:
            if known["fingerprint"] == fp.fingerprint(cmd.occurred_at, cmd.goals):
                return None
            raise conflict("plan_id", "unique_plan_id", "is already used with different content")
        self._in_open_episode(cmd.occurred_at, now, "create_treatment_plan")
        return self.record_for(
            ce.TreatmentPlanCreated,
            cmd,
            by,
            plan_id=cmd.plan_id,
            goals=cmd.goals,
        )

    def review_treatment_plan(
        self, cmd: ReviewTreatmentPlan, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent | None:
        plan = self.plans.get(cmd.plan_id)
        if plan is None:
            raise violation("plan_id", "known_plan", f"no treatment plan '{cmd.plan_id}'")
        review = fp.fingerprint(cmd.occurred_at, cmd.outcome, cmd.objectives)
        if any(done == review for _, done in plan["reviews"]):
            return None
        self._in_open_episode(cmd.occurred_at, now, "review_treatment_plan")
        current = self.current_plan()
        if cmd.plan_id != current:
            raise conflict(
                "plan_id",
                "current_plan",
                f"is not the current plan of the open episode ('{current}')",
            )
        if cmd.occurred_at < plan["created_at"]:
            raise violation(
                "occurred_at",
                "after_plan_creation",
                f"is earlier than the plan's creation ({plan['created_at'].isoformat()})",
            )
        unknown = sorted(set(cmd.objectives) - set(plan["objectives"]))
        if unknown:
            raise RuleViolation(
                *(
                    Issue(f"objectives.{o}", "known_objective", f"the plan has no objective '{o}'")
                    for o in unknown
                )
            )
        return self.record_for(
            ce.TreatmentPlanReviewed,
            cmd,
            by,
            plan_id=cmd.plan_id,
            outcome=cmd.outcome,
            objectives=cmd.objectives,
        )

    # -- referrals --------------------------------------------------------------------
    def refer(self, cmd: Refer, *, now: datetime, by: str | None = None) -> ev.PatientEvent | None:
        known = self.referrals.get(cmd.referral_id)
        content = fp.fingerprint(cmd.occurred_at, cmd.specialty, cmd.to_clinician_id)
        if known is not None:
            if known["fingerprint"] == content:
                return None
            raise conflict(
                "referral_id", "unique_referral_id", "is already used with different content"
            )
        self._in_open_episode(cmd.occurred_at, now, "refer")
        return self.record_for(
            ce.PatientReferred,
            cmd,
            by,
            referral_id=cmd.referral_id,
            specialty=cmd.specialty,
            to_clinician_id=cmd.to_clinician_id,
        )

    def close_referral(
        self, cmd: CloseReferral, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent | None:
        referral = self.referrals.get(cmd.referral_id)
        if referral is None:
            raise violation("referral_id", "known_referral", f"no referral '{cmd.referral_id}'")
        if referral["closed"] is not None:
            if referral["closed"] == fp.fingerprint(cmd.occurred_at, cmd.outcome):
                return None
            raise conflict("referral_id", "referral_open", "the referral is already closed")
        self.not_in_future(cmd.occurred_at, now)
        if cmd.occurred_at < referral["occurred_at"]:
            raise violation(
                "occurred_at",
                "after_referral",
                f"is earlier than the referral ({referral['occurred_at'].isoformat()})",
            )
        return self.record_for(
            ce.ReferralClosed,
            cmd,
            by,
            referral_id=cmd.referral_id,
            outcome=cmd.outcome,
        )

    # -- shared -----------------------------------------------------------------------
    def _in_open_episode(self, occurred_at: datetime, now: datetime, command: str) -> None:
        self.not_in_future(occurred_at, now)
        if not self.episodes or self.episodes[-1][1] is not None:
            raise conflict("command", "open_episode", f"{command} needs an open episode")
        admitted = self.episodes[-1][0]
        assert admitted is not None
        if occurred_at < admitted:
            raise violation(
                "occurred_at",
                "after_admission",
                f"is earlier than the admission of the open episode ({admitted.isoformat()})",
            )

    def latest_program_fact(self) -> tuple[datetime, str] | None:
        """The latest clinical-program fact of the open episode (its instant and what it
        is): a discharge may not come before it (as for sessions)."""
        episode = len(self.episodes)
        facts = [(at, f"primary therapist '{who}'") for at, who in self.assignments]
        for plan_id, plan in self.plans.items():
            if plan["episode"] == episode:
                facts.append((plan["created_at"], f"treatment plan '{plan_id}'"))
                facts += [(at, f"review of plan '{plan_id}'") for at, _ in plan["reviews"]]
        facts += [
            (r["occurred_at"], f"referral '{rid}'")
            for rid, r in self.referrals.items()
            if r["episode"] == episode
        ]
        return max(facts, default=None)
