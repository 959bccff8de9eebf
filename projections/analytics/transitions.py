"""Level-of-care transitions whose local date (patient's zone) lies in [from, to] and that
have happened by T, counted per (from, to) pair and split into step_down / step_up."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.census import check_range
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime

MAX_RANGE_DAYS = 3660
DIRECTIONS = ("step_down", "step_up")


class TransitionPair(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    from_level: str
    to_level: str
    count: int


class Transitions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    from_date: date
    to_date: date
    totals: dict[str, int]  # step_down, step_up
    step_down: list[TransitionPair]
    step_up: list[TransitionPair]


def transitions(
    unit: Unit, as_of: datetime, first: date, last: date, catalog: Catalog | None = None
) -> Transitions:
    as_of = require_aware(as_of, "at")
    check_range(first, last, limit=MAX_RANGE_DAYS)
    rank = {level_id: i for i, level_id in enumerate((catalog or default_catalog()).levels)}
    rows = unit.all(
        "SELECT direction, from_level, to_level, COUNT(*) FROM rm_transitions"
        " WHERE local_date >= ? AND local_date <= ? AND occurred_at <= ?"
        " GROUP BY direction, from_level, to_level",
        (first, last, as_of),
    )
    pairs: dict[str, list[TransitionPair]] = {d: [] for d in DIRECTIONS}
    for direction, source, target, count in rows:
        pair = TransitionPair(from_level=source, to_level=target, count=int(count))
        pairs.setdefault(str(direction), []).append(pair)
    for found in pairs.values():  # most frequent first, then treatment order
        found.sort(key=lambda p: (-p.count, rank.get(p.from_level, 99), rank.get(p.to_level, 99)))
    return Transitions(
        as_of=as_of,
        from_date=first,
        to_date=last,
        totals={d: sum(p.count for p in pairs[d]) for d in DIRECTIONS},
        step_down=pairs["step_down"],
        step_up=pairs["step_up"],
    )
