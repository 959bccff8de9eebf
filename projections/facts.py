"""The journey's intermediate results, exact and reusable (live query, read models, replay).

`journey_facts` is the whole fold: filter by K, build episodes and stays as of T, date the
levels by midnight census, apply session corrections and voids, fold the care events
(primary therapist, treatment plan, referrals), then summarize ISO weeks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journey.catalog import Catalog, default_catalog
from journey.events import EventEnvelope
from projections.calendar import LocalCalendar, require_aware, week_monday
from projections.care import CareFacts, care_facts, collect_care
from projections.journey_weeks import WeekSummary, summarize_weeks
from projections.midnight_census import DayLevel, day_levels
from projections.session_log import SessionState, fold_sessions, sessions_as_of
from projections.timeline import Timeline, build_timeline

FALLBACK_TIMEZONE = "UTC"
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class JourneyFacts:
    """Everything the journey view is made of, before rounding.

    `levels` maps each local date that has a level (ascending) to it; `sessions` are the
    sessions started at or before T, corrections and voids applied, voided ones included.
    """

    patient_id: str
    as_of: datetime
    known_at: datetime | None
    catalog: Catalog
    calendar: LocalCalendar
    timeline: Timeline
    levels: dict[date, DayLevel]
    sessions: list[SessionState]
    weeks: list[WeekSummary]
    care: CareFacts


def visible_events(
    events: Sequence[EventEnvelope], known_at: datetime | None
) -> list[EventEnvelope]:
    """The events recorded at or before `known_at` (all of them when it is None)."""
    if known_at is None:
        return list(events)
    return [e for e in events if e.recorded_at <= known_at]


def journey_facts(
    events: Sequence[EventEnvelope],
    *,
    as_of: datetime,
    known_at: datetime | None = None,
    catalog: Catalog | None = None,
    current_week_only: bool = False,
) -> JourneyFacts | None:
    """The fold over one patient's stream; None when no event is known at `known_at`.
    `current_week_only`: `weeks` holds only the ISO week of `as_of` (a published summary
    shows that row alone; each week's row depends on that week's dated levels and attended
    sessions only, so summarizing the others, most of a long history's cost, is skipped)."""
    as_of = require_aware(as_of, "as_of")
    known_at = None if known_at is None else require_aware(known_at, "known_at")
    known = visible_events(events, known_at)
    if not known:
        return None
    return facts_of(
        known[0].patient_id,
        known,
        fold_sessions(known),
        as_of=as_of,
        known_at=known_at,
        catalog=catalog,
        current_week_only=current_week_only,
    )


def facts_of(
    patient_id: str,
    known: Sequence[EventEnvelope],
    folded_sessions: Mapping[str, SessionState],
    *,
    as_of: datetime,
    known_at: datetime | None,
    catalog: Catalog | None = None,
    current_week_only: bool = False,
) -> JourneyFacts:
    """The fold's rest, from the `known_at`-filtered events (in stream order; the session
    events among them are not read here) and the sessions `fold_sessions` gives for them:
    shared by `journey_facts` and the fold of stored rows (projections/stored_journey.py)."""
    catalog = default_catalog() if catalog is None else catalog
    timeline = build_timeline(known, as_of)
    calendar = LocalCalendar(timeline.timezone or FALLBACK_TIMEZONE)
    levels = day_levels(timeline, calendar, as_of)
    sessions = sessions_as_of(folded_sessions, as_of)
    care = care_facts(collect_care(known), timeline, calendar, catalog, as_of)
    if current_week_only:
        monday = week_monday(calendar.local_date(as_of))
        week_levels = {day: lv for day, lv in levels.items() if monday <= day < monday + WEEK}
        week_sessions = [
            s
            for s in sessions
            if s.attended and week_monday(calendar.local_date(s.occurred_at)) == monday
        ]
        weeks = summarize_weeks(week_levels, week_sessions, calendar, catalog, care.primary_at)
    else:
        weeks = summarize_weeks(levels, sessions, calendar, catalog, care.primary_at)
    return JourneyFacts(
        patient_id=patient_id,
        as_of=as_of,
        known_at=known_at,
        catalog=catalog,
        calendar=calendar,
        timeline=timeline,
        levels=levels,
        sessions=sessions,
        weeks=weeks,
        care=care,
    )
