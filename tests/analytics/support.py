"""Runs every analytics query on a store and compares it with the oracle (live folds)."""

from __future__ import annotations

import statistics
from datetime import date, datetime

from infrastructure.sql import connect
from journey.application import JourneyApplication
from projections.analytics.census import census_at, census_daily
from projections.analytics.intensity import intensity
from projections.analytics.length_of_stay import length_of_stay
from projections.analytics.retention import retention
from projections.analytics.stats import DaysSummary
from projections.analytics.transitions import transitions
from projections.facts import journey_facts
from tests.analytics.oracle import Expected, expected


def _summary(values: list[int]) -> DaysSummary:
    if not values:
        return DaysSummary(count=0, mean_days=None, median_days=None)
    mean, middle = sum(values) / len(values), statistics.median(values)
    return DaysSummary(count=len(values), mean_days=round(mean, 2), median_days=round(middle, 2))


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def live(app: JourneyApplication, patients: list[str], t: datetime, a: date, b: date) -> Expected:
    folds = [journey_facts(app.history(pid), as_of=t) for pid in patients]
    return expected([f for f in folds if f is not None], a, b)


def check(
    app: JourneyApplication, url: str, patients: list[str], *, t: datetime, a: date, b: date
) -> None:
    want = live(app, patients, t, a, b)
    db = connect(url)
    try:
        with db.transaction() as unit:
            assert _nonzero(census_at(unit, t).levels) == dict(want.census)
            daily = census_daily(unit, t, a, b)
            assert {d.date: _nonzero(d.levels) for d in daily.days if d.total} == {
                day: dict(c) for day, c in want.daily.items()
            }
            los = length_of_stay(unit, t)
            for level, summary in los.stays_by_level.items():
                assert summary == _summary(want.stay_days.get(level, [])), level
            for reason, summary in los.episodes_by_reason.items():
                assert summary == _summary(want.episode_days.get(reason, [])), reason
            moves = transitions(unit, t, a, b)
            got = {("step_down", p.from_level, p.to_level): p.count for p in moves.step_down}
            got |= {("step_up", p.from_level, p.to_level): p.count for p in moves.step_up}
            assert got == dict(want.transitions)
            across = {
                (direction, p.from_level, p.to_level): p.across_episodes
                for direction in ("step_down", "step_up")
                for p in getattr(moves, direction)
                if p.across_episodes
            }
            assert across == dict(want.across)
            kept = retention(unit, t)
            assert (kept.chains, kept.retained) == (want.chains, want.retained)
            weeks = intensity(unit, t)
            for level, figures in weeks.weeks_by_level.items():
                assert _nonzero(figures.counts) == dict(want.weeks.get(level, {})), level
            for level, rate in weeks.attendance_by_level.items():
                seen = want.attendance.get(level, {})
                assert (rate.attended, rate.no_show) == (
                    seen.get("attended", 0),
                    seen.get("no_show", 0),
                )
    finally:
        db.close()
