"""The same cohort figures computed the slow, obvious way: fold each patient's whole
stream with the live journey projection (`journey_facts` / `project_journey`) as of T and
count. The analytics over the read models must give exactly these numbers."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from projections.midnight_census import episode_days, latest_chain, stay_days

from projections.facts import JourneyFacts
from projections.journey import BENCHMARK_DAYS
from projections.timeline import Stay, Timeline


@dataclass
class Expected:
    census: Counter[str]
    daily: dict[date, Counter[str]]
    stay_days: dict[str, list[int]]
    episode_days: dict[str, list[int]]
    transitions: Counter[tuple[str, str, str]]
    chains: int
    retained: int
    weeks: dict[str, Counter[str]]
    attendance: dict[str, Counter[str]]


def _all_chains(timeline: Timeline, facts: JourneyFacts) -> list[tuple[datetime, int]]:
    """(first admission, days as of T) of every chain, reusing `latest_chain` on each
    prefix of the episodes: a prefix's latest chain ends at its last episode."""
    found: dict[int, tuple[datetime, int]] = {}
    for end in range(1, len(timeline.episodes) + 1):
        prefix = Timeline(timeline.timezone, timeline.first_age_group, timeline.episodes[:end])
        chain = latest_chain(prefix, facts.calendar)
        days = sum(episode_days(e, facts.calendar, facts.as_of) for e in chain)
        found[chain[0].number] = (chain[0].admitted_at, days)
    return list(found.values())


def _level_at(stays: Iterable[Stay], instant: datetime) -> str | None:
    for stay in stays:
        if stay.started_at <= instant and (stay.ended_at is None or instant < stay.ended_at):
            return stay.level
    return None


def _days_and_moves(out: Expected, facts: JourneyFacts, first: date, last: date) -> None:
    catalog, timeline, t = facts.catalog, facts.timeline, facts.as_of
    for episode in timeline.episodes:
        for stay in episode.stays:
            if stay.ended_at is not None:
                out.stay_days[stay.level].append(stay_days(stay, facts.calendar, t))
        if episode.discharged_at is not None:
            reason = episode.discharge_reason or ""
            out.episode_days[reason].append(episode_days(episode, facts.calendar, t))
        for before, after in zip(episode.stays, episode.stays[1:], strict=False):
            if first <= facts.calendar.local_date(after.started_at) <= last:
                down = catalog.levels[after.level].rank < catalog.levels[before.level].rank
                out.transitions[
                    ("step_down" if down else "step_up", before.level, after.level)
                ] += 1


def _chains_weeks_sessions(out: Expected, facts: JourneyFacts) -> None:
    ambulatory = {lv.id for lv in facts.catalog.levels.values() if lv.ambulatory}
    for admitted, days in _all_chains(facts.timeline, facts):
        if admitted <= facts.as_of - timedelta(days=BENCHMARK_DAYS):
            out.chains += 1
            out.retained += days >= BENCHMARK_DAYS
    for week in facts.weeks:
        (level, *others) = list(week.level_days) or [""]
        if week.complete and not others and level in ambulatory:
            out.weeks[level][week.status] += 1
    stays = [s for e in facts.timeline.episodes for s in e.stays]
    for session in facts.sessions:
        level = _level_at(stays, session.occurred_at)
        if not session.voided and level is not None:
            out.attendance[level][session.status] += 1


def expected(cohort: Iterable[JourneyFacts], first: date, last: date) -> Expected:
    out = Expected(Counter(), defaultdict(Counter), defaultdict(list), defaultdict(list),
                   Counter(), 0, 0, defaultdict(Counter), defaultdict(Counter))  # fmt: skip
    for facts in cohort:
        latest = facts.timeline.latest
        if latest is not None and latest.is_open:
            out.census[latest.stays[-1].level] += 1
        for day, value in facts.levels.items():
            if first <= day <= last:
                out.daily[day][value.level] += 1
        _days_and_moves(out, facts, first, last)
        _chains_weeks_sessions(out, facts)
    return out
