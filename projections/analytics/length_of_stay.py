"""Length of stay as of T: stays ended by T per level, episodes discharged by T per
discharge reason; days are midnight-census days (SPEC 6), final once the end is <= T.

The ends before the UTC month of T come from the histograms by month (`rm_stay_lengths`,
`rm_episode_lengths`); those of T's month up to T from the stays and episodes themselves."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.sqlparts import pairs, text_agg
from projections.analytics.stats import DaysSummary, summarize_days
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime
from projections.read_models.stay_counters import month_of


class LengthOfStay(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    stays_by_level: dict[str, DaysSummary]  # every catalog level
    episodes_by_reason: dict[str, DaysSummary]  # every catalog discharge reason
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


def _histograms(
    unit: Unit, statements: tuple[str, str], as_of: datetime
) -> dict[str, dict[int, int]]:
    """key -> {days: how many}: `SELECT k, v (days), n ... GROUP BY 1, 2` over the months
    before T's and over T's month up to T, in one statement returning a row per key."""
    month = month_of(as_of)
    found: dict[str, dict[int, int]] = defaultdict(dict)
    before, current = statements
    joined = text_agg(unit.dialect, "v || ':' || n")  # one text value per key
    rows = unit.all(
        f"SELECT k, {joined} FROM ({before} UNION ALL {current}) AS h GROUP BY k",
        (month, datetime.combine(month, time(), tzinfo=UTC), as_of),
    )
    for key, histogram_text in rows:
        histogram = found[str(key)]
        for days, count in pairs(histogram_text):
            histogram[days] = histogram.get(days, 0) + count
    return found


_STAYS = (
    "SELECT level AS k, days AS v, SUM(stays) AS n FROM rm_stay_lengths WHERE month < ?"
    " GROUP BY level, days",
    "SELECT level AS k, days AS v, COUNT(*) AS n FROM rm_stays"
    " WHERE ended_at >= ? AND ended_at <= ? GROUP BY level, days",
)
_EPISODES = (
    "SELECT reason AS k, days AS v, SUM(episodes) AS n FROM rm_episode_lengths WHERE month < ?"
    " GROUP BY reason, days",
    "SELECT discharge_reason AS k, days AS v, COUNT(*) AS n FROM rm_episodes"
    " WHERE discharged_at >= ? AND discharged_at <= ? GROUP BY discharge_reason, days",
)


def length_of_stay(unit: Unit, as_of: datetime, catalog: Catalog | None = None) -> LengthOfStay:
    as_of = require_aware(as_of, "at")
    catalog = catalog or default_catalog()
    stays = _histograms(unit, _STAYS, as_of)
    episodes = _histograms(unit, _EPISODES, as_of)
    levels = [*catalog.level_ids(), *sorted(set(stays) - set(catalog.levels))]
    reasons = [*catalog.discharge_reasons, *sorted(set(episodes) - set(catalog.discharge_reasons))]
    return LengthOfStay(
        as_of=as_of,
        stays_by_level={level: summarize_days(stays.get(level, {})) for level in levels},
        episodes_by_reason={r: summarize_days(episodes.get(r, {})) for r in reasons},
    )
