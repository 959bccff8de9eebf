"""Test oracle, the query before the weekly read model (format 4): weekly individual
sessions with the primary therapist (SPEC 9, standards of care): among
the ISO weeks ended by T (their Sunday's ending midnight, local, at or before T) with
`weekly_individual_met` not null (at least 4 dated days, SPEC 6), how many were met, per
level: the level with most dates in the week, ties to the higher rank.

A week ended by T no longer depends on T: its dates' levels and its sessions are all
before T. It is computed from the read models at query time: the stays' census dates give
each week's dated days per level; an attended, not voided individual session counts when
its clinician is the primary therapist in force at its start (the latest assignment at or
before it of the episode in force then: admitted at or before, not discharged at or before
it; `projections.care`). Linear in stays and individual sessions (docs/analytics.md)."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from infrastructure.sql import Unit, day_of, instant_of
from journey.catalog import Catalog
from projections.calendar import week_monday
from projections.journey_weeks import JUDGED_WEEK_DAYS
from projections.read_models.patients import calendar_for

ONE_WEEK, SUNDAY = timedelta(days=7), timedelta(days=6)
Week = tuple[str, date]  # patient, Monday


@dataclass
class EndedWeeks:
    """The weeks ended by T with a dated day: those inside one stay (all seven dates at
    its level) as Monday ranges per patient, the others with their dated days per level."""

    interior: dict[str, list[tuple[date, date, str]]] = field(default_factory=dict)
    edges: dict[Week, dict[str, int]] = field(default_factory=dict)

    def interior_level(self, week: Week) -> str | None:
        pid, monday = week
        for first, last, level in self.interior.get(pid, ()):
            if first <= monday <= last:
                return level
        return None


def ended_weeks(unit: Unit, t: datetime, zones: dict[str, str]) -> EndedWeeks:
    """The weeks ended by T of every stay started by T (an open stay runs on: its dates
    before T's local date have its level)."""
    found, d = EndedWeeks(), unit.dialect
    for pid, level, first, last in unit.all(
        "SELECT patient_id, level, census_first_date, census_last_date FROM rm_stays"
        " WHERE started_at <= ?",
        (t,),
    ):
        stop = calendar_for(zones.get(pid)).local_date(t) - ONE_WEEK  # Mondays <= stop ended
        start, end = day_of(d, first), min(d.day_value(last) or date.max, stop + SUNDAY)
        if end < start:
            continue
        inner_first = start if start.weekday() == 0 else week_monday(start) + ONE_WEEK
        inner_last = week_monday(end + timedelta(days=1)) - ONE_WEEK  # Sunday `end` included
        if inner_first <= inner_last:
            found.interior.setdefault(pid, []).append((inner_first, inner_last, level))
        for monday in {week_monday(start), week_monday(end)}:
            if monday <= stop and not inner_first <= monday <= inner_last:
                days = (min(end, monday + SUNDAY) - max(start, monday)).days + 1
                counts = found.edges.setdefault((pid, monday), {})
                counts[level] = counts.get(level, 0) + days
    return found


def judged_level(counts: dict[str, int], catalog: Catalog) -> str | None:
    """The week's level when it is judged (>= 4 dated days): most dates, then rank."""
    if sum(counts.values()) < JUDGED_WEEK_DAYS:
        return None
    rank = {lv.id: lv.rank for lv in catalog.levels.values()}
    return max(counts, key=lambda level: (counts[level], rank.get(level, -1)))


class PrimaryRoster:
    """Who was each patient's primary therapist at an instant, from the read models."""

    def __init__(self, unit: Unit, t: datetime) -> None:
        d = unit.dialect
        self.episodes: dict[str, list[tuple[datetime, datetime | None, int]]] = defaultdict(list)
        for pid, number, admitted, discharged in unit.all(
            "SELECT patient_id, number, admitted_at, discharged_at FROM rm_episodes"
            " WHERE admitted_at <= ? ORDER BY patient_id, admitted_at, number",
            (t,),
        ):
            self.episodes[pid].append((instant_of(d, admitted), d.instant(discharged), number))
        self.assigned: dict[tuple[str, int], list[tuple[datetime, int, str]]] = defaultdict(list)
        for pid, number, at, version, clinician in unit.all(
            "SELECT patient_id, episode_number, assigned_at, version, clinician_id"
            " FROM rm_therapist_assignments WHERE assigned_at <= ?",
            (t,),
        ):
            self.assigned[pid, number].append((instant_of(d, at), version, clinician))
        for entries in self.assigned.values():
            entries.sort()

    def at(self, pid: str, instant: datetime) -> str | None:
        episodes = self.episodes.get(pid, [])
        index = bisect_right(episodes, instant, key=lambda e: e[0])
        if not index:
            return None
        _, discharged, number = episodes[index - 1]
        if discharged is not None and discharged <= instant:
            return None
        entries = self.assigned.get((pid, number), [])
        found = bisect_right(entries, instant, key=lambda e: e[0])
        return entries[found - 1][2] if found else None


def weeks_with_primary(unit: Unit, t: datetime) -> set[Week]:
    """The (patient, Monday) of the weeks holding an attended individual session (started
    at or before T, not voided) with the primary therapist in force at its start."""
    roster, d = PrimaryRoster(unit, t), unit.dialect
    met: set[Week] = set()
    for pid, occurred, monday, clinician in unit.all(
        "SELECT s.patient_id, s.occurred_at, s.week_start, s.clinician_id FROM rm_sessions s"
        " WHERE s.format = 'individual' AND s.status = 'attended' AND NOT s.voided"
        " AND s.occurred_at <= ? AND EXISTS (SELECT 1 FROM rm_therapist_assignments a"
        " WHERE a.patient_id = s.patient_id AND a.clinician_id = s.clinician_id"
        " AND a.assigned_at <= s.occurred_at)",  # assigned before: maybe the primary then
        (t,),
    ):
        if clinician == roster.at(pid, instant_of(d, occurred)):
            met.add((pid, day_of(d, monday)))
    return met


def weekly_walk(unit: Unit, t: datetime, catalog: Catalog) -> dict[str, tuple[int, int]]:
    """The weekly figure as the query computed it before the weekly read model (format 4):
    level -> (weeks, met), by walking the stays' weeks and the sessions at query time."""
    zones = {str(p): str(z) for p, z in unit.all("SELECT patient_id, timezone FROM rm_patients")}
    weeks: dict[str, int] = defaultdict(int)
    met: dict[str, int] = defaultdict(int)
    ended = ended_weeks(unit, t, zones)
    for ranges in ended.interior.values():
        for first, last, level in ranges:
            weeks[level] += (last - first).days // 7 + 1
    for counts in ended.edges.values():
        judged = judged_level(counts, catalog)
        if judged is not None:
            weeks[judged] += 1
    for week in weeks_with_primary(unit, t):
        edge = ended.edges.get(week)
        found = ended.interior_level(week) if edge is None else judged_level(edge, catalog)
        if found is not None:
            met[found] += 1
    return {level: (weeks[level], met[level]) for level in weeks if weeks[level]}
