"""Intensity as of T: complete ISO weeks (all 7 local dates have a level, every date's
ending midnight at or before T) whose 7 dates are all at the same ambulatory level, by
their SPEC 6 status per level; plus the attendance rate per level (`attendance`).

The whole comparison runs in SQL with exact integer arithmetic: a week's expected minimum
is sum(days x weekly minimum) / 7 hours, scaled by S (so that every catalog figure is an
integer), and `attended_minutes / 60 < min_x / (7 S)` becomes `7 S minutes < 60 min_x`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from fractions import Fraction
from math import lcm
from typing import Any

from pydantic import BaseModel, ConfigDict

from infrastructure.sql import Dialect, Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.attendance import LevelAttendance, attendance
from projections.analytics.sqlparts import (
    Zones,
    add_days,
    days_between,
    flat,
    greatest,
    least,
    monday_of,
    values_table,
    zones_at,
)
from projections.analytics.stats import share
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime

STATUSES = ("below_minimum", "within_range", "above_maximum", "no_requirement")
MINUTES_PER_HOUR, DAYS_PER_WEEK = 60, 7


class LevelIntensity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weeks: int  # complete weeks at this single level
    counts: dict[str, int]  # per status
    shares: dict[str, float | None]  # per status, counts / weeks


class Intensity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    weeks_by_level: dict[str, LevelIntensity]  # every ambulatory level
    attendance_by_level: dict[str, LevelAttendance]  # every level


def _exact(value: float | None) -> Fraction | None:
    return None if value is None else Fraction(str(value))


def _hours_rows(catalog: Catalog, levels: Iterable[str]) -> tuple[int, list[tuple[Any, ...]]]:
    """(S, [(level, age_group, S x weekly min, S x weekly max)]) for the given levels."""
    ranges = [
        (level, group, _exact(hours.minimum), _exact(hours.maximum))
        for level in levels
        for group, hours in catalog.levels[level].hours.items()
    ]
    scale = lcm(1, *(v.denominator for r in ranges for v in r[2:] if v is not None))
    scaled = [
        (level, group, *(None if v is None else int(v * scale) for v in (low, high)))
        for level, group, low, high in ranges
    ]
    return scale, scaled


def _weeks_sql(d: Dialect, zones_cte: str, hours_cte: str, levels: int, scale: int) -> str:
    last = f"CASE WHEN s.census_last_date IS NOT NULL AND s.census_last_date < tz.t_date THEN s.census_last_date ELSE {add_days(d, 'tz.t_date', -1)} END"  # noqa: E501
    inside = f"{days_between(d, least(d, 'l', add_days(d, 'm', 6)), greatest(d, 'f', 'm'))} + 1"
    x, hour = scale * DAYS_PER_WEEK, MINUTES_PER_HOUR
    marks = ", ".join("?" for _ in range(levels))
    return (
        f"WITH RECURSIVE {zones_cte}, {hours_cte},"
        " ranges AS (SELECT s.patient_id, s.level, s.age_group, s.census_first_date AS f,"
        f" {last} AS l FROM rm_stays s JOIN rm_patients p ON p.patient_id = s.patient_id"
        f" JOIN tz ON tz.timezone = p.timezone WHERE s.level IN ({marks})"
        " AND s.census_first_date < tz.t_date),"
        " weeks(patient_id, level, age_group, f, l, m) AS ("
        f" SELECT patient_id, level, age_group, f, l, {monday_of(d, 'f')} FROM ranges WHERE f <= l"
        f" UNION ALL SELECT patient_id, level, age_group, f, l, {add_days(d, 'm', 7)}"
        f" FROM weeks WHERE {add_days(d, 'm', 7)} <= l),"
        f" parts AS (SELECT w.patient_id, w.m, w.level, {inside} AS n, h.min_x, h.max_x"
        " FROM weeks w LEFT JOIN hours h ON h.level = w.level AND h.age_group = w.age_group),"
        " complete AS (SELECT patient_id, m, MIN(level) AS level, SUM(n * min_x) AS min_x,"
        " CASE WHEN COUNT(max_x) = COUNT(*) THEN SUM(n * max_x) END AS max_x"
        " FROM parts GROUP BY patient_id, m HAVING SUM(n) = 7 AND MIN(level) = MAX(level)),"
        " attended AS (SELECT patient_id, week_start, SUM(duration_minutes) AS minutes"
        " FROM rm_sessions WHERE occurred_at <= ? AND status = ? AND NOT voided"
        " AND counts_toward_intensity GROUP BY patient_id, week_start),"
        " rated AS (SELECT c.level, c.min_x, c.max_x,"
        f" {x} * COALESCE(a.minutes, 0) AS hx FROM complete c LEFT JOIN attended a"
        " ON a.patient_id = c.patient_id AND a.week_start = c.m)"
        " SELECT level, CASE WHEN min_x IS NULL AND max_x IS NULL THEN 'no_requirement'"
        f" WHEN min_x IS NOT NULL AND hx < {hour} * min_x THEN 'below_minimum'"
        f" WHEN max_x IS NOT NULL AND hx >= {hour} * max_x THEN 'above_maximum'"
        " ELSE 'within_range' END, COUNT(*) FROM rated GROUP BY 1, 2"
    )


def _week_counts(
    unit: Unit, zones: Zones, catalog: Catalog, levels: list[str]
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {level: dict.fromkeys(STATUSES, 0) for level in levels}
    if not zones.local_dates or not levels:
        return counts
    scale, hours = _hours_rows(catalog, levels)
    d = unit.dialect
    zones_cte, zone_params = zones.cte(d)
    columns = [("level", "TEXT"), ("age_group", "TEXT"), ("min_x", "BIGINT"), ("max_x", "BIGINT")]
    statement = _weeks_sql(d, zones_cte, values_table("hours", columns, hours), len(levels), scale)
    params = (*zone_params, *flat(hours), *levels, zones.as_of, "attended")
    for level, status, weeks in unit.all(statement, params):
        counts[str(level)][str(status)] = int(weeks)
    return counts


def _level_intensity(counts: dict[str, int]) -> LevelIntensity:
    weeks = sum(counts.values())
    shares = {status: share(n, weeks) for status, n in counts.items()}
    return LevelIntensity(weeks=weeks, counts=counts, shares=shares)


def intensity(unit: Unit, as_of: datetime, catalog: Catalog | None = None) -> Intensity:
    as_of = require_aware(as_of, "at")
    catalog = catalog or default_catalog()
    ambulatory = [level.id for level in catalog.levels.values() if level.ambulatory]
    counts = _week_counts(unit, zones_at(unit, as_of), catalog, ambulatory)
    return Intensity(
        as_of=as_of,
        weeks_by_level={level: _level_intensity(counts[level]) for level in ambulatory},
        attendance_by_level=attendance(unit, as_of, catalog),
    )
