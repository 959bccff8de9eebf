"""Episodes and stays: a fold over the admissions, transitions and discharges of one patient.

Only the clinical facts that have happened by the instant T count: an admission, transition
or discharge whose `occurred_at` is after T is ignored, so the stay or episode it would end
stays open (`ended_at`/`discharged_at` None). The write side guarantees these events arrive
in non-decreasing clinical order, an admission only without an open episode and a transition
or discharge only with one; events breaking that contract are skipped, not repaired.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from journey.events import (
    EventEnvelope,
    LevelOfCareChanged,
    PatientAdmitted,
    PatientDischarged,
)


@dataclass(frozen=True)
class Stay:
    """A level of care in force on [started_at, ended_at); `ended_at` None = open at T."""

    level: str
    started_at: datetime
    ended_at: datetime | None
    age_group: str


@dataclass(frozen=True)
class Episode:
    """One admission to its discharge; `discharged_at` None = still open at T."""

    number: int
    admitted_at: datetime
    discharged_at: datetime | None
    discharge_reason: str | None
    age_group: str
    stays: tuple[Stay, ...]

    @property
    def is_open(self) -> bool:
        return self.discharged_at is None


@dataclass(frozen=True)
class Timeline:
    """What the admission events say as of T.

    `timezone` and `first_age_group` come from the first PatientAdmitted known, even when
    it lies after T; both are None only for a stream without any admission.
    """

    timezone: str | None
    first_age_group: str | None
    episodes: tuple[Episode, ...]

    @property
    def latest(self) -> Episode | None:
        return self.episodes[-1] if self.episodes else None

    @property
    def age_group(self) -> str | None:
        """The latest admission's age group as of T, else the first admission's known."""
        latest = self.latest
        return latest.age_group if latest is not None else self.first_age_group


@dataclass
class _Builder:
    as_of: datetime
    timezone: str | None = None
    first_age_group: str | None = None
    closed: list[Episode] = field(default_factory=list)
    open_episode: Episode | None = None

    def admit(self, at: datetime, event: PatientAdmitted) -> None:
        if self.timezone is None:
            self.timezone, self.first_age_group = event.timezone, event.age_group
        if at > self.as_of or self.open_episode is not None:
            return
        stay = Stay(event.level, at, None, event.age_group)
        number = len(self.closed) + 1
        self.open_episode = Episode(number, at, None, None, event.age_group, (stay,))

    def transition(self, at: datetime, event: LevelOfCareChanged) -> None:
        episode = self.open_episode
        if at > self.as_of or episode is None:
            return
        stays = (*_close_last(episode.stays, at), Stay(event.to_level, at, None, episode.age_group))
        self.open_episode = replace(episode, stays=stays)

    def discharge(self, at: datetime, event: PatientDischarged) -> None:
        episode = self.open_episode
        if at > self.as_of or episode is None:
            return
        stays = _close_last(episode.stays, at)
        self.closed.append(
            replace(episode, discharged_at=at, discharge_reason=event.reason, stays=stays)
        )
        self.open_episode = None

    def result(self) -> Timeline:
        episodes = [*self.closed, *([self.open_episode] if self.open_episode else [])]
        return Timeline(self.timezone, self.first_age_group, tuple(episodes))


def _close_last(stays: tuple[Stay, ...], at: datetime) -> tuple[Stay, ...]:
    return (*stays[:-1], replace(stays[-1], ended_at=at))


def build_timeline(events: Iterable[EventEnvelope], as_of: datetime) -> Timeline:
    """Episodes and stays as of `as_of` from already `known_at`-filtered events."""
    builder = _Builder(as_of)
    for envelope in events:
        payload = envelope.payload
        if isinstance(payload, PatientAdmitted):
            builder.admit(envelope.occurred_at, payload)
        elif isinstance(payload, LevelOfCareChanged):
            builder.transition(envelope.occurred_at, payload)
        elif isinstance(payload, PatientDischarged):
            builder.discharge(envelope.occurred_at, payload)
    return builder.result()
