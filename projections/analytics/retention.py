"""90-day retention as of T: among the care chains (SPEC 6: an admission whose local date
is at most 7 days after the previous discharge's local date continues the chain) whose
first admission instant is at or before T - 90 days (90 x 24 hours), the share whose
continuous care days as of T (midnight-census days of the chain's episodes) reach 90.

Days only accumulate, so that is the share whose `rm_chains.reached_at` (the midnight
counting the 90th day) is at or before T."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit
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
    chains: int | None
    retained: int | None
    share: float | None
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


def retention(unit: Unit, as_of: datetime) -> Retention:
    as_of = require_aware(as_of, "at")
    cutoff = as_of - ELIGIBLE_AFTER
    row = unit.one(
        "SELECT COUNT(*), SUM(CASE WHEN reached_at <= ? THEN 1 ELSE 0 END) FROM rm_chains"
        " WHERE started_at <= ?",
        (as_of, cutoff),
    )
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
