"""The clinical care of the demo cohort (SPEC sections 4 and 6): per episode, a primary
therapist assigned at admission (sometimes changed), a treatment plan created within the
admission level's `plan_due_days` (some late) with goals by ASAM dimension and objectives,
weekly reviews (some late) that move the objectives' statuses, referrals to specialists
(some closed, some left open) and, most weeks, an individual session with the primary
therapist (some weeks without, some missed).

`CareLog.commands(episodes)` gives these commands with their local minutes (as in
`sessions`); `merged` puts them among the journey's commands in time order. Everything is
drawn from the patient's own care `random.Random` (not the journey's), so a cohort with care
has the same admissions, stays and sessions as one without, plus these commands."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import count
from random import Random
from typing import Any

from devtools.demo.sessions import DAY, Command, Picker, check_ids
from journey.catalog import Catalog

WEEK = 7 * DAY
DESCRIPTIONS = (
    None,
    None,
    None,
    "agreed with the patient",
    "first step",
    "as discussed in session",
)


def _weights(text: str) -> dict[str, float]:
    return {key: float(value) for key, value in (pair.split(":") for pair in text.split())}


def _default(text: str) -> Any:
    return field(default_factory=lambda: _weights(text))


@dataclass(frozen=True)
class CareProfile:
    """The knobs of the demo's clinical care; ids are checked against the catalog."""

    reassign_share: float = 0.15  # episodes whose primary therapist changes once
    late_plan_share: float = 0.1  # plans created after the admission level's plan_due_days
    late_review_share: float = 0.12  # reviews more than 7 days after the previous one
    weekly_individual_share: float = 0.8  # weeks with an individual session with the primary
    missed_individual_share: float = 0.08  # of those: no-shows
    referral_share: float = 0.3  # episodes with a referral
    second_referral_share: float = 0.1
    closed_referral_share: float = 0.6
    goals: tuple[int, int] = (1, 4)
    objectives: tuple[int, int] = (1, 3)
    outcomes: Mapping[str, float] = _default("continue:85 revise:12 recommend_level_change:3")
    close_outcomes: Mapping[str, float] = _default(
        "completed:70 declined:12 unavailable:8 cancelled:10"
    )
    specialties: Mapping[str, float] = _default(
        "trauma:30 psychiatry:25 medical:10 medication_for_oud:15 family_services:8"
        " housing_social:8 other:4"
    )
    therapists: int = 120  # the sessions' clinician pool: c-001...
    specialists: int = 40


@dataclass(frozen=True)
class Episode:
    """One episode of the journey in local minutes: admitted at `start` to `level`, ended
    by a discharge at `end` (or still open at the cutoff `end`), transitions at `moves`."""

    start: int
    level: str
    end: int
    moves: tuple[int, ...]


class CareMaker:
    """The care profile compiled against the catalog, shared by every patient."""

    def __init__(self, profile: CareProfile, catalog: Catalog) -> None:
        check_ids("review outcome", profile.outcomes, catalog.review_outcomes)
        check_ids("referral close outcome", profile.close_outcomes, catalog.referral_close_outcomes)
        check_ids("specialty", profile.specialties, catalog.referral_specialties)
        self.profile, self.catalog = profile, catalog
        self.outcomes = Picker(profile.outcomes)
        self.close_outcomes = Picker(profile.close_outcomes)
        self.specialties = Picker(profile.specialties)
        self.approaches = sorted(a.id for a in catalog.approaches.values() if a.evidence_based)


def _day_time(rng: Random, day: int, first_hour: int = 9, last_hour: int = 17) -> int:
    return day * DAY + rng.randrange(first_hour * 4, last_hour * 4) * 15


@dataclass
class CareLog:
    """One patient's care commands, episode after episode."""

    maker: CareMaker
    rng: Random
    patient_id: str
    stamp: Callable[[int], str]
    out: list[tuple[int, Command]] = field(default_factory=list)
    sessions: int = 0

    def commands(self, episodes: Iterable[Episode]) -> list[tuple[int, Command]]:
        for number, episode in enumerate(episodes, start=1):
            therapists = self._therapists(episode)
            self._plan(number, episode)
            self._referrals(number, episode)
            self._weekly_sessions(episode, therapists)
        self.out.sort(key=lambda item: item[0])
        return self.out

    def _emit(self, command: str, at: int, **fields: Any) -> None:
        body = {"command": command, "patient_id": self.patient_id, "occurred_at": self.stamp(at)}
        self.out.append((at, {**body, **fields}))

    def _therapists(self, episode: Episode) -> list[tuple[int, str]]:
        """(from, clinician): assigned at admission, changed once in some episodes."""
        profile, rng = self.maker.profile, self.rng
        first = f"c-{rng.randint(1, profile.therapists):03d}"
        timeline = [(episode.start, first)]
        self._emit("assign_primary_therapist", episode.start, clinician_id=first)
        if rng.random() < profile.reassign_share:
            at = _day_time(rng, (episode.start + (episode.end - episode.start) // 2) // DAY)
            other = f"c-{rng.randint(1, profile.therapists):03d}"
            if episode.start < at < episode.end and other != first:
                timeline.append((at, other))
                self._emit("assign_primary_therapist", at, clinician_id=other)
        return timeline

    def _plan(self, number: int, episode: Episode) -> None:
        profile, rng = self.maker.profile, self.rng
        due = self.maker.catalog.plan_due_days(episode.level)
        late = rng.random() < profile.late_plan_share
        day = episode.start // DAY + (due + rng.randint(1, 4) if late else rng.randint(0, due))
        created = max(_day_time(rng, day), episode.start + 30)
        if created >= episode.end:
            return
        plan_id, objectives = f"plan-{number}", []
        goals = []
        dimensions = rng.sample(self.maker.catalog.asam_dimensions, rng.randint(*profile.goals))
        for g, dimension in enumerate(dimensions, start=1):
            items = []
            for o in range(1, rng.randint(*profile.objectives) + 1):
                objectives.append(f"o-{g}-{o}")
                target = date.fromordinal(created // DAY + rng.randint(14, 90)).isoformat()
                items.append(self._described(objective_id=f"o-{g}-{o}", target_date=target))
            goals.append(self._described(goal_id=f"g-{g}", dimension=dimension, objectives=items))
        self._emit("create_treatment_plan", created, plan_id=plan_id, goals=goals)
        self._reviews(plan_id, created, objectives, episode)

    def _described(self, **fields: Any) -> dict[str, Any]:
        description = DESCRIPTIONS[self.rng.randrange(len(DESCRIPTIONS))]
        return fields if description is None else {**fields, "description": description}

    def _reviews(self, plan_id: str, at: int, objectives: list[str], episode: Episode) -> None:
        profile, rng = self.maker.profile, self.rng
        statuses: dict[str, str] = {}
        while True:
            late = rng.random() < profile.late_review_share
            at = _day_time(rng, at // DAY + (rng.randint(8, 12) if late else rng.randint(5, 7)))
            if at >= episode.end:
                return
            changed = {o: s for o in objectives if (s := self._next(statuses.get(o))) is not None}
            statuses.update(changed)
            moving = any(at < move <= at + WEEK for move in episode.moves)
            outcome = "recommend_level_change" if moving and rng.random() < 0.6 else None
            fields: dict[str, Any] = {"outcome": outcome or self.maker.outcomes(rng)}
            if changed:
                fields["objectives"] = changed
            self._emit("review_treatment_plan", at, plan_id=plan_id, **fields)

    def _next(self, status: str | None) -> str | None:
        """An objective's status after a review (None: unchanged)."""
        draw = self.rng.random()
        if status is None:
            return "in_progress" if draw < 0.6 else None
        if status != "in_progress":
            return None
        return (
            "met"
            if draw < 0.2
            else "not_met"
            if draw < 0.25
            else ("discontinued" if draw < 0.28 else None)
        )

    def _referrals(self, number: int, episode: Episode) -> None:
        profile, rng = self.maker.profile, self.rng
        if rng.random() >= profile.referral_share:
            return
        count = 2 if rng.random() < profile.second_referral_share else 1
        for n in range(1, count + 1):
            span = episode.end - episode.start
            at = _day_time(rng, (episode.start + int(span * rng.uniform(0.1, 0.7))) // DAY)
            if not episode.start < at < episode.end:
                continue
            referral_id, fields = f"r-{number}-{n}", {}
            if rng.random() < 0.5:
                fields["to_clinician_id"] = f"sp-{rng.randint(1, profile.specialists):03d}"
            specialty = self.maker.specialties(rng)
            self._emit("refer", at, referral_id=referral_id, specialty=specialty, **fields)
            closed = _day_time(rng, at // DAY + rng.randint(3, 40))
            if rng.random() < profile.closed_referral_share and at < closed < episode.end:
                outcome = self.maker.close_outcomes(rng)
                self._emit("close_referral", closed, referral_id=referral_id, outcome=outcome)

    def _weekly_sessions(self, episode: Episode, therapists: list[tuple[int, str]]) -> None:
        """Most ISO weeks: an individual session with the primary therapist in force, at
        07:00 on a weekday (before the day's other sessions)."""
        profile, rng = self.maker.profile, self.rng
        first = episode.start // DAY
        monday = first - (first - 1) % 7  # day ordinal 1 (0001-01-01) is a Monday
        while monday * DAY < episode.end:
            if rng.random() < profile.weekly_individual_share:
                at = (monday + rng.randrange(5)) * DAY + 7 * 60
                if episode.start < at < episode.end:
                    self._session(at, [c for start, c in therapists if start <= at][-1])
            monday += 7

    def _session(self, at: int, clinician: str) -> None:
        profile, rng = self.maker.profile, self.rng
        self.sessions += 1
        missed = rng.random() < profile.missed_individual_share
        self._emit(
            "record_session",
            at,
            session_id=f"p-{self.sessions:04d}",
            format="individual",
            approach=self.maker.approaches[rng.randrange(len(self.maker.approaches))],
            duration_minutes=rng.choice((45, 60)),
            status="no_show" if missed else "attended",
            clinician_id=clinician,
        )


def merged(journey: list[Command], care: list[tuple[int, Command]]) -> list[Command]:
    """The journey's commands and the care commands in time order (the journey's first at
    equal instants); an amendment (no `occurred_at`) stays after the session it amends."""
    numbers = count()
    care_items = (
        (datetime.fromisoformat(c["occurred_at"]), 1, next(numbers), [c]) for _, c in care
    )
    blocks = heapq.merge(_blocks(journey), care_items)
    return [c for *_, block in blocks for c in block]


def _blocks(commands: list[Command]) -> Iterator[tuple[datetime, int, int, list[Command]]]:
    """Each command with its amendments, keyed by (instant, 0, order)."""
    block: list[Command] = []
    at: datetime | None = None
    for number, command in enumerate(commands):
        stamp = command.get("occurred_at")
        if stamp is None:
            block.append(command)
            continue
        if at is not None:
            yield at, 0, number, block
        at, block = datetime.fromisoformat(stamp), [command]
    if at is not None:
        yield at, 0, len(commands), block
