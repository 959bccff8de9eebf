"""Midnight census: which stay is in force at each local midnight up to T.

A stay counts the local midnights c with start <= c < end and c <= T. The date D whose
level it is is the one that midnight ends (c is the first instant of D + 1); so every
counted midnight gives exactly one date a level, and the sum of dated levels equals the
days in care.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import NamedTuple

from projections.calendar import ONE_DAY, LocalCalendar
from projections.timeline import Episode, Stay, Timeline

CHAIN_GAP_DAYS = 7


class DayLevel(NamedTuple):
    """The level of a local date and the age group of the episode it belongs to."""

    level: str
    age_group: str


def counted_midnights(
    stay: Stay, calendar: LocalCalendar, as_of: datetime
) -> tuple[date, date] | None:
    """(first, last) dates whose midnights the stay counts, inclusive; None when none."""
    first = calendar.first_midnight_at_or_after(stay.started_at)
    last = calendar.last_midnight_at_or_before(as_of)
    if stay.ended_at is not None:
        last = min(last, calendar.last_midnight_before(stay.ended_at))
    return (first, last) if first <= last else None


def stay_days(stay: Stay, calendar: LocalCalendar, as_of: datetime) -> int:
    span = counted_midnights(stay, calendar, as_of)
    return 0 if span is None else (span[1] - span[0]).days + 1


def episode_days(episode: Episode, calendar: LocalCalendar, as_of: datetime) -> int:
    return sum(stay_days(stay, calendar, as_of) for stay in episode.stays)


def day_levels(
    timeline: Timeline, calendar: LocalCalendar, as_of: datetime
) -> dict[date, DayLevel]:
    """The level of each local date that has one (ascending dates)."""
    levels: dict[date, DayLevel] = {}
    for episode in timeline.episodes:
        for stay in episode.stays:
            span = counted_midnights(stay, calendar, as_of)
            if span is None:
                continue
            value = DayLevel(stay.level, stay.age_group)
            day, last = span
            while day <= last:
                levels[day - ONE_DAY] = value
                day += ONE_DAY
    return levels


def days_by_level(levels: Mapping[date, DayLevel], level_ids: list[str]) -> dict[str, int]:
    """Days per level: every id of `level_ids` in order, then any other level met."""
    counts = dict.fromkeys(level_ids, 0)
    for value in levels.values():
        counts[value.level] = counts.get(value.level, 0) + 1
    return counts


def latest_chain(timeline: Timeline, calendar: LocalCalendar) -> tuple[Episode, ...]:
    """The episodes chained with the latest one (readmitted within 7 local days)."""
    episodes = timeline.episodes
    if not episodes:
        return ()
    start = len(episodes) - 1
    while start > 0 and _chained(episodes[start - 1], episodes[start], calendar):
        start -= 1
    return episodes[start:]


def _chained(previous: Episode, following: Episode, calendar: LocalCalendar) -> bool:
    if previous.discharged_at is None:
        return False
    gap = calendar.local_date(following.admitted_at) - calendar.local_date(previous.discharged_at)
    return gap.days <= CHAIN_GAP_DAYS
