"""The patient journey projection (SPEC section 6): a pure function of the event stream.

Decisions where the SPEC is silent:
- `age_group` (top level) is the latest admission's as of T; before any admission at or
  before T it is the first known admission's. Each dated level uses the age group of the
  episode whose stay gives the date its level, so a readmission as an adult does not
  reinterpret adolescent weeks.
- `timezone` is the first known admission's, even when that admission is after T
  (status `not_admitted`); a stream without any admission falls back to UTC and the first
  age group of the catalog (the write side never produces one).
- `sessions` counts sessions by their corrected start only (not restricted to episodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction

from journey.catalog import Catalog
from journey.events import EventEnvelope
from projections.facts import JourneyFacts, journey_facts
from projections.journey_view import (
    EpisodeView,
    JourneyStatus,
    JourneyView,
    SessionCounts,
    StayView,
    WeekView,
)
from projections.journey_weeks import WeekSummary
from projections.midnight_census import days_by_level, episode_days, latest_chain, stay_days
from projections.session_log import SessionState
from projections.timeline import Episode

BENCHMARK_DAYS = 90


def project_journey(
    events: Sequence[EventEnvelope],
    *,
    as_of: datetime,
    known_at: datetime | None = None,
    catalog: Catalog | None = None,
) -> JourneyView | None:
    """The journey of one patient (events in stream order) as of T, as known at K.

    Returns None when no event is recorded at or before `known_at` (unknown patient).
    """
    facts = journey_facts(events, as_of=as_of, known_at=known_at, catalog=catalog)
    return None if facts is None else journey_view(facts)


def journey_view(facts: JourneyFacts) -> JourneyView:
    """Round and shape the exact facts into the served view."""
    timeline, calendar = facts.timeline, facts.calendar
    latest = timeline.latest
    open_stay = latest.stays[-1] if latest is not None and latest.is_open else None
    by_level = days_by_level(facts.levels, facts.catalog.level_ids())
    continuous = sum(
        episode_days(e, calendar, facts.as_of) for e in latest_chain(timeline, calendar)
    )
    return JourneyView(
        patient_id=facts.patient_id,
        as_of=facts.as_of,
        known_at=facts.known_at,
        status=_status(latest),
        current_level=open_stay.level if open_stay else None,
        current_stay_started_at=open_stay.started_at if open_stay else None,
        age_group=timeline.age_group or facts.catalog.age_groups[0],
        timezone=calendar.timezone,
        episodes=[_episode(e, facts) for e in timeline.episodes],
        days_by_level=by_level,
        days_in_care=sum(by_level.values()),
        continuous_care_days=continuous,
        meets_90_day_benchmark=continuous >= BENCHMARK_DAYS,
        weeks=[_week(w) for w in facts.weeks],
        sessions=_session_counts(facts.sessions),
    )


def _status(latest: Episode | None) -> JourneyStatus:
    if latest is None:
        return "not_admitted"
    return "active" if latest.is_open else "discharged"


def _episode(episode: Episode, facts: JourneyFacts) -> EpisodeView:
    stays = [
        StayView(
            level=s.level,
            started_at=s.started_at,
            ended_at=s.ended_at,
            days=stay_days(s, facts.calendar, facts.as_of),
        )
        for s in episode.stays
    ]
    return EpisodeView(
        number=episode.number,
        admitted_at=episode.admitted_at,
        discharged_at=episode.discharged_at,
        discharge_reason=episode.discharge_reason,
        days=sum(s.days for s in stays),
        stays=stays,
    )


def _round2(numerator: int, denominator: int) -> float:
    """numerator/denominator as reported: Python's `round(x, 2)` of the nearest float, so a
    consumer recomputing a figure from the raw values with the usual tools gets the same
    number (e.g. 13/40 -> 0.33). Comparisons never use these rounded values."""
    return round(numerator / denominator, 2)


def _round(value: Fraction | None) -> float | None:
    return None if value is None else _round2(value.numerator, value.denominator)


def _week(week: WeekSummary) -> WeekView:
    return WeekView(
        week=week.label,
        start_date=week.monday,
        attended_hours=_round2(week.attended_minutes, 60),
        other_hours=_round2(week.other_minutes, 60),
        individual_sessions=week.individual_sessions,
        level_days=week.level_days,
        expected_min_hours=_round(week.expected_min_hours),
        expected_max_hours=_round(week.expected_max_hours),
        status=week.status,
        complete=week.complete,
    )


def _session_counts(sessions: list[SessionState]) -> SessionCounts:
    live = [s for s in sessions if not s.voided]
    attended = sum(1 for s in live if s.status == "attended")
    no_show = sum(1 for s in live if s.status == "no_show")
    seen = attended + no_show
    return SessionCounts(
        attended=attended,
        no_show=no_show,
        cancelled=sum(1 for s in live if s.status == "cancelled"),
        voided=len(sessions) - len(live),
        attendance_rate=_round2(attended, seen) if seen else None,
    )
