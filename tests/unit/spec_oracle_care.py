"""The naive reading of SPEC section 6's care rules (primary therapist, treatment plan,
plan_overdue, referrals), for the differential oracle in `spec_oracle`.

Shares no code with `projections/`. Brute force: the primary therapist in force at a
session's start is recomputed from scratch as `primary_therapist` as of that instant.
The readings of what the SPEC leaves open are those docs/rules.md section 6 states:
"latest" is by occurred_at then recording order; a care event belongs to the episode of the
admission before it in the stream; an objective keeps the status of the latest review that
names it; a referral's close is the first one recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from journey.catalog import default_catalog
from journey.events import EventEnvelope

Episodes = Callable[[list[EventEnvelope], datetime], list[dict[str, Any]]]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(ZoneInfo("UTC")).isoformat()


def _local(value: datetime, tz: ZoneInfo) -> date:
    return value.astimezone(tz).date()


def _tagged(events: list[EventEnvelope], kind: str) -> list[tuple[int, int, EventEnvelope]]:
    """(episode number by stream order of admissions, stream index, event) of one type."""
    out, admissions = [], 0
    for index, e in enumerate(events):
        if e.type == "PatientAdmitted":
            admissions += 1
        elif e.type == kind:
            out.append((admissions, index, e))
    return out


def _latest(found: list[tuple[int, int, EventEnvelope]]) -> EventEnvelope | None:
    if not found:
        return None
    return max(found, key=lambda x: (x[2].occurred_at, x[1]))[2]


def primary_therapist(
    events: list[EventEnvelope], at: datetime, episodes_as_of: Episodes
) -> str | None:
    """SPEC 6: the latest assignment at or before `at` of the episode open at `at`."""
    episodes = episodes_as_of(events, at)
    if not episodes or episodes[-1]["discharged"] is not None:
        return None
    number = len(episodes)
    found = [
        t
        for t in _tagged(events, "PrimaryTherapistAssigned")
        if t[0] == number and t[2].occurred_at <= at
    ]
    latest = _latest(found)
    return None if latest is None else latest.payload.clinician_id  # type: ignore[union-attr]


def treatment_plan(
    events: list[EventEnvelope], as_of: datetime, episodes: list[dict[str, Any]], tz: ZoneInfo
) -> dict[str, Any] | None:
    if not episodes:
        return None
    number = len(episodes)
    created = _latest(
        [
            t
            for t in _tagged(events, "TreatmentPlanCreated")
            if t[0] == number and t[2].occurred_at <= as_of
        ]
    )
    if created is None:
        return None
    plan: Any = created.payload
    reviews = sorted(
        (
            (e.occurred_at, i, e.payload)
            for i, e in enumerate(events)
            if e.type == "TreatmentPlanReviewed"
            and e.payload.plan_id == plan.plan_id  # type: ignore[union-attr]
            and e.occurred_at <= as_of
        ),
        key=lambda r: (r[0], r[1]),
    )
    last = reviews[-1][0] if reviews else None
    due = _local(last or created.occurred_at, tz) + timedelta(days=7)
    is_open = episodes[-1]["discharged"] is None
    statuses = {}
    for goal in plan.goals:
        for objective in goal.objectives:
            named = [r for r in reviews if objective.objective_id in r[2].objectives]
            statuses[objective.objective_id] = (
                named[-1][2].objectives[objective.objective_id] if named else "open"
            )
    counts = {
        s: sum(1 for v in statuses.values() if v == s)
        for s in ("open", "in_progress", "met", "not_met", "discontinued")
    }
    return {
        "plan_id": plan.plan_id,
        "created_at": _iso(created.occurred_at),
        "reviews": len(reviews),
        "last_reviewed_at": _iso(last),
        "next_review_due": due.isoformat(),
        "review_overdue": is_open and _local(as_of, tz) > due,
        "objectives": counts,
    }


def plan_overdue(
    plan: dict[str, Any] | None, episodes: list[dict[str, Any]], as_of: datetime, tz: ZoneInfo
) -> bool:
    if plan is not None or not episodes or episodes[-1]["discharged"] is not None:
        return False
    latest = episodes[-1]
    due_days = default_catalog().levels[latest["stays"][0]["level"]].plan_due_days
    return _local(as_of, tz) > _local(latest["admitted"], tz) + timedelta(days=due_days)


def referrals(events: list[EventEnvelope], as_of: datetime, tz: ZoneInfo) -> list[dict[str, Any]]:
    made = sorted(
        (
            (e.occurred_at, i, e)
            for i, e in enumerate(events)
            if e.type == "PatientReferred" and e.occurred_at <= as_of
        ),
        key=lambda r: (r[0], r[1]),
    )
    out = []
    for referred_at, _, e in made:
        p: Any = e.payload
        closes = [
            c
            for c in events
            if c.type == "ReferralClosed" and c.payload.referral_id == p.referral_id  # type: ignore[union-attr]
        ]
        close = closes[0] if closes and closes[0].occurred_at <= as_of else None
        end = close.occurred_at if close else as_of
        out.append(
            {
                "referral_id": p.referral_id,
                "specialty": p.specialty,
                "referred_at": _iso(referred_at),
                "closed_at": _iso(close.occurred_at) if close else None,
                "outcome": close.payload.outcome if close else None,  # type: ignore[union-attr]
                "days_open": (_local(end, tz) - _local(referred_at, tz)).days,
            }
        )
    return out
