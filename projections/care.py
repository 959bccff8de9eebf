"""The care the program gives beside levels and hours (SPEC section 6): the primary
therapist, the treatment plan and the referrals, as of T from the `known_at`-filtered events.

Decisions where the SPEC is silent (docs/rules.md section 6 states them too):
- An assignment, plan or review belongs to the episode of the admission that precedes it
  in the stream (the write side accepts them only while that episode is open).
- "Latest" is by clinical time (`occurred_at`), ties broken by stream order: so a figure
  as of T depends only on what had happened by T.
- The primary therapist in force at an instant s is the journey's `primary_therapist` as
  of s: the latest assignment at or before s of the episode in force at s (admitted at or
  before s, not discharged at or before s). At a discharge instant no one is in force.
- An objective's status is the one the latest review at or before T naming it gave it
  (a review may name only some objectives); `open` when no such review.
- A referral's close is the first recorded `ReferralClosed` naming it; it is known once
  its `occurred_at` <= T.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from journey.catalog import Catalog
from journey.events import (
    EventEnvelope,
    PatientAdmitted,
    PatientReferred,
    PrimaryTherapistAssigned,
    ReferralClosed,
    TreatmentPlanCreated,
    TreatmentPlanReviewed,
)
from projections.calendar import LocalCalendar
from projections.timeline import Episode, Timeline

REVIEW_INTERVAL = timedelta(days=7)
OPEN_OBJECTIVE = "open"
# (occurred_at, position in the stream): the order "latest" refers to.
_Key = tuple[datetime, int]
_V = TypeVar("_V")
_CARE_EVENTS = frozenset(
    {
        PrimaryTherapistAssigned,
        TreatmentPlanCreated,
        TreatmentPlanReviewed,
        PatientReferred,
        ReferralClosed,
    }
)


@dataclass
class CareLog:
    """The care events of one stream by episode number (stream order of admissions)."""

    assignments: defaultdict[int, list[tuple[_Key, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    plans: defaultdict[int, list[tuple[_Key, TreatmentPlanCreated]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    reviews: defaultdict[str, list[tuple[_Key, TreatmentPlanReviewed]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    referrals: list[tuple[_Key, PatientReferred]] = field(default_factory=list)
    closes: dict[str, tuple[datetime, ReferralClosed]] = field(default_factory=dict)


def collect_care(events: Sequence[EventEnvelope]) -> CareLog:
    """One pass over the stream: each care event under its episode, sorted by key."""
    log, episode = CareLog(), 0
    for position, envelope in enumerate(events):
        kind = type(envelope.payload)
        if kind is PatientAdmitted:
            episode += 1
        elif kind in _CARE_EVENTS:
            _file(log, episode, (envelope.occurred_at, position), envelope.payload)
    for assigned in log.assignments.values():
        assigned.sort(key=_by_key)
    for plans in log.plans.values():
        plans.sort(key=_by_key)
    for reviews in log.reviews.values():
        reviews.sort(key=_by_key)
    log.referrals.sort(key=_by_key)
    return log


def _by_key(entry: tuple[_Key, object]) -> _Key:
    return entry[0]


def _file(log: CareLog, episode: int, key: _Key, payload: object) -> None:
    if isinstance(payload, PrimaryTherapistAssigned):
        log.assignments[episode].append((key, payload.clinician_id))
    elif isinstance(payload, TreatmentPlanCreated):
        log.plans[episode].append((key, payload))
    elif isinstance(payload, TreatmentPlanReviewed):
        log.reviews[payload.plan_id].append((key, payload))
    elif isinstance(payload, PatientReferred):
        log.referrals.append((key, payload))
    elif isinstance(payload, ReferralClosed):
        log.closes.setdefault(payload.referral_id, (key[0], payload))


def _latest_at_or_before(entries: list[tuple[_Key, _V]], instant: datetime) -> _V | None:
    """The value of the latest entry (by key) at or before `instant`; entries sorted."""
    index = bisect_right(entries, instant, key=lambda entry: entry[0][0])
    return entries[index - 1][1] if index else None


@dataclass(frozen=True)
class PlanFacts:
    plan_id: str
    created_at: datetime
    reviews: int
    last_reviewed_at: datetime | None
    next_review_due: date
    review_overdue: bool
    objectives: dict[str, int]


@dataclass(frozen=True)
class ReferralFacts:
    referral_id: str
    specialty: str
    referred_at: datetime
    closed_at: datetime | None
    outcome: str | None
    days_open: int


@dataclass(frozen=True)
class CareFacts:
    """The care figures as of T, and who was the primary therapist at any instant <= T."""

    primary_therapist: str | None
    treatment_plan: PlanFacts | None
    plan_overdue: bool
    referrals: list[ReferralFacts]
    primary_at: Callable[[datetime], str | None]


class PrimaryRoster:
    """The primary therapist in force at an instant, for instants at or before T."""

    def __init__(self, timeline: Timeline, log: CareLog) -> None:
        self._episodes = timeline.episodes
        self._admitted = [e.admitted_at for e in timeline.episodes]
        self._assignments = log.assignments

    def of_episode(self, episode: Episode, instant: datetime) -> str | None:
        return _latest_at_or_before(self._assignments.get(episode.number, []), instant)

    def __call__(self, instant: datetime) -> str | None:
        index = bisect_right(self._admitted, instant)
        if not index:
            return None
        episode = self._episodes[index - 1]
        if episode.discharged_at is not None and episode.discharged_at <= instant:
            return None
        return self.of_episode(episode, instant)


def care_facts(
    log: CareLog, timeline: Timeline, calendar: LocalCalendar, catalog: Catalog, as_of: datetime
) -> CareFacts:
    roster = PrimaryRoster(timeline, log)
    latest = timeline.latest
    today = calendar.local_date(as_of)
    plan = None if latest is None else _plan(log, latest, calendar, catalog, as_of)
    return CareFacts(
        primary_therapist=(
            roster.of_episode(latest, as_of) if latest is not None and latest.is_open else None
        ),
        treatment_plan=plan,
        plan_overdue=plan is None and _plan_overdue(latest, calendar, catalog, today),
        referrals=_referrals(log, calendar, as_of),
        primary_at=roster,
    )


def _plan(
    log: CareLog, episode: Episode, calendar: LocalCalendar, catalog: Catalog, as_of: datetime
) -> PlanFacts | None:
    created = _plan_entry(log.plans.get(episode.number, []), as_of)
    if created is None:
        return None
    created_at, plan = created
    reviews = log.reviews.get(plan.plan_id, [])
    done = reviews[: bisect_right(reviews, as_of, key=lambda entry: entry[0][0])]
    last_at = done[-1][0][0] if done else None
    due = calendar.local_date(last_at or created_at) + REVIEW_INTERVAL
    return PlanFacts(
        plan_id=plan.plan_id,
        created_at=created_at,
        reviews=len(done),
        last_reviewed_at=last_at,
        next_review_due=due,
        review_overdue=episode.is_open and calendar.local_date(as_of) > due,
        objectives=_objective_counts(plan, [r for _, r in done], catalog),
    )


def _plan_entry(
    plans: list[tuple[_Key, TreatmentPlanCreated]], as_of: datetime
) -> tuple[datetime, TreatmentPlanCreated] | None:
    index = bisect_right(plans, as_of, key=lambda entry: entry[0][0])
    return (plans[index - 1][0][0], plans[index - 1][1]) if index else None


def _objective_counts(
    plan: TreatmentPlanCreated, reviews: list[TreatmentPlanReviewed], catalog: Catalog
) -> dict[str, int]:
    status = {o.objective_id: OPEN_OBJECTIVE for g in plan.goals for o in g.objectives}
    for review in reviews:  # oldest first: a later review overrides
        for objective_id, given in review.objectives.items():
            if objective_id in status:
                status[objective_id] = given
    counts = dict.fromkeys((OPEN_OBJECTIVE, *catalog.objective_statuses), 0)
    for given in status.values():
        counts[given] = counts.get(given, 0) + 1
    return counts


def _plan_overdue(
    episode: Episode | None, calendar: LocalCalendar, catalog: Catalog, today: date
) -> bool:
    if episode is None or not episode.is_open:
        return False
    level = catalog.levels.get(episode.stays[0].level)
    if level is None:
        return False
    return today > calendar.local_date(episode.admitted_at) + timedelta(days=level.plan_due_days)


def _referrals(log: CareLog, calendar: LocalCalendar, as_of: datetime) -> list[ReferralFacts]:
    out = []
    for (referred_at, _), referral in log.referrals:
        if referred_at > as_of:
            break
        close = log.closes.get(referral.referral_id)
        closed_at, outcome = (
            (close[0], close[1].outcome) if close and close[0] <= as_of else (None, None)
        )
        end = calendar.local_date(closed_at or as_of)
        out.append(
            ReferralFacts(
                referral_id=referral.referral_id,
                specialty=referral.specialty,
                referred_at=referred_at,
                closed_at=closed_at,
                outcome=outcome,
                days_open=(end - calendar.local_date(referred_at)).days,
            )
        )
    return out
