"""Test oracles: the analytics queries as they were before this round's fast paths (main
a9efd76), kept to compare the new answers with, value for value."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from infrastructure.sql import Unit, day_of
from projections.analytics.sqlparts import Zones

ONE_DAY = timedelta(days=1)


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
