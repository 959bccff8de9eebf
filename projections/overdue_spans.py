"""When an episode's plan review, or its plan, is overdue (SPEC 9, standards of care), as
half-open intervals of instants: the read model `rm_overdue_spans` holds them, so the
count at T is the spans started by T less those ended by T (`read_models/overdue.py`).

At instant T a patient counts when their latest episode admitted by T is open at T (the
episode's window [admitted_at, the earlier of its discharge and any later episode's
admission)); then, with T's local date in the patient's zone:
- `review`: the episode's latest plan created by T (created_at, version) exists, and T's
  local date is after its latest review at or before T (reviewed_at, version), else its
  creation, plus 7 days;
- `plan`: no plan of the episode created by T, and T's local date is after the admission's
  plus the first level's `plan_due_days` (levels without one never count).

Between two consecutive instants of the episode's plans and reviews the state is constant,
so each piece of the window has one threshold date X; the piece is overdue at the instants
whose local date is after X (`local_date_from`, exact at DST changes and skipped dates)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

REVIEW, PLAN = "review", "plan"
REVIEW_DAYS = 7  # a plan's review is due 7 local days after its last review or creation
ONE_DAY = timedelta(days=1)
_STEP = timedelta(minutes=30)  # offsets never change twice within this (tz database)
_TICK = timedelta(microseconds=1)

Interval = tuple[datetime, datetime | None]  # [start, end); end None: open


@dataclass(frozen=True)
class EpisodeRow:
    number: int
    admitted_at: datetime
    admitted_local_date: date
    discharged_at: datetime | None
    first_level: str


@dataclass(frozen=True)
class PlanRow:
    plan_id: str
    version: int
    episode_number: int
    created_at: datetime
    created_local_date: date


@dataclass(frozen=True)
class ReviewRow:
    plan_id: str
    version: int
    reviewed_at: datetime
    reviewed_local_date: date


@dataclass(frozen=True)
class Span:
    episode_number: int
    kind: str  # REVIEW or PLAN
    starts_at: datetime
    ends_at: datetime | None  # None: still overdue (open)


def _transition(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The first instant in (lo, hi] whose UTC offset differs from lo's (one exists)."""
    before = lo.astimezone(zone).utcoffset()
    while hi - lo > _TICK:
        middle = lo + (hi - lo) // 2
        if middle.astimezone(zone).utcoffset() == before:
            lo = middle
        else:
            hi = middle
    return hi


@lru_cache(maxsize=65536)
def local_date_from(timezone: str, day: date) -> tuple[Interval, ...]:
    """The instants whose local date in `timezone` is `day` or later, as disjoint
    intervals (one, unless the zone's clock falls back across a midnight after it)."""
    zone = ZoneInfo(timezone)
    wall = datetime.combine(day, time(), tzinfo=UTC)  # the wall clock's midnight, read as UTC
    lo, hi = wall - ONE_DAY, wall + ONE_DAY  # offsets are under a day: before lo never,
    cuts, at = [lo], lo  # from hi on always
    while at < hi:
        step = min(at + _STEP, hi)
        if step.astimezone(zone).utcoffset() != at.astimezone(zone).utcoffset():
            cuts.append(_transition(zone, at, step))
        at = step
    found: list[list[datetime | None]] = []
    for start, end in pairwise([*cuts, hi]):
        offset = start.astimezone(zone).utcoffset()
        assert offset is not None
        first = max(start, wall - offset)  # wall time start + offset reaches the midnight
        if first < end:
            if found and found[-1][1] == first:
                found[-1][1] = end
            else:
                found.append([first, end])
    if found and found[-1][1] == hi:
        found[-1][1] = None
    else:
        found.append([hi, None])
    return tuple((start, end) for start, end in found if start is not None)


def _clip(interval: Interval, start: datetime, end: datetime | None) -> Interval | None:
    lo = max(interval[0], start)
    ends = [e for e in (interval[1], end) if e is not None]
    hi = min(ends) if ends else None
    return None if hi is not None and hi <= lo else (lo, hi)


def _threshold(
    episode: EpisodeRow, plans: Sequence[PlanRow], reviews: Sequence[ReviewRow],
    at: datetime, dues: Mapping[str, int],
) -> tuple[str, date] | None:  # fmt: skip
    """(kind, X): overdue at the instants from `at` on (until the next change) whose local
    date is after X; None when nothing can be overdue."""
    made = [p for p in plans if p.created_at <= at]
    if not made:
        due = dues.get(episode.first_level)
        return None if due is None else (PLAN, episode.admitted_local_date + timedelta(due))
    plan = max(made, key=lambda p: (p.created_at, p.version))
    seen = [r for r in reviews if r.plan_id == plan.plan_id and r.reviewed_at <= at]
    last = max(seen, key=lambda r: (r.reviewed_at, r.version)) if seen else None
    base = plan.created_local_date if last is None else last.reviewed_local_date
    return REVIEW, base + timedelta(REVIEW_DAYS)


def _window(episode: EpisodeRow, episodes: Iterable[EpisodeRow]) -> datetime | None:
    """The end of the episode's window (None: open): its discharge or a later admission."""
    ends = [e.admitted_at for e in episodes if e.number > episode.number]
    if episode.discharged_at is not None:
        ends.append(episode.discharged_at)
    return min(ends, default=None)


def episode_spans(
    timezone: str, episode: EpisodeRow, end: datetime | None, plans: Sequence[PlanRow],
    reviews: Sequence[ReviewRow], *, dues: Mapping[str, int],
) -> list[Span]:  # fmt: skip
    """The overdue spans of one episode whose window is [admitted_at, end)."""
    start = episode.admitted_at
    if end is not None and end <= start:
        return []
    ids = {p.plan_id for p in plans}
    changes = {p.created_at for p in plans} | {r.reviewed_at for r in reviews if r.plan_id in ids}
    points = sorted(x for x in changes if start < x and (end is None or x < end))
    reviews = [r for r in reviews if r.plan_id in ids]
    spans: list[Span] = []
    for lo, hi in zip([start, *points], [*points, end], strict=True):
        found = _threshold(episode, plans, reviews, lo, dues)
        if found is None:
            continue
        kind, after = found
        for interval in local_date_from(timezone, after + ONE_DAY):
            piece = _clip(interval, lo, hi)
            if piece is None:
                continue
            last = spans[-1] if spans else None
            if last is not None and last.kind == kind and last.ends_at == piece[0]:
                spans[-1] = Span(episode.number, kind, last.starts_at, piece[1])
            else:
                spans.append(Span(episode.number, kind, piece[0], piece[1]))
    return spans


def patient_spans(
    timezone: str, episodes: Sequence[EpisodeRow], plans: Sequence[PlanRow],
    reviews: Sequence[ReviewRow], *, dues: Mapping[str, int],
) -> list[Span]:  # fmt: skip
    """Every overdue span of one patient (episodes, plans and reviews: all of theirs)."""
    spans: list[Span] = []
    for episode in sorted(episodes, key=lambda e: e.number):
        own = [p for p in plans if p.episode_number == episode.number]
        end = _window(episode, episodes)
        spans += episode_spans(timezone, episode, end, own, reviews, dues=dues)
    return spans
