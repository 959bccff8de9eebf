"""Weekly individual sessions with the primary therapist (SPEC 9, standards of care): among
the ISO weeks ended by T (their Sunday's ending midnight, local, at or before T) with
`weekly_individual_met` not null (at least 4 dated days, SPEC 6), how many were met, per
level: the level with most dates in the week, ties to the higher rank.

A week ended by T no longer depends on T, so the projection keeps what each week adds
(`projections/read_models/care_weeks.py`): the query sums, per time zone, the counters of
the Mondays M with M + 7 <= the local date of T (`rm_care_week_counts`) and the interior
weeks of the stays (`rm_care_spans`: a +1 delta at Monday W counts every such Monday from
W on). Two grouped scans of small tables, whatever the number of patients."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from infrastructure.sql import Unit
from projections.analytics.sqlparts import Zones, add_days, days_between, zones_at


def weekly_counts(
    unit: Unit, t: datetime, zones: Zones | None = None
) -> tuple[Counter[str], Counter[str]]:
    """(judged weeks, met weeks) per level among the weeks ended by T (`zones`: the local
    date of T in each zone, when the caller has it)."""
    weeks, met = Counter[str](), Counter[str]()
    zones = zones or zones_at(unit, t)
    if not zones.local_dates:
        return weeks, met
    d = unit.dialect
    cte, params = zones.cte(d)
    stop = add_days(d, "tz.t_date", -7)  # the last Monday of a week ended by T is <= stop
    for level, judged, found in unit.all(
        f"WITH {cte} SELECT c.level, SUM(c.weeks), SUM(c.met) FROM rm_care_week_counts c"
        f" JOIN tz ON tz.timezone = c.timezone WHERE c.week_start <= {stop}"
        " GROUP BY c.level",
        params,
    ):
        weeks[str(level)] += int(judged)
        met[str(level)] += int(found)
    for level, interior in unit.all(
        f"WITH {cte} SELECT s.level,"
        f" SUM(s.delta * ({days_between(d, stop, 's.week_start')} / 7 + 1))"
        " FROM rm_care_spans s JOIN tz ON tz.timezone = s.timezone"
        f" WHERE s.week_start <= {stop} GROUP BY s.level",
        params,
    ):
        weeks[str(level)] += int(interior)
    return weeks, met
