"""Length of stay as of T: stays ended by T per level, episodes discharged by T per
discharge reason; days are midnight-census days (SPEC 6), final once the end is <= T."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.stats import DaysSummary, summarize_days
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime


class LengthOfStay(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    stays_by_level: dict[str, DaysSummary]  # every catalog level
    episodes_by_reason: dict[str, DaysSummary]  # every catalog discharge reason


def _histograms(unit: Unit, statement: str, as_of: datetime) -> dict[str, dict[int, int]]:
    """key -> {days: how many}, from a `SELECT key, days, COUNT(*) ... GROUP BY 1, 2`."""
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for key, days, count in unit.all(statement, (as_of,)):
        found[str(key)][int(days)] = int(count)
    return found


def length_of_stay(unit: Unit, as_of: datetime, catalog: Catalog | None = None) -> LengthOfStay:
    as_of = require_aware(as_of, "at")
    catalog = catalog or default_catalog()
    stays = _histograms(
        unit,
        "SELECT level, days, COUNT(*) FROM rm_stays"
        " WHERE ended_at IS NOT NULL AND ended_at <= ? GROUP BY level, days",
        as_of,
    )
    episodes = _histograms(
        unit,
        "SELECT discharge_reason, days, COUNT(*) FROM rm_episodes"
        " WHERE discharged_at IS NOT NULL AND discharged_at <= ?"
        " GROUP BY discharge_reason, days",
        as_of,
    )
    levels = [*catalog.level_ids(), *sorted(set(stays) - set(catalog.levels))]
    reasons = [*catalog.discharge_reasons, *sorted(set(episodes) - set(catalog.discharge_reasons))]
    return LengthOfStay(
        as_of=as_of,
        stays_by_level={level: summarize_days(stays.get(level, {})) for level in levels},
        episodes_by_reason={r: summarize_days(episodes.get(r, {})) for r in reasons},
    )
