"""Intensity as of T: complete ISO weeks (all 7 local dates have a level, every date's
ending midnight at or before T) whose 7 dates are all at the same ambulatory level, by
their SPEC 6 status per level; plus the attendance rate per level (`attendance`).

A week is complete as of T when its Sunday is before the local date of T; what it holds
then no longer depends on T. The weeks inside one stay are counted from the stays'
interior spans (`rm_week_spans`) at their zero-minute status; the weeks with counted
sessions and those made of several stays correct or add to that (`rm_week_counts`); see
`projections/read_models/weeks.py`."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.attendance import LevelAttendance, attendance
from projections.analytics.sqlparts import Zones, add_days, days_between, zones_at
from projections.analytics.stats import share
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime
from projections.read_models.weeks import zero_minute_status

STATUSES = ("below_minimum", "within_range", "above_maximum", "no_requirement")
ONE_WEEK = timedelta(days=7)


class LevelIntensity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weeks: int | None  # complete weeks at this single level
    counts: dict[str, int | None]  # per status
    shares: dict[str, float | None]  # per status, counts / weeks


class Intensity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    weeks_by_level: dict[str, LevelIntensity]  # every ambulatory level
    attendance_by_level: dict[str, LevelAttendance]  # every level
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


def _interior_weeks(unit: Unit, zones: Zones) -> dict[tuple[str, str], int]:
    """(level, age group) -> interior weeks complete as of T: a +1 delta at Monday W
    counts every Monday M from W with M + 7 <= the local date of T (summed in SQL)."""
    found: dict[tuple[str, str], int] = defaultdict(int)
    if not zones.local_dates:
        return found
    d = unit.dialect
    cte, params = zones.cte(d)
    last = add_days(d, "tz.t_date", -7)  # the last Monday whose week is complete is <= last
    for level, age_group, weeks in unit.all(
        f"WITH {cte} SELECT s.level, s.age_group,"
        f" SUM(s.delta * ({days_between(d, last, 's.week_start')} / 7 + 1))"
        " FROM rm_week_spans s JOIN tz ON tz.timezone = s.timezone"
        f" WHERE s.week_start <= {last} GROUP BY s.level, s.age_group",
        params,
    ):
        found[str(level), str(age_group)] += int(weeks)
    return found


def _week_counts(unit: Unit, zones: Zones, levels: list[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {level: dict.fromkeys(STATUSES, 0) for level in levels}
    if not zones.local_dates:
        return counts
    cte, params = zones.cte(unit.dialect)
    rows = unit.all(
        f"WITH {cte} SELECT c.level, c.status, SUM(c.weeks) FROM rm_week_counts c"
        " JOIN tz ON tz.timezone = c.timezone"
        f" WHERE c.week_start <= {add_days(unit.dialect, 'tz.t_date', -7)}"
        " GROUP BY c.level, c.status",
        params,
    )
    for level, status, weeks in rows:
        if str(level) in counts:
            counts[str(level)][str(status)] += int(weeks)
    for (level, age_group), weeks in _interior_weeks(unit, zones).items():
        status = zero_minute_status(level, age_group)
        if level in counts and status is not None:
            counts[level][status] += weeks
    return counts


def _level_intensity(counts: dict[str, int]) -> LevelIntensity:
    weeks = sum(counts.values())
    shares = {status: share(n, weeks) for status, n in counts.items()}
    return LevelIntensity(weeks=weeks, counts=dict(counts), shares=shares)


def intensity(unit: Unit, as_of: datetime, catalog: Catalog | None = None) -> Intensity:
    as_of = require_aware(as_of, "at")
    catalog = catalog or default_catalog()
    ambulatory = [level.id for level in catalog.levels.values() if level.ambulatory]
    counts = _week_counts(unit, zones_at(unit, as_of), ambulatory)
    return Intensity(
        as_of=as_of,
        weeks_by_level={level: _level_intensity(counts[level]) for level in ambulatory},
        attendance_by_level=attendance(unit, as_of, catalog),
    )
