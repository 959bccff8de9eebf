"""The audit report's care sections: the primary therapist, the treatment plans (review due
or overdue, goals and objectives with their statuses), the referrals, and the weeks judged
for a weekly individual session with the primary therapist. Rendered from the journey and
`projections.care_view` as they are: the same figures as the patient page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from projections.care_view import CareView
from projections.event_text import instant_text
from projections.journey_view import JourneyView

Rows = Callable[[Sequence[str], Sequence[Sequence[object]]], str]
MET = {True: "met", False: "MISSED", None: "not judged"}


def _dash(value: object) -> object:
    return "-" if value is None else value


def _plans(care: CareView, rows: Rows) -> str:
    if not care.plans:
        return "<p>No treatment plan.</p>"
    plans = rows(
        ["plan", "episode", "status", "created at", "reviews", "last reviewed at",
         "last outcome", "next review due", "review overdue"],
        [(p.plan_id, p.episode, p.status, instant_text(p.created_at), p.reviews,
          instant_text(p.last_reviewed_at) if p.last_reviewed_at else "-",
          _dash(p.last_outcome), _dash(p.next_review_due),
          "OVERDUE" if p.review_overdue else "no")
         for p in care.plans],
    )  # fmt: skip
    objectives = rows(
        ["plan", "goal", "ASAM dimension", "objective", "target date", "status",
         "goal description", "objective description"],
        [(p.plan_id, g.goal_id, g.dimension, o.objective_id, o.target_date, o.status,
          _dash(g.description), _dash(o.description))
         for p in care.plans for g in p.goals for o in g.objectives],
    )  # fmt: skip
    return plans + "<h3>Goals and objectives</h3>" + objectives


def _referrals(care: CareView, rows: Rows) -> str:
    if not care.referrals:
        return "<p>No referral.</p>"
    return rows(
        ["referral", "specialty", "to clinician", "referred at", "state", "closed at",
         "outcome", "days open"],
        [(r.referral_id, r.specialty, _dash(r.to_clinician_id), instant_text(r.referred_at),
          "closed" if r.closed_at else "open",
          instant_text(r.closed_at) if r.closed_at else "-", _dash(r.outcome), r.days_open)
         for r in care.referrals],
    )  # fmt: skip


def _weeks(view: JourneyView, rows: Rows) -> str:
    missed = [w.week for w in view.weeks if w.weekly_individual_met is False]
    summary = (
        f"<p>{len(missed)} judged week(s) without an individual session with the primary "
        f"therapist{': ' + escape(', '.join(missed)) if missed else ''}.</p>"
    )
    table = rows(
        ["week", "status", "attended hours", "evidence-based hours", "individual sessions",
         "individual with primary therapist", "weekly individual session"],
        [(w.week, w.status, w.attended_hours, w.evidence_based_hours, w.individual_sessions,
          w.individual_with_primary, MET[w.weekly_individual_met])
         for w in view.weeks],
    )  # fmt: skip
    return summary + table


def care_sections(view: JourneyView, care: CareView, rows: Rows) -> str:
    """The report's HTML from "Treatment plan" to the weeks."""
    primary = escape(care.primary_therapist or "none in the open episode")
    overdue = (
        '<p class="broken">No treatment plan, and one is overdue (plan_due_days passed).</p>'
        if care.plan_overdue
        else ""
    )
    return (
        f"<h2>Treatment plan</h2><p>Primary therapist: {primary}.</p>{overdue}"
        f"{_plans(care, rows)}<h2>Referrals</h2>{_referrals(care, rows)}"
        f"<h2>Weeks: hours and the weekly individual session</h2>{_weeks(view, rows)}"
    )
