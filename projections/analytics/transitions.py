"""Level-of-care transitions whose local date (patient's zone) lies in [from, to] and that
have happened by T, counted per (from, to) pair and split into step_down / step_up.

A readmission that continues the care chain (SPEC 6: its local date at most 7 days after
the previous discharge's) at another level than the previous episode's last stay counts as
a transition too, from that level to the readmission's, dated at the readmission: a
`transferred` discharge then a readmission at a lower level is a real step-down. Each pair
says how many of its transitions were such readmissions (`across_episodes`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.census import check_range
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime

MAX_RANGE_DAYS = 3660
# A local date at least two days before T's UTC date ended before T in every zone (zones
# are within 14 hours of UTC): its transitions come from the daily counts
# (`rm_transition_days`), the later ones from `rm_transitions` with `occurred_at <= T`.
CUT, ONE_DAY = timedelta(days=2), timedelta(days=1)
DIRECTIONS = ("step_down", "step_up")


class TransitionPair(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    from_level: str
    to_level: str
    count: int | None
    across_episodes: int | None  # of `count`: chained readmissions at another level


class Transitions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    as_of: UtcDatetime
    from_date: date
    to_date: date
    totals: dict[str, int | None]  # step_down, step_up
    step_down: list[TransitionPair]
    step_up: list[TransitionPair]
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


def transitions(
    unit: Unit, as_of: datetime, first: date, last: date, catalog: Catalog | None = None
) -> Transitions:
    as_of = require_aware(as_of, "at")
    check_range(first, last, limit=MAX_RANGE_DAYS)
    rank = {level_id: i for i, level_id in enumerate((catalog or default_catalog()).levels)}
    cut = as_of.astimezone(UTC).date() - CUT  # every local date up to it ended before T
    rows = unit.all(
        "SELECT direction, from_level, to_level, SUM(n), SUM(a) FROM (SELECT direction,"
        " from_level, to_level, transitions AS n, across AS a FROM rm_transition_days"
        " WHERE local_date >= ? AND local_date <= ? UNION ALL SELECT direction, from_level,"
        " to_level, 1, CASE WHEN across_episodes THEN 1 ELSE 0 END FROM rm_transitions"
        " WHERE local_date >= ? AND local_date <= ? AND occurred_at <= ?) AS found"
        " GROUP BY direction, from_level, to_level",
        (first, min(last, cut), max(first, cut + ONE_DAY), last, as_of),
    )
    counted: dict[str, list[tuple[int, str, str, int]]] = {d: [] for d in DIRECTIONS}
    for direction, source, target, count, across in rows:
        pair = (int(count), str(source), str(target), int(across or 0))
        counted.setdefault(str(direction), []).append(pair)
    pairs: dict[str, list[TransitionPair]] = {}
    for direction, found in counted.items():  # most frequent first, then treatment order
        found.sort(key=lambda p: (-p[0], rank.get(p[1], 99), rank.get(p[2], 99)))
        pairs[direction] = [
            TransitionPair(from_level=s, to_level=t, count=n, across_episodes=a)
            for n, s, t, a in found
        ]
    return Transitions(
        as_of=as_of,
        from_date=first,
        to_date=last,
        totals={d: sum(p[0] for p in counted[d]) for d in DIRECTIONS},
        step_down=pairs["step_down"],
        step_up=pairs["step_up"],
    )
