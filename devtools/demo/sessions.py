"""Therapy sessions for the demo cohort (see `demo_cohort`).

Per ISO week of a stay, sessions whose attended hours land mostly within the level's weekly
range from the catalog (for the patient's age group), some weeks below the minimum and a few
above the maximum; then ~1% corrections and ~0.5% voids, emitted after the session they amend.

Times are local wall-clock minutes (`day ordinal * 1440 + minute of day`): plain ints keep the
generator fast; the caller's `stamp` turns them into ISO-8601 strings with the UTC offset.
Everything random is drawn from the patient's own `random.Random`, so output is deterministic."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Any, Generic, TypeVar

from journey.catalog import Catalog

T = TypeVar("T")
Command = dict[str, Any]
DAY = 1440  # minutes
DAY_STARTS = 7 * 60
DAY_ENDS = 22 * 60  # sessions end by 22:00 local: nothing near a DST change (02:00)
DAY_CAPACITY = 8 * 60  # planned minutes a weekday holds before weekends are used too
GAP = 15  # minutes between back-to-back sessions
BITS = 12  # a weighted pick is one 12-bit draw into a table of 4096 entries
SLOTS = 1 << BITS
MASK = SLOTS - 1


@dataclass(frozen=True)
class SessionProfile:
    """Knobs for the sessions. Ids are checked against the catalog when compiled."""

    formats: Mapping[str, float] = field(
        default_factory=lambda: {"group": 58, "individual": 34, "family": 8}
    )
    deliveries: Mapping[str, float] = field(
        default_factory=lambda: {"in_person": 82, "video": 14, "audio": 4}
    )
    statuses: Mapping[str, float] = field(
        default_factory=lambda: {"attended": 89, "no_show": 8, "cancelled": 3}
    )
    attended: str = "attended"
    no_show: str = "no_show"
    # approach weight by catalog class: evidence-based, other counting, not counting (yoga...)
    approach_weights: tuple[float, float, float] = (10.0, 6.0, 2.0)
    durations: Mapping[str, tuple[int, int]] = field(  # minutes, inclusive, step 15
        default_factory=lambda: {"individual": (45, 60), "group": (60, 150), "family": (60, 90)}
    )
    # weights of weeks aimed within the range, below its minimum, at or above its maximum
    week_mix: tuple[float, float, float] = (80.0, 14.0, 6.0)
    # weekly hours at levels the catalog gives no range (24-hour care), in this share of stays
    unranged_hours: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {"inpatient": (5.0, 12.0)}
    )
    unranged_share: float = 0.7
    correction_rate: float = 0.01
    void_rate: float = 0.005
    clinicians: int = 120
    team_size: int = 3
    day_start_hours: tuple[int, ...] = (8, 8, 9, 9, 10, 13, 16, 17)


def table(weights: Mapping[T, float]) -> tuple[T, ...]:
    """4096 values in proportion to their weights: `table[rng.getrandbits(12)]` is a pick."""
    total = sum(weights.values())
    if not weights or min(weights.values()) < 0 or total <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum: {weights}")
    counts = {v: max(1, round(w / total * SLOTS)) if w > 0 else 0 for v, w in weights.items()}
    largest = max(counts, key=counts.__getitem__)
    counts[largest] += SLOTS - sum(counts.values())
    return tuple(v for v, n in counts.items() for _ in range(n))


class Picker(Generic[T]):
    """A weighted choice: one 12-bit draw into a precomputed table."""

    __slots__ = ("table",)

    def __init__(self, weights: Mapping[T, float]) -> None:
        self.table = table(weights)

    def __call__(self, rng: Random) -> T:
        return self.table[rng.getrandbits(BITS)]


def check_ids(kind: str, given: Iterable[str], valid: Iterable[str]) -> None:
    """Raises ValueError naming the ids of the profile the catalog does not know."""
    unknown = sorted(set(given) - set(valid))
    if unknown:
        raise ValueError(f"demo profile: unknown {kind} {unknown}; valid: {sorted(valid)}")


@dataclass(frozen=True)
class HoursAim:
    """Weekly hours for one level and age group; `ranged` False when invented by the demo."""

    minimum: float | None
    maximum: float | None
    ranged: bool


class SessionMaker:
    """The session profile compiled against a catalog, shared by every patient of a cohort."""

    def __init__(self, profile: SessionProfile, catalog: Catalog) -> None:
        check_ids("format", [*profile.formats, *profile.durations], catalog.formats)
        check_ids("delivery", profile.deliveries, catalog.deliveries)
        statuses = [*profile.statuses, profile.attended, profile.no_show]
        check_ids("status", statuses, catalog.session_statuses)
        check_ids("level", profile.unranged_hours, catalog.levels)
        check_ids("format without durations", profile.formats, profile.durations)
        self.profile = profile
        self.week_mix = Picker(dict(enumerate(profile.week_mix)))
        self.durations = table(
            {
                (f, m): w / len(range(lo, hi + 1, 15))
                for f, w in profile.formats.items()
                for lo, hi in [profile.durations[f]]
                for m in range(lo, hi + 1, 15)
            }
        )
        self.delivery_status = table(
            {
                (d, s): dw * sw
                for d, dw in profile.deliveries.items()
                for s, sw in profile.statuses.items()
            }
        )
        self._approaches(profile, catalog)
        self.clinicians = tuple(
            (f"c-{n:03d}", f"clinician-{n}") for n in range(1, profile.clinicians + 1)
        )
        self.void_below = round(profile.void_rate * SLOTS)
        self.amend_below = self.void_below + round(profile.correction_rate * SLOTS)
        self.aims = {
            (level.id, group): self._aim(level.id, hours.minimum, hours.maximum)
            for level in catalog.levels.values()
            for group, hours in level.hours.items()
        }

    def _approaches(self, profile: SessionProfile, catalog: Catalog) -> None:
        """Approach weights by catalog class, and the share of planned minutes expected to
        end up attended and counted toward intensity."""
        evidence, counting, other = profile.approach_weights
        weights = {
            a.id: evidence if a.evidence_based else counting if a.counts_toward_intensity else other
            for a in catalog.approaches.values()
        }
        self.approaches = table(weights)
        counted = sum(
            w for a, w in weights.items() if catalog.approaches[a].counts_toward_intensity
        )
        attended = profile.statuses.get(profile.attended, 0) / sum(profile.statuses.values())
        self.effective_share = max(0.05, attended * counted / sum(weights.values()))

    def _aim(self, level: str, low: float | None, high: float | None) -> HoursAim | None:
        if low is not None or high is not None:
            return HoursAim(low, high, ranged=True)
        invented = self.profile.unranged_hours.get(level)
        return None if invented is None else HoursAim(*invented, ranged=False)

    def target_minutes(self, rng: Random, aim: HoursAim, days: int) -> float:
        """Minutes of sessions to plan for `days` days of a week, so that the attended and
        counted hours land where the week's draw (within, below, above) aims."""
        kind = self.week_mix(rng) if aim.ranged else 0
        if kind == 1 and aim.minimum:
            hours = aim.minimum * rng.uniform(0.35, 0.9)
        elif kind == 2 and aim.maximum is not None:
            hours = aim.maximum * rng.uniform(1.05, 1.35)
        else:
            floor = aim.minimum or 0.0
            ceiling = aim.maximum if aim.maximum is not None else floor * 1.5
            hours = floor + (ceiling - floor) * rng.uniform(0.15, 0.85)
        return hours * 60 * days / 7 / self.effective_share


@dataclass(slots=True)
class SessionLog:
    """One patient's sessions: appends `record_session` (and amendments) to `out`."""

    maker: SessionMaker
    rng: Random
    patient_id: str
    stamp: Callable[[int], str]  # local minutes as ISO-8601 with the UTC offset
    age_group: str
    out: list[Command]
    count: int = field(default=0, init=False)
    team: tuple[tuple[str, str], ...] = field(default=(), init=False)
    pending: list[Command] = field(default_factory=list, init=False)

    def stay(self, level: str, start: int, end: int) -> None:
        """Sessions strictly between the stay's start and end (local minutes)."""
        aim = self.maker.aims.get((level, self.age_group))
        if aim is None:
            return
        if not aim.ranged and self.rng.random() >= self.maker.profile.unranged_share:
            return
        pool, size = self.maker.clinicians, self.maker.profile.team_size
        self.team = tuple(pool[self.rng.randrange(len(pool))] for _ in range(size))
        first, last = start // DAY, end // DAY
        monday = first - (first - 1) % 7  # day ordinal 1 (0001-01-01) is a Monday
        while monday <= last:
            low, high = max(first, monday), min(last, monday + 6)
            covered = min(last - 1, high) - low + 1  # the week's dates before the end date
            if covered > 0:
                target = self.maker.target_minutes(self.rng, aim, covered)
                self._week(target, range(low, high + 1), start, end)
            monday += 7

    def _week(self, target: float, dates: range, start: int, end: int) -> None:
        durations, bits = self.maker.durations, self.rng.getrandbits
        plan: list[tuple[str, int]] = []
        planned = 0
        while planned < target:
            item = durations[bits(BITS)]
            plan.append(item)
            planned += item[1]
        weekdays = [d for d in dates if (d - 1) % 7 < 5]
        days = weekdays if planned <= len(weekdays) * DAY_CAPACITY else list(dates)
        for (fmt, minutes), at in zip(plan, self._schedule(days or list(dates), plan), strict=True):
            if start < at < end:
                self._record(fmt, minutes, at)
        self.out.extend(self.pending)
        self.pending.clear()

    def _schedule(self, days: list[int], plan: list[tuple[str, int]]) -> list[int]:
        """Start times: sessions spread over the days, back to back within a day; -1 for a
        session that would not fit in its day."""
        rng, n, d = self.rng, len(plan), len(days)
        slots = sorted(rng.sample(range(d), n)) if n <= d else [k * d // n for k in range(n)]
        used = [0] * d
        for slot, (_, minutes) in zip(slots, plan, strict=True):
            used[slot] += minutes + GAP
        hours = self.maker.profile.day_start_hours
        clock = [
            max(DAY_STARTS, min(hours[rng.randrange(len(hours))] * 60, DAY_ENDS - busy))
            for busy in used
        ]
        times = []
        for slot, (_, minutes) in zip(slots, plan, strict=True):
            at = clock[slot]
            times.append(days[slot] * DAY + at if at + minutes <= DAY_ENDS else -1)
            clock[slot] = at + minutes + GAP
        return times

    def _record(self, fmt: str, minutes: int, at: int) -> None:
        maker = self.maker
        draw = self.rng.getrandbits(3 * BITS)
        delivery, status = maker.delivery_status[draw & MASK]
        clinician, actor = self.team[(draw >> BITS & MASK) % len(self.team)]
        self.count += 1
        session_id = f"s-{self.count:04d}"
        self.out.append(
            {
                "command": "record_session",
                "patient_id": self.patient_id,
                "session_id": session_id,
                "format": fmt,
                "approach": maker.approaches[self.rng.getrandbits(BITS)],
                "duration_minutes": minutes,
                "occurred_at": self.stamp(at),
                "delivery": delivery,
                "status": status,
                "clinician_id": clinician,
                "actor": actor,
            }
        )
        amend = draw >> 2 * BITS
        if amend < maker.void_below:
            self._amend(session_id, actor, {"reason": "entered in error"}, "void_session")
        elif amend < maker.amend_below:
            self._amend(session_id, actor, self._correction(minutes, status), "correct_session")

    def _correction(self, minutes: int, status: str) -> dict[str, Any]:
        profile = self.maker.profile
        if self.rng.random() < 0.5:
            changed = minutes + self.rng.choice((-15, 15, 30))
            changed = changed if 15 <= changed <= 720 else minutes + 15
            return {"reason": "duration entered incorrectly", "duration_minutes": changed}
        fixed = profile.no_show if status == profile.attended else profile.attended
        return {"reason": "attendance corrected", "status": fixed}

    def _amend(self, session_id: str, actor: str, body: dict[str, Any], command: str) -> None:
        self.pending.append(
            {
                "command": command,
                "patient_id": self.patient_id,
                "session_id": session_id,
                **body,
                "actor": actor,
            }
        )
