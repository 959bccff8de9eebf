"""A synthetic but clinically plausible demo cohort, as a stream of command dicts.

Each patient is admitted (mostly to detox or inpatient), steps down the continuum with some
step-ups (relapse), early AMA discharges, transfers and other reasons, records therapy
sessions at ambulatory levels (see `demo_sessions`), and may be readmitted: soon after the
discharge (chained care) or months later. Journeys start over the ~18 months before `until`;
those still in care at `until` stay active. Levels, hour ranges, approaches, formats and
discharge reasons come from the catalog; the weights below are only the demo's knobs, and every
id they name is checked against the catalog. Deterministic: each patient draws from its own
`random.Random`, seeded from the seed and the patient's index."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from devtools.demo.care import CareLog, CareMaker, CareProfile, Episode, merged
from devtools.demo.sessions import (
    DAY,
    Command,
    Picker,
    SessionLog,
    SessionMaker,
    SessionProfile,
    check_ids,
)
from journey.catalog import Catalog, default_catalog

LATEST = 22 * 60 + 45  # clinical events happen 07:00-22:45 local, far from DST changes (02:00)


def _weights(text: str) -> dict[str, float]:
    """`"a:1 b:2.5"` as `{"a": 1.0, "b": 2.5}`: compact, readable profile defaults."""
    return {key: float(value) for key, value in (pair.split(":") for pair in text.split())}


def _ranges(text: str) -> dict[str, tuple[float, float]]:
    """`"a:1-3"` as `{"a": (1.0, 3.0)}`."""
    pairs = (pair.split(":") for pair in text.split())
    return {key: (float(rng.split("-")[0]), float(rng.split("-")[1])) for key, rng in pairs}


def _exits() -> dict[str, dict[str, float]]:
    """Per level: weights of the next level (a transition) or of a discharge reason."""
    rows = {
        "detox": "inpatient:60 php:12 iop:8 ama:10 transferred:5 other:3",
        "inpatient": "php:50 iop:22 outpatient:4 ama:12 completed:6 transferred:3"
        " facility_terminated:3",
        "php": "iop:60 outpatient:6 inpatient:6 ama:12 completed:8 transferred:4"
        " facility_terminated:4",
        "iop": "outpatient:46 php:8 inpatient:4 completed:22 ama:12 transferred:3"
        " facility_terminated:2 other:3",
        "outpatient": "completed:62 iop:9 ama:11 transferred:4 facility_terminated:3"
        " incarcerated:2 other:5 death:1",
    }
    return {level: _weights(row) for level, row in rows.items()}


def _default(text: str) -> Any:
    """A dataclass field defaulting to a fresh `_weights(text)`."""
    return field(default_factory=lambda: _weights(text))


@dataclass(frozen=True)
class CohortProfile:
    """The realism knobs. `stay_scale` stretches every stay (and so the events per patient)."""

    start_levels: Mapping[str, float] = _default("detox:45 inpatient:25 php:10 iop:13 outpatient:7")
    readmit_levels: Mapping[str, float] = _default(
        "detox:40 inpatient:25 php:10 iop:20 outpatient:5"
    )
    # days per stay: "level:low-high"
    stay_days: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: _ranges(
            "detox:3-7 inpatient:14-30 php:10-20 iop:28-70 outpatient:28-112"
        )
    )
    exits: Mapping[str, Mapping[str, float]] = field(default_factory=_exits)
    # reasons that cut a stay short, and the share of its planned length then served
    early_reasons: frozenset[str] = frozenset({"ama", "facility_terminated", "death"})
    early_share: tuple[float, float] = (0.05, 0.6)
    readmit_after: Mapping[str, float] = _default(
        "ama:0.55 completed:0.15 transferred:0.4 facility_terminated:0.25 incarcerated:0.3"
        " other:0.25 death:0"
    )
    chained_share: float = 0.5  # readmissions within 7 days of the discharge
    later_gap_days: tuple[int, int] = (30, 180)
    max_stays: int = 9
    max_episodes: int = 4
    timezones: Mapping[str, float] = _default(
        "America/New_York:34 America/Chicago:24 America/Denver:10 America/Phoenix:7"
        " America/Los_Angeles:25"
    )
    age_groups: Mapping[str, float] = _default("adult:90 adolescent:10")
    start_window_days: int = 548
    recency_skew: float = 1.6  # > 1: more journeys started recently (a growing program)
    stay_scale: float = 1.0
    intake_staff: int = 25
    sessions: SessionProfile = field(default_factory=SessionProfile)
    care: CareProfile | None = None  # primary therapists, plans, reviews, referrals (`care`)


class Clock:
    """Local wall-clock minutes of one zone as ISO-8601 strings with the UTC offset.

    Every time we emit lies between 07:00 and 23:00, so one offset per local date holds."""

    TIMES = tuple(f"T{m // 60:02d}:{m % 60:02d}:00" for m in range(DAY))

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._days: dict[int, tuple[str, str]] = {}

    def stamp(self, at: int) -> str:
        day, minute = divmod(at, DAY)
        parts = self._days.get(day)
        if parts is None:
            parts = self._days[day] = self._day(day)
        return parts[0] + self.TIMES[minute] + parts[1]

    def _day(self, day: int) -> tuple[str, str]:
        local = date.fromordinal(day)
        offset = datetime(local.year, local.month, local.day, 12, tzinfo=self.zone).utcoffset()
        assert offset is not None
        minutes = int(offset / timedelta(minutes=1))
        sign = "-" if minutes < 0 else "+"
        return local.isoformat(), f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class _Plan:
    """The profile compiled against the catalog; shared by every patient of a cohort."""

    def __init__(self, profile: CohortProfile, catalog: Catalog) -> None:
        levels, reasons = catalog.levels, catalog.discharge_reasons
        check_ids(
            "level",
            [*profile.start_levels, *profile.readmit_levels, *profile.stay_days, *profile.exits],
            levels,
        )
        for source, targets in profile.exits.items():
            check_ids("exit", targets, [*(lv for lv in levels if lv != source), *reasons])
        check_ids("reason", [*profile.early_reasons, *profile.readmit_after], reasons)
        check_ids("age group", profile.age_groups, catalog.age_groups)
        self.profile, self.levels = profile, levels
        self.clocks = {name: Clock(ZoneInfo(name)) for name in profile.timezones}
        self.timezones = Picker(profile.timezones)
        self.age_groups = Picker(profile.age_groups)
        self.start_levels = Picker(profile.start_levels)
        self.readmit_levels = Picker(profile.readmit_levels)
        self.exits = {lv: Picker(t) for lv, t in profile.exits.items()}
        self.discharges = {
            lv: Picker({k: w for k, w in t.items() if k in reasons} or dict.fromkeys(reasons, 1.0))
            for lv, t in profile.exits.items()
        }
        self.sessions = SessionMaker(profile.sessions, catalog)
        self.care = None if profile.care is None else CareMaker(profile.care, catalog)


def _quarter(rng: Random, first_hour: int, last_hour: int) -> int:
    """A minute of the day on a quarter hour in [first_hour, last_hour)."""
    return rng.randrange(first_hour * 4, last_hour * 4) * 15


class _Journey:
    """One patient's commands in time order; times are local minutes (see demo_sessions)."""

    def __init__(
        self, plan: _Plan, rng: Random, patient_id: str, cutoff: datetime, care: Random | None
    ) -> None:
        self.plan, self.rng, self.patient_id, self.care_rng = plan, rng, patient_id, care
        self.episodes: list[Episode] = []
        self.timezone = plan.timezones(rng)
        self.clock = plan.clocks[self.timezone]
        local = cutoff.astimezone(self.clock.zone)
        self.cutoff = local.toordinal() * DAY + local.hour * 60 + local.minute
        self.age_group = plan.age_groups(rng)
        self.out: list[Command] = []
        self.log = SessionLog(
            plan.sessions, rng, patient_id, self.clock.stamp, self.age_group, self.out
        )

    def commands(self) -> list[Command]:
        profile, rng = self.plan.profile, self.rng
        offset = int(profile.start_window_days * rng.random() ** profile.recency_skew)
        admitted = (self.cutoff // DAY - 1 - offset) * DAY + _quarter(rng, 7, 20)
        level = self.plan.start_levels(rng)
        for _ in range(profile.max_episodes):
            if admitted >= self.cutoff:
                break
            ended = self._episode(level, admitted)
            if ended is None:
                break
            admitted = self._readmission(*ended)
            level = self.plan.readmit_levels(rng)
        if self.plan.care is None or self.care_rng is None:
            return self.out
        care = CareLog(self.plan.care, self.care_rng, self.patient_id, self.clock.stamp)
        return merged(self.out, care.commands(self.episodes))

    def _readmission(self, discharged: int, reason: str) -> int:
        """When the patient comes back (the cutoff or later: not within the cohort)."""
        profile, rng = self.plan.profile, self.rng
        if rng.random() >= profile.readmit_after.get(reason, 0.0):
            return self.cutoff
        if rng.random() < profile.chained_share:
            gap = rng.randint(0, 7)
        else:
            gap = rng.randint(*profile.later_gap_days)
        later = discharged + rng.randrange(60, 240, 15)
        if gap == 0 and later % DAY <= LATEST:
            return later
        return (discharged // DAY + max(gap, 1)) * DAY + _quarter(rng, 7, 20)

    def _episode(self, level: str, start: int) -> tuple[int, str] | None:
        """Admits, then stays until a discharge (its time and reason) or the cutoff (None)."""
        self._emit(
            "admit",
            start,
            level=level,
            age_group=self.age_group,
            timezone=self.timezone,
            actor=self._staff("intake"),
        )
        admitted, moves = (start, level), list[int]()
        for stay in range(self.plan.profile.max_stays):
            last = stay == self.plan.profile.max_stays - 1
            exit_to = (self.plan.discharges if last else self.plan.exits)[level](self.rng)
            end = self._stay_end(level, start, exit_to)
            if end >= self.cutoff:
                self.log.stay(level, start, self.cutoff)
                self.episodes.append(Episode(*admitted, self.cutoff, tuple(moves)))
                return None
            self.log.stay(level, start, end)
            if exit_to not in self.plan.levels:
                self._emit("discharge", end, reason=exit_to, actor=self._staff("clinician"))
                self.episodes.append(Episode(*admitted, end, tuple(moves)))
                return end, exit_to
            self._transition(level, exit_to, end)
            level, start = exit_to, end
            moves.append(end)
        raise AssertionError("the last stay always ends in a discharge")

    def _transition(self, level: str, to_level: str, at: int) -> None:
        down = self.plan.levels[to_level].rank < self.plan.levels[level].rank
        reason = "treatment plan step-down" if down else "relapse risk: step-up"
        self._emit(
            "transition", at, to_level=to_level, reason=reason, actor=self._staff("clinician")
        )

    def _stay_end(self, level: str, start: int, exit_to: str) -> int:
        """Planned days (shortened by an early exit), ending in the day shift; a stay under an
        hour ends a few hours after its start instead, the same evening at the latest."""
        profile, rng = self.plan.profile, self.rng
        low, high = profile.stay_days.get(level, (1.0, 14.0))
        days = rng.uniform(low, high) * profile.stay_scale
        if exit_to in profile.early_reasons:
            days *= rng.uniform(*profile.early_share)
        end = (start // DAY + int(days)) * DAY + _quarter(rng, 8, 17)
        if end >= start + 60:
            return end
        return min(start + rng.randrange(60, 360, 15), start // DAY * DAY + LATEST)

    def _staff(self, role: str) -> str:
        return f"{role}-{self.rng.randint(1, self.plan.profile.intake_staff)}"

    def _emit(self, command: str, at: int, **fields: Any) -> None:
        stamp = self.clock.stamp(at)
        self.out.append({"command": command, "patient_id": self.patient_id, "occurred_at": stamp})
        self.out[-1].update(fields)


def generate_cohort(
    patients: int,
    *,
    seed: int = 7,
    until: date,
    id_prefix: str = "demo",
    profile: CohortProfile | None = None,
) -> Iterator[dict[str, Any]]:
    """Commands for `patients` patients, patient after patient, each in time order, all before
    the start of `until` (UTC). Patient ids are `f"{id_prefix}-{i:06d}"`, i from 1."""
    for commands in cohort_patients(range(1, patients + 1), seed, until, id_prefix, profile):
        yield from commands


def cohort_patients(
    indices: Iterable[int], seed: int, until: date, id_prefix: str, profile: CohortProfile | None
) -> Iterator[list[dict[str, Any]]]:
    """The commands of the cohort's patients at `indices` (each alone, as `generate_cohort`
    yields them): a share of the cohort, e.g. for one worker process."""
    plan = _Plan(profile or CohortProfile(), default_catalog())
    cutoff = datetime.combine(until, time(), tzinfo=UTC)
    for index in indices:
        rng = Random(f"demo-cohort:{seed}:{index}")
        care = None if plan.care is None else Random(f"demo-care:{seed}:{index}")
        yield _Journey(plan, rng, f"{id_prefix}-{index:06d}", cutoff, care).commands()


def write_jsonl(commands: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Writes one compact JSON object per line; returns how many were written."""
    count = 0
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    for command in commands:
        out.write(dumps(command))
        out.write("\n")
        count += 1
    return count
