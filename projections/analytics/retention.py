"""90-day retention as of T: among the care chains (SPEC 6: an admission whose local date
is at most 7 days after the previous discharge's local date continues the chain) whose
first admission instant is at or before T - 90 days (90 x 24 hours), the share whose
continuous care days as of T (midnight-census days of the chain's episodes) reach 90."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from infrastructure.sql import Unit
from projections.analytics.sqlparts import days_between, greatest, zones_at
from projections.analytics.stats import share
from projections.calendar import require_aware
from projections.journey import BENCHMARK_DAYS
from projections.journey_view import UtcDatetime

ELIGIBLE_AFTER = timedelta(days=BENCHMARK_DAYS)


class Retention(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    first_admitted_by: UtcDatetime  # chains whose first admission is at or before this
    benchmark_days: int
    chains: int
    retained: int
    share: float | None


def _chain_days_sql(unit: Unit, cte: str) -> str:
    """One row per eligible chain with its days as of T: a stay ended by T counts its
    final `days`; one open at T counts the dates from census_first_date to the day before
    the local date of T."""
    d = unit.dialect
    open_days = greatest(d, "0", days_between(d, "tz.t_date", "s.census_first_date"))
    return (
        f"WITH {cte}, chain_days AS ("
        " SELECT e.patient_id, e.chain_number, SUM(CASE WHEN s.ended_at IS NOT NULL"
        f" AND s.ended_at <= ? THEN s.days ELSE {open_days} END) AS days"
        " FROM rm_episodes e"
        " JOIN rm_stays s ON s.patient_id = e.patient_id AND s.episode_number = e.number"
        " JOIN rm_patients p ON p.patient_id = e.patient_id"
        " JOIN tz ON tz.timezone = p.timezone"
        " WHERE e.chain_started_at <= ? AND s.started_at <= ?"
        " GROUP BY e.patient_id, e.chain_number)"
        " SELECT COUNT(*), SUM(CASE WHEN days >= ? THEN 1 ELSE 0 END) FROM chain_days"
    )


def retention(unit: Unit, as_of: datetime) -> Retention:
    as_of = require_aware(as_of, "at")
    cutoff = as_of - ELIGIBLE_AFTER
    zones = zones_at(unit, as_of)
    chains = retained = 0
    if zones.local_dates:
        cte, params = zones.cte(unit.dialect)
        row = unit.one(_chain_days_sql(unit, cte), (*params, as_of, cutoff, as_of, BENCHMARK_DAYS))
        assert row is not None
        chains, retained = int(row[0]), int(row[1] or 0)
    return Retention(
        as_of=as_of,
        first_admitted_by=cutoff,
        benchmark_days=BENCHMARK_DAYS,
        chains=chains,
        retained=retained,
        share=share(retained, chains),
    )
