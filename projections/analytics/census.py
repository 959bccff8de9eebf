"""Census: patients by the level in force at instant T, and the midnight census per local
date over a range (SPEC 6: the level of date D is the level in force at the midnight that
ends D, counted only when that midnight is at or before T)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from journey.errors import invalid
from projections.analytics.sqlparts import (
    Zones,
    days_between,
    greatest,
    open_at,
    pairs,
    text_agg,
    zones_at,
)
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime

MAX_RANGE_DAYS = 1096  # three years of dates per request
ONE_DAY = timedelta(days=1)


class CensusAt(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    levels: dict[str, int | None]  # every catalog level, in treatment order
    total: int | None
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


class CensusDay(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    levels: dict[str, int | None]
    total: int | None
    complete: bool  # the date's ending midnight is at or before T in every patient zone


class CensusDaily(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    from_date: date
    to_date: date
    days: list[CensusDay]
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


def census_at(unit: Unit, as_of: datetime, catalog: Catalog | None = None) -> CensusAt:
    """Patients whose stay in force at T (started_at <= T < ended_at) is at each level:
    the stays started by T less those ended by T, from the counts per UTC date before T's
    (`rm_stay_days`) and the stays started or ended on T's date up to T."""
    as_of = require_aware(as_of, "at")
    levels: dict[str, int] = dict.fromkeys((catalog or default_catalog()).level_ids(), 0)
    stays = "rm_stays:started_at:ended_at"
    for level, patients in open_at(unit, as_of, "rm_stay_days", stays, "level"):
        if int(patients) or level in levels:
            levels[level] = int(patients)
    return CensusAt(as_of=as_of, levels=levels, total=sum(levels.values()))


def check_range(first: date, last: date, *, limit: int = MAX_RANGE_DAYS) -> None:
    if last < first:
        raise invalid("to", "date_order", f"'to' ({last}) is before 'from' ({first})")
    if (last - first).days + 1 > limit:
        raise invalid("to", "max_range", f"at most {limit} dates per request")


def _daily_counts(unit: Unit, zones: Zones, first: date, last: date) -> dict[date, dict[str, int]]:
    """level -> patients per date of the range, from the census deltas (`rm_census_deltas`):
    the census of date D in a zone is the sum of its deltas dated D or earlier, counted
    only for the dates before the local date of T in that zone. One statement gives each
    level's changes over the range as one text value (a zone's deltas from before the range
    dated `first`, and a zone's whole census taken off at its local date of T); a running
    sum per level then gives each date."""
    if not zones.local_dates:
        return {}
    d = unit.dialect
    cte, params = zones.cte(d)
    day = f"CAST(? AS {d.day})"
    offset = greatest(d, days_between(d, "c.local_date", day), "0")  # 0: `first` or before
    plus = (
        f"SELECT c.level AS level, {offset} AS i, SUM(c.delta) AS n FROM rm_census_deltas c"
        " JOIN tz ON tz.timezone = c.timezone WHERE c.local_date <= ?"
        f" AND c.local_date < tz.t_date AND tz.t_date > {day} GROUP BY 1, 2"
    )
    minus = (  # a zone's census ends at its local date of T
        f"SELECT c.level AS level, {days_between(d, 'tz.t_date', day)} AS i,"
        " -SUM(c.delta) AS n FROM rm_census_deltas c JOIN tz ON tz.timezone = c.timezone"
        f" WHERE c.local_date < tz.t_date AND tz.t_date > {day} AND tz.t_date <= {day}"
        " GROUP BY 1, 2"
    )
    size, joined = (last - first).days + 1, text_agg(d, "i || ':' || n")
    steps: dict[str, list[int]] = {}
    for level, changes in unit.all(
        f"WITH {cte} SELECT level, {joined} FROM ({plus} UNION ALL {minus}) AS changes"
        " GROUP BY level",
        (*params, first, last, first, first, first, last),
    ):
        for i, delta in pairs(changes):
            steps.setdefault(str(level), [0] * size)[i] += delta
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    for level in sorted(steps):
        running = 0
        for index, delta in enumerate(steps[level]):
            running += delta
            if running:
                counts[first + index * ONE_DAY][level] = running
    return counts


def census_daily(
    unit: Unit, as_of: datetime, first: date, last: date, catalog: Catalog | None = None
) -> CensusDaily:
    """Patients per level of each local date D in [first, last], as of T."""
    as_of = require_aware(as_of, "at")
    check_range(first, last)
    zones = zones_at(unit, as_of)
    counts = _daily_counts(unit, zones, first, last)
    level_ids = (catalog or default_catalog()).level_ids()
    horizon = zones.horizon()
    days, day = [], first
    while day <= last:
        levels = dict.fromkeys(level_ids, 0) | counts.get(day, {})
        total = sum(levels.values())
        days.append(CensusDay(date=day, levels=levels, total=total, complete=day < horizon))
        day += ONE_DAY
    return CensusDaily(as_of=as_of, from_date=first, to_date=last, days=days)
