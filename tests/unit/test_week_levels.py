"""`summarize_weeks` counts every week's dated levels in one pass and works each distinct mix
of levels out once (projections/journey_weeks.py): the weeks are exactly those of
`apply_levels` run on each week by itself, the way they were summarized before."""

from __future__ import annotations

import random
from dataclasses import astuple
from datetime import date, timedelta

from journey.catalog import default_catalog
from projections.calendar import LocalCalendar, week_monday
from projections.journey_weeks import (
    WeeklyRanges,
    WeekSummary,
    _add_session,
    apply_levels,
    summarize_weeks,
)
from projections.midnight_census import DayLevel
from projections.session_log import SessionState

CATALOG = default_catalog()
LEVELS = [*CATALOG.level_ids(), "unknown-a", "unknown-b"]  # missing from the catalog too
AGES = list(CATALOG.age_groups)


def per_week(
    levels: dict[date, DayLevel], sessions: list[SessionState], calendar: LocalCalendar
) -> list[WeekSummary]:
    """The weeks as summarized before: `apply_levels` on each week on its own."""
    weeks = {monday: WeekSummary(monday) for monday in {week_monday(day) for day in levels}}
    for session in sessions:
        if session.attended:
            monday = week_monday(calendar.local_date(session.occurred_at))
            weeks.setdefault(monday, WeekSummary(monday))
    ranges = WeeklyRanges(CATALOG)
    for week in weeks.values():
        apply_levels(week, levels, ranges)
    return [weeks[m] for m in sorted(weeks)]


def levels_of(rng: random.Random, first: date) -> dict[date, DayLevel]:
    """Runs of dated levels with gaps, several age groups and levels in one week, some dates
    overwritten, and at times in no date order."""
    levels: dict[date, DayLevel] = {}
    day = first
    for _ in range(rng.randint(1, 40)):
        value = DayLevel(rng.choice(LEVELS), rng.choice(AGES))
        for _ in range(rng.choice((1, 2, 3, 7, 12, 30))):
            levels[day] = value
            day += timedelta(days=1)
        day += timedelta(days=rng.choice((0, 0, 1, 9)))
    for _ in range(rng.randint(0, 3)):  # overwritten dates keep their first place
        levels[first + timedelta(days=rng.randint(0, (day - first).days))] = DayLevel(
            rng.choice(LEVELS), rng.choice(AGES)
        )
    if rng.random() < 0.3:  # a mapping in no date order at all
        items = list(levels.items())
        rng.shuffle(items)
        return dict(items)
    return levels


def sessions_of(rng: random.Random, first: date, calendar: LocalCalendar) -> list[SessionState]:
    start = calendar.midnight(first) - timedelta(days=20)  # some weeks without any level
    return [
        SessionState(
            f"s-{n}",
            start + timedelta(hours=rng.randint(0, 24 * 400)),
            rng.choice(("individual", "group")),
            rng.choice(("cbt", "yoga", "unknown-approach")),
            rng.randint(10, 180),
            "in_person",
            rng.choice(("attended", "attended", "no_show")),
            voided=rng.random() < 0.1,
        )
        for n in range(rng.randint(0, 60))
    ]


def test_weeks_as_each_summarized_on_its_own() -> None:
    rng = random.Random(14)
    for zone in ("UTC", "America/Chicago", "Pacific/Auckland"):
        calendar = LocalCalendar(zone)
        for _ in range(60):
            first = date(2024, 1, 1) + timedelta(days=rng.randint(0, 400))
            levels = levels_of(rng, first)
            sessions = sessions_of(rng, first, calendar)
            expected = per_week(levels, sessions, calendar)
            for week in expected:  # the sessions, added as summarize_weeks adds them
                for session in sessions:
                    local = week_monday(calendar.local_date(session.occurred_at))
                    if session.attended and local == week.monday:
                        _add_session(week, session, CATALOG, None)  # not under test
            got = summarize_weeks(levels, sessions, calendar, CATALOG)
            assert [astuple(w) for w in got] == [astuple(w) for w in expected]
            assert [list(w.level_days) for w in got] == [list(w.level_days) for w in expected]
            assert len({id(w.level_days) for w in got}) == len(got)  # each week its own dict


def test_a_week_with_a_level_mix_of_its_own() -> None:
    calendar = LocalCalendar("UTC")
    monday = date(2026, 3, 2)
    outpatient, detox = LEVELS[-3], LEVELS[0]
    levels = {monday + timedelta(days=i): DayLevel(outpatient, AGES[0]) for i in range(14)}
    levels[monday + timedelta(days=9)] = DayLevel(detox, AGES[0])
    got = summarize_weeks(levels, [], calendar, CATALOG)
    assert [w.level_days for w in got] == [{outpatient: 7}, {detox: 1, outpatient: 6}]
    assert got[0].complete and got[1].complete
    assert (got[0].expected_max_hours, got[1].expected_max_hours) == (9, None)  # detox: none
