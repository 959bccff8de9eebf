"""Properties of the journey projection over generated journeys (hypothesis)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from journey.catalog import default_catalog
from journey.events import (
    EventEnvelope,
    PatientAdmitted,
    SessionCorrected,
    SessionEnteredInError,
    SessionRecorded,
)
from projections.calendar import LocalCalendar
from projections.facts import journey_facts
from projections.journey import project_journey
from projections.journey_view import JourneyView
from tests.unit.builders import FAR_FUTURE, StreamBuilder

ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
MIDNIGHT_ZONES = [*ZONES, "America/Havana", "Asia/Beirut", "America/Santiago", "Pacific/Apia"]
LEVELS = default_catalog().level_ids()
APPROACHES = ["cbt", "counseling", "yoga", "art_therapy", "dbt", "psychoeducation"]
CLINICIANS = ["dr-a", "dr-b", "dr-c"]
OBJECTIVE_STATUSES = list(default_catalog().objective_statuses)
STATUSES = ["attended", "attended", "no_show", "cancelled"]
BASE = datetime(2025, 1, 1, tzinfo=UTC)
DAY_MINUTES = 24 * 60
LEVEL_PLAN_DUE = {level.id: level.plan_due_days for level in default_catalog().levels.values()}
PLAN_EVENTS = {"TreatmentPlanCreated", "TreatmentPlanReviewed"}
SESSION_EVENTS = (SessionRecorded, SessionCorrected, SessionEnteredInError)


@dataclass
class Journey:
    events: list[EventEnvelope]
    start: datetime
    end: datetime
    timezone: str


def _minutes(draw: st.DrawFn, low: int, high: int) -> timedelta:
    return timedelta(minutes=draw(st.integers(low, high)))


def _episode(draw: st.DrawFn, b: StreamBuilder, at: datetime, last: bool) -> datetime:
    """Admit at `at`, record care events (dated anywhere in the episode, so some back-dated),
    make transitions, maybe discharge; sessions and referral closes recorded late."""
    level = draw(st.sampled_from(LEVELS))
    b.admit(at, level, draw(st.sampled_from(["adult", "adolescent"])))
    moves = [_minutes(draw, 0, 30 * DAY_MINUTES) for _ in range(draw(st.integers(0, 3)))]
    end = at + sum(moves, timedelta()) + _minutes(draw, 0, 30 * DAY_MINUTES)
    span = int((end - at).total_seconds() // 60)
    referrals = _care(draw, b, at, span)
    stay = at
    for move in moves:
        stay += move
        b.transition(stay, draw(st.sampled_from([x for x in LEVELS if x != b.level])))
    if not last or draw(st.booleans()):
        b.discharge(end)
    for _ in range(draw(st.integers(0, 8))):
        _session(draw, b, at, span)
    for referral_id, referred_at in referrals:
        if draw(st.booleans()):
            closed = referred_at + _minutes(draw, 0, span + 10 * DAY_MINUTES)
            b.close_referral(referral_id, closed, draw(st.sampled_from(["completed", "declined"])))
    return end


def _care(draw: st.DrawFn, b: StreamBuilder, at: datetime, span: int) -> list[tuple[str, datetime]]:
    """Assignments, plans with reviews and referrals dated in [at, at + span]."""
    referrals = []
    if draw(st.integers(0, 3)):  # most episodes get a primary therapist at admission
        b.assign(draw(st.sampled_from(CLINICIANS)), at)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["assign", "assign", "plan", "refer"]))
        when = at + _minutes(draw, 0, span)
        if kind == "assign":
            b.assign(draw(st.sampled_from([c for c in CLINICIANS if c != b.primary])), when)
        elif kind == "plan":
            _plan(draw, b, when, at + timedelta(minutes=span))
        else:
            referrals.append((f"r{len(b.events)}", when))
            b.refer(referrals[-1][0], when, draw(st.sampled_from(["trauma", "medical"])))
    return referrals


def _plan(draw: st.DrawFn, b: StreamBuilder, at: datetime, until: datetime) -> None:
    plan_id = f"pl{len(b.events)}"
    goals = {
        f"{plan_id}-g{g}": [f"{plan_id}-g{g}-o{o}" for o in range(draw(st.integers(1, 3)))]
        for g in range(draw(st.integers(1, 2)))
    }
    b.plan(plan_id, at, goals)
    objectives = [o for ids in goals.values() for o in ids]
    span = int((until - at).total_seconds() // 60)
    for _ in range(draw(st.integers(0, 3))):
        named = draw(st.lists(st.sampled_from(objectives), unique=True, max_size=3))
        statuses = {o: draw(st.sampled_from(OBJECTIVE_STATUSES)) for o in named}
        b.review(plan_id, at + _minutes(draw, 0, span), statuses)


def _session(draw: st.DrawFn, b: StreamBuilder, at: datetime, span: int) -> None:
    sid = f"s{len(b.events)}"
    offset = draw(st.one_of(st.integers(0, span), st.sampled_from([0, span])))
    b.session(
        at + timedelta(minutes=offset),  # sometimes exactly at the admission or the end
        draw(st.one_of(st.integers(1, 720), st.sampled_from([60, 180, 270, 360, 540, 600]))),
        session_id=sid,
        approach=draw(st.sampled_from(APPROACHES)),
        format=draw(st.sampled_from(["individual", "individual", "group", "family"])),
        status=draw(st.sampled_from(STATUSES)),
        clinician_id=draw(st.sampled_from([None, *CLINICIANS])),
    )
    action = draw(st.sampled_from(["keep", "keep", "move", "shorten", "void"]))
    fix_at = at + timedelta(days=60)
    if action == "move":
        b.correct(sid, fix_at, session_occurred_at=at + _minutes(draw, 0, span))
    elif action == "shorten":
        b.correct(sid, fix_at, duration_minutes=draw(st.integers(1, 720)), status="attended")
    elif action == "void":
        b.void(sid, fix_at)


@st.composite
def journeys(draw: st.DrawFn) -> Journey:
    zone = draw(st.sampled_from(ZONES))
    b = StreamBuilder(timezone=zone)
    start = BASE + _minutes(draw, 0, 2 * 365 * DAY_MINUTES)
    at, count = start, draw(st.integers(1, 3))
    for number in range(count):
        end = _episode(draw, b, at, last=number == count - 1)
        at = end + _minutes(draw, 0, 12 * DAY_MINUTES)
    return Journey(b.events, start, end, zone)


@st.composite
def journeys_and_instants(draw: st.DrawFn) -> tuple[Journey, datetime]:
    journey = draw(journeys())
    if draw(st.integers(0, 2)) == 0:  # around a local midnight where a care rule's due
        plans = [e for e in journey.events if e.type in PLAN_EVENTS]  # date may turn
        admissions = [e for e in journey.events if e.type == "PatientAdmitted"]
        event = draw(st.sampled_from(plans if plans and draw(st.booleans()) else admissions))
        zone = ZoneInfo(journey.timezone)
        payload = event.payload
        due = LEVEL_PLAN_DUE[payload.level] if isinstance(payload, PatientAdmitted) else 7
        day = event.occurred_at.astimezone(zone).date() + timedelta(days=due + 1)
        midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
        return journey, midnight + _minutes(draw, -90, 90)
    low = journey.start - timedelta(days=2)
    high = journey.end + timedelta(days=20)
    span = int((high - low).total_seconds() // 60)
    return journey, low + _minutes(draw, 0, span)


def project(
    events: list[EventEnvelope], as_of: datetime, known_at: datetime | None = None
) -> JourneyView:
    view = project_journey(events, as_of=as_of, known_at=known_at)
    assert view is not None
    return view


@given(journeys_and_instants())
def test_days_add_up(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    v = project(journey.events, as_of)
    stays = [s.days for e in v.episodes for s in e.stays]
    assert v.days_in_care == sum(v.days_by_level.values()) == sum(e.days for e in v.episodes)
    assert v.days_in_care == sum(stays)
    assert v.days_in_care == sum(sum(w.level_days.values()) for w in v.weeks)
    assert 0 <= v.continuous_care_days <= v.days_in_care
    assert v.meets_90_day_benchmark == (v.continuous_care_days >= 90)


@given(journeys_and_instants())
def test_weeks_are_well_formed(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    v = project(journey.events, as_of)
    starts = [w.start_date for w in v.weeks]
    assert starts == sorted(set(starts))
    for w in v.weeks:
        days = sum(w.level_days.values())
        assert days <= 7
        assert w.complete == (days == 7)
        assert w.start_date.weekday() == 0
        assert w.week == "{:04d}-W{:02d}".format(*w.start_date.isocalendar()[:2])
        assert list(w.level_days) == [x for x in LEVELS if x in w.level_days]
        assert (w.status == "no_requirement") == (
            w.expected_min_hours is None and w.expected_max_hours is None
        )


@given(journeys_and_instants())
def test_days_match_a_brute_force_census(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    v = project(journey.events, as_of)
    calendar = LocalCalendar(v.timezone)
    stays = [s for e in v.episodes for s in e.stays]
    expected: Counter[str] = Counter()
    day = calendar.local_date(journey.start)
    while calendar.midnight(day) <= as_of:
        c = calendar.midnight(day)
        expected.update(
            s.level for s in stays if s.started_at <= c and (s.ended_at is None or c < s.ended_at)
        )
        day += timedelta(days=1)
    assert {k: n for k, n in v.days_by_level.items() if n} == dict(expected)


@given(journeys_and_instants())
def test_week_hours_cover_every_attended_session(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    facts = journey_facts(journey.events, as_of=as_of)
    assert facts is not None
    attended = [s for s in facts.sessions if s.attended]
    minutes = sum(w.attended_minutes + w.other_minutes for w in facts.weeks)
    assert minutes == sum(s.duration_minutes for s in attended)
    assert all(s.occurred_at <= as_of for s in facts.sessions)


@given(journeys_and_instants(), st.integers(0, 90 * DAY_MINUTES))
def test_days_never_decrease_with_as_of(case: tuple[Journey, datetime], minutes: int) -> None:
    journey, as_of = case
    earlier = project(journey.events, as_of)
    later = project(journey.events, as_of + timedelta(minutes=minutes))
    assert earlier.days_in_care <= later.days_in_care
    for level, days in earlier.days_by_level.items():
        assert days <= later.days_by_level[level]


@given(journeys_and_instants())
def test_known_at_none_is_known_at_far_future(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    now = project(journey.events, as_of).model_dump(exclude={"known_at"})
    assert now == project(journey.events, as_of, known_at=FAR_FUTURE).model_dump(
        exclude={"known_at"}
    )


@given(journeys_and_instants())
def test_clinical_events_after_as_of_have_no_effect(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    prefix = [
        e for e in journey.events if isinstance(e.payload, SESSION_EVENTS) or e.occurred_at <= as_of
    ]
    if journey.events[0].occurred_at > as_of:  # the first admission is after T
        assert project(journey.events, as_of).status == "not_admitted"
        return
    assert project(journey.events, as_of) == project(prefix, as_of)


@settings(max_examples=50)
@given(journeys_and_instants(), st.data())
def test_known_at_sees_exactly_the_recorded_prefix(
    case: tuple[Journey, datetime], data: st.DataObject
) -> None:
    journey, as_of = case
    cut = data.draw(st.integers(1, len(journey.events)))
    known_at = journey.events[cut - 1].recorded_at
    as_known = project(journey.events, as_of, known_at=known_at)
    assert as_known.model_dump(exclude={"known_at"}) == project(
        journey.events[:cut], as_of
    ).model_dump(exclude={"known_at"})


@given(st.sampled_from(MIDNIGHT_ZONES), st.dates(date(1990, 1, 1), date(2040, 12, 31)))
def test_midnight_is_the_first_instant_of_its_date(zone: str, day: date) -> None:
    calendar = LocalCalendar(zone)
    midnight = calendar.midnight(day)
    if calendar.local_date(midnight) != day:  # a date skipped entirely (Samoa, 2011-12-30)
        return
    assert calendar.local_date(midnight - timedelta(microseconds=1)) < day
    assert calendar.first_midnight_at_or_after(midnight) == day
    assert calendar.last_midnight_before(midnight) < day


@given(journeys_and_instants())
def test_care_figures_are_consistent(case: tuple[Journey, datetime]) -> None:
    journey, as_of = case
    v = project(journey.events, as_of)
    calendar = LocalCalendar(v.timezone)
    for w in v.weeks:
        assert 0 <= w.individual_with_primary <= w.individual_sessions
        assert 0 <= w.evidence_based_hours <= w.attended_hours
        dated = sum(w.level_days.values())
        assert (w.weekly_individual_met is None) == (dated < 4)
        if w.weekly_individual_met is not None:
            assert w.weekly_individual_met == (w.individual_with_primary >= 1)
    referred = [r.referred_at for r in v.referrals]
    assert referred == sorted(referred) and all(t <= as_of for t in referred)
    for r in v.referrals:
        assert r.days_open >= 0 and (r.closed_at is None) == (r.outcome is None)
        end = r.closed_at or as_of
        assert r.days_open == (calendar.local_date(end) - calendar.local_date(r.referred_at)).days
    plan = v.treatment_plan
    if plan is not None:
        assert plan.next_review_due >= calendar.local_date(plan.created_at) + timedelta(days=7)
        assert sum(plan.objectives.values()) >= 1
        assert not (plan.review_overdue and v.status != "active")
    assert not (v.plan_overdue and (plan is not None or v.status != "active"))
    assert v.primary_therapist is None or v.status == "active"
