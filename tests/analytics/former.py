"""Test oracles: the analytics queries as they were before this round's fast paths (main
a9efd76), kept to compare the new answers with, value for value."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from infrastructure.sql import Unit, day_of
from projections.analytics.sqlparts import Zones
from projections.read_models.stay_counters import month_of

ONE_DAY, ONE_WEEK = timedelta(days=1), timedelta(days=7)


def daily_counts(unit: Unit, zones: Zones, first: date, last: date) -> dict[date, dict[str, int]]:
    """level -> patients per date of the range, from the census deltas (`rm_census_deltas`):
    the census of date D in a zone is the sum of its deltas dated D or earlier, counted
    only for the dates before the local date of T in that zone."""
    running: dict[tuple[str, str], int] = defaultdict(int)
    for zone, level, delta in unit.all(
        "SELECT timezone, level, SUM(delta) FROM rm_census_deltas WHERE local_date < ?"
        " GROUP BY timezone, level",
        (first,),
    ):
        running[str(zone), str(level)] += int(delta)
    changes: dict[date, list[tuple[str, str, int]]] = defaultdict(list)
    for zone, day, level, delta in unit.all(
        "SELECT timezone, local_date, level, delta FROM rm_census_deltas"
        " WHERE local_date >= ? AND local_date <= ?",
        (first, last),
    ):
        changes[day_of(unit.dialect, day)].append((str(zone), str(level), int(delta)))
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    day = first
    while day <= last:
        for zone, level, delta in changes.get(day, ()):
            running[zone, level] += delta
        for (zone, level), patients in running.items():
            t_date = zones.local_dates.get(zone)
            if patients and t_date is not None and day < t_date:
                counts[day][level] = counts[day].get(level, 0) + patients
        day += ONE_DAY
    return counts


def interior_weeks(unit: Unit, zones: Zones) -> dict[tuple[str, str], int]:
    """(level, age group) -> interior weeks complete as of T: a +1 delta at Monday W
    counts every Monday M from W with M + 7 <= the local date of T."""
    found: dict[tuple[str, str], int] = defaultdict(int)
    for zone, stored, level, age_group, delta in unit.all(
        "SELECT timezone, week_start, level, age_group, delta FROM rm_week_spans"
    ):
        t_date = zones.local_dates.get(str(zone))
        if t_date is None:
            continue
        last = t_date - ONE_WEEK  # the last Monday whose week is complete
        start = day_of(unit.dialect, stored)
        if start <= last:
            found[str(level), str(age_group)] += int(delta) * ((last - start).days // 7 + 1)
    return found


def histograms(
    unit: Unit, statements: tuple[str, str], as_of: datetime
) -> dict[str, dict[int, int]]:
    """key -> {days: how many}: `SELECT key, days, n ... GROUP BY 1, 2` over the months
    before T's, then over T's month up to T."""
    month = month_of(as_of)
    found: dict[str, dict[int, int]] = defaultdict(dict)
    before, current = statements
    rows = [
        *unit.all(before, (month,)),
        *unit.all(current, (datetime.combine(month, time(), tzinfo=UTC), as_of)),
    ]
    for key, days, count in rows:
        histogram = found[str(key)]
        histogram[int(days)] = histogram.get(int(days), 0) + int(count)
    return found


STAYS = (
    "SELECT level, days, SUM(stays) FROM rm_stay_lengths WHERE month < ? GROUP BY level, days",
    "SELECT level, days, COUNT(*) FROM rm_stays WHERE ended_at >= ? AND ended_at <= ?"
    " GROUP BY level, days",
)
EPISODES = (
    "SELECT reason, days, SUM(episodes) FROM rm_episode_lengths WHERE month < ?"
    " GROUP BY reason, days",
    "SELECT discharge_reason, days, COUNT(*) FROM rm_episodes"
    " WHERE discharged_at >= ? AND discharged_at <= ? GROUP BY discharge_reason, days",
)


def census_levels(unit: Unit, as_of: datetime) -> dict[str, int]:
    """The former `census --at`: a scan of the stays in force at T."""
    rows = unit.all(
        "SELECT level, COUNT(*) FROM rm_stays WHERE started_at <= ?"
        " AND (ended_at IS NULL OR ended_at > ?) GROUP BY level",
        (as_of, as_of),
    )
    return {str(level): int(n) for level, n in rows}


def transition_pairs(
    unit: Unit, as_of: datetime, first: date, last: date
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """The former `transitions`: (direction, from, to) -> (count, across episodes)."""
    rows = unit.all(
        "SELECT direction, from_level, to_level, COUNT(*),"
        " SUM(CASE WHEN across_episodes THEN 1 ELSE 0 END) FROM rm_transitions"
        " WHERE local_date >= ? AND local_date <= ? AND occurred_at <= ?"
        " GROUP BY direction, from_level, to_level",
        (first, last, as_of),
    )
    return {(str(d), str(s), str(t)): (int(n), int(a or 0)) for d, s, t, n, a in rows}
