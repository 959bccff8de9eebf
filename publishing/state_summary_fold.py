"""The fold behind a published summary: `projections.facts.journey_facts` with only the ISO
week holding T summarized.

A summary shows the current week's row only, and each week's row depends on that week's
dated levels and attended sessions alone (`projections.journey_weeks.summarize_weeks`), so
summarizing the other weeks of a long history (most of the fold's cost) is skipped. The
result equals `journey_facts(events, as_of=T)` with `weeks` filtered to that week, which
tests/kafka/test_relay_same_records.py checks on the demo cohort."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from journey.catalog import default_catalog
from journey.events import EventEnvelope
from projections.calendar import LocalCalendar, week_monday
from projections.care import care_facts, collect_care
from projections.facts import FALLBACK_TIMEZONE, JourneyFacts
from projections.journey_weeks import summarize_weeks
from projections.midnight_census import day_levels
from projections.session_log import fold_sessions, sessions_as_of
from projections.timeline import build_timeline

WEEK = timedelta(days=7)


def current_week_facts(events: Sequence[EventEnvelope], as_of: datetime) -> JourneyFacts:
    """The journey facts of a whole stream as of `as_of` (aware), weeks limited to the ISO
    week holding `as_of` (an empty list when that week has no dated level nor attended
    session)."""
    catalog = default_catalog()
    timeline = build_timeline(events, as_of)
    calendar = LocalCalendar(timeline.timezone or FALLBACK_TIMEZONE)
    levels = day_levels(timeline, calendar, as_of)
    sessions = sessions_as_of(fold_sessions(events), as_of)
    care = care_facts(collect_care(events), timeline, calendar, catalog, as_of)
    monday = week_monday(calendar.local_date(as_of))
    week_levels = {day: level for day, level in levels.items() if monday <= day < monday + WEEK}
    week_sessions = [
        s
        for s in sessions
        if s.attended and week_monday(calendar.local_date(s.occurred_at)) == monday
    ]
    weeks = summarize_weeks(week_levels, week_sessions, calendar, catalog, care.primary_at)
    return JourneyFacts(
        patient_id=events[0].patient_id,
        as_of=as_of,
        known_at=None,
        catalog=catalog,
        calendar=calendar,
        timeline=timeline,
        levels=levels,
        sessions=sessions,
        weeks=weeks,
        care=care,
    )
