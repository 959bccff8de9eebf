"""The weekly read model of `care-standards` (`weekly_individual`, SPEC 9): what each ISO
week of a patient adds to the per-level judged weeks and met weeks, so the query is a
grouped scan of counters instead of a walk over every stay and session.

A week ended by T no longer depends on T (its dates' levels and sessions are all before
T), so each week's contribution is kept as the log goes, every open stay taken to run on:

- `rm_care_spans`: a stay's interior weeks (all seven dates at its level) by level, +1 at
  the first interior Monday and -1 after the last one (`rm_week_spans` for every level);
- `rm_care_weeks`: per patient and Monday, the qualifying sessions (attended, not voided,
  individual, with the primary therapist in force at their start) and what the week adds:
  its level (the interior stay's, or for a week several stays give: most dates, ties to the
  higher rank), `judged` (1 for a judged week not interior to one stay: >= 4 dated days),
  `met` (1 when it has a qualifying session and a level);
- `rm_care_week_counts`: the sum of the rows' contributions by time zone, Monday and level.

A row is kept once its week has been looked at, whatever it adds, so the rows a store
holds do not depend on where transactions began. A stay boundary restates the weeks from
the one holding the date before it; a change of who is primary (an admission, a
discharge, an assignment) recounts the qualifying sessions of the weeks from there."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from infrastructure.sql import day_of, instant_of
from journey.catalog import default_catalog
from projections.calendar import week_monday
from projections.journey_weeks import JUDGED_WEEK_DAYS
from projections.read_models import counters
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.stays_cache import StoredStay, stays_of
from projections.read_models.unit import ReadModelUnit
from projections.session_log import SessionState

SUNDAY, ONE_DAY = timedelta(days=6), timedelta(days=1)
INDIVIDUAL, ATTENDED = "individual", "attended"

Contribution = tuple[str | None, int, int]  # level, judged, met


@dataclass(slots=True)
class CareWeekRow:
    patient_id: str
    week_start: date
    timezone: str
    sessions: int = 0
    level: str | None = None
    judged: int = 0
    met: int = 0


@dataclass
class Roster:
    """A patient's episodes and primary-therapist assignments, to tell who was primary."""

    episodes: list[tuple[datetime, datetime | None, int]] = field(default_factory=list)
    assigned: dict[int, list[tuple[datetime, int, str]]] = field(default_factory=dict)

    def at(self, instant: datetime) -> str | None:
        """The primary therapist in force at `instant` (the latest assignment at or before
        it, ties to the later version, in the episode in force then)."""
        index = bisect_right(self.episodes, instant, key=lambda e: e[0])
        if not index:
            return None
        _, discharged, number = self.episodes[index - 1]
        if discharged is not None and discharged <= instant:
            return None
        entries = self.assigned.get(number, [])
        found = bisect_right(entries, instant, key=lambda e: e[0])
        return entries[found - 1][2] if found else None


def _roster(unit: ReadModelUnit, patient_id: str) -> Roster:
    found = unit.buffers.care_rosters.get(patient_id)
    if found is not None:
        return found
    d, roster = unit.dialect, Roster()
    for number, admitted, discharged in unit.all(
        "SELECT number, admitted_at, discharged_at FROM rm_episodes WHERE patient_id = ?",
        (patient_id,),
    ):
        roster.episodes.append((instant_of(d, admitted), d.instant(discharged), int(number)))
    roster.episodes.sort()
    for number, at, version, clinician in unit.all(
        "SELECT episode_number, assigned_at, version, clinician_id"
        " FROM rm_therapist_assignments WHERE patient_id = ?",
        (patient_id,),
    ):
        roster.assigned.setdefault(int(number), []).append(
            (instant_of(d, at), int(version), str(clinician))
        )
    for entries in roster.assigned.values():
        entries.sort()
    unit.buffers.care_rosters[patient_id] = roster
    return roster


def judged_level(counts: dict[str, int]) -> str | None:
    """The week's level when it is judged (>= 4 dated days): most dates, then rank."""
    if sum(counts.values()) < JUDGED_WEEK_DAYS:
        return None
    rank = {lv.id: lv.rank for lv in default_catalog().levels.values()}
    return max(counts, key=lambda level: (counts[level], rank.get(level, -1)))


def _week_level(stays: list[StoredStay], monday: date) -> tuple[str | None, bool]:
    """The week's level and whether it is judged apart from the interior spans (a week
    several stays give); (the stay's level, False) for a week inside one stay."""
    interior: str | None = None
    edges: dict[str, int] = {}
    sunday = monday + SUNDAY
    for stay in stays:
        first, last = max(stay.first, monday), min(stay.last, sunday)
        if stay.last < stay.first or last < first:
            continue
        days = (last - first).days + 1
        if days == 7:
            interior = interior or stay.level
        else:
            edges[stay.level] = edges.get(stay.level, 0) + days
    if edges:
        judged = judged_level(edges)
        return judged, judged is not None
    return interior, False


def _contribution(unit: ReadModelUnit, row: CareWeekRow) -> Contribution:
    level, judged = _week_level(stays_of(unit, row.patient_id), row.week_start)
    if level is None:
        return None, 0, 0
    return level, int(judged), int(row.sessions > 0)


def _count(unit: ReadModelUnit, row: CareWeekRow, sign: int) -> None:
    if row.level is not None and (row.judged or row.met):
        key = (row.timezone, row.week_start, row.level)
        counters.add(unit, "rm_care_week_counts", key, (sign * row.judged, sign * row.met))


def _restate(unit: ReadModelUnit, row: CareWeekRow) -> None:
    new = _contribution(unit, row)
    if new != (row.level, row.judged, row.met):
        _count(unit, row, -1)
        row.level, row.judged, row.met = new
        _count(unit, row, +1)
    unit.buffers.care_weeks[row.patient_id, row.week_start] = row
    unit.buffers.changed_care_weeks.add((row.patient_id, row.week_start))
    unit.before_flush("rm_care_weeks", _write)


_UPSERT = (
    "INSERT INTO rm_care_weeks (patient_id, week_start, timezone, sessions, level, judged,"
    " met) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (patient_id, week_start) DO UPDATE SET"
    " sessions = excluded.sessions, level = excluded.level, judged = excluded.judged,"
    " met = excluded.met"
)


def _write(unit: ReadModelUnit) -> None:
    keys, unit.buffers.changed_care_weeks = sorted(unit.buffers.changed_care_weeks), set()
    rows = [unit.buffers.care_weeks[k] for k in keys]
    if rows:
        unit.executemany(
            _UPSERT,
            [(r.patient_id, r.week_start, r.timezone, r.sessions, r.level, r.judged, r.met)
             for r in rows],
        )  # fmt: skip


def _row(unit: ReadModelUnit, patient: PatientRow, monday: date) -> CareWeekRow:
    found = unit.buffers.care_weeks.get((patient.patient_id, monday))
    if found is not None:
        return found
    stored = unit.one(
        "SELECT sessions, level, judged, met FROM rm_care_weeks"
        " WHERE patient_id = ? AND week_start = ?",
        (patient.patient_id, monday),
    )
    if stored is None:
        return CareWeekRow(patient.patient_id, monday, patient.timezone)
    sessions, level, judged, met = stored
    return CareWeekRow(
        patient.patient_id, monday, patient.timezone, int(sessions), level, int(judged), int(met)
    )


def session_counted(
    unit: ReadModelUnit, patient: PatientRow, session: SessionState, sign: int
) -> None:
    """Adds (+1) or removes (-1) a session that is not voided: counted when it is an
    attended individual session with the primary therapist in force at its start."""
    if session.format != INDIVIDUAL or session.status != ATTENDED:
        return
    at = session.occurred_at
    if session.clinician_id is None or _roster(unit, patient.patient_id).at(at) != (
        session.clinician_id
    ):
        return
    row = _row(unit, patient, week_monday(calendar_for(patient.timezone).local_date(at)))
    row.sessions += sign
    _restate(unit, row)


def _stored_from(unit: ReadModelUnit, patient: PatientRow, monday: date) -> list[CareWeekRow]:
    _write(unit)
    rows = unit.all(
        "SELECT week_start FROM rm_care_weeks WHERE patient_id = ? AND week_start >= ?",
        (patient.patient_id, monday),
    )
    return [_row(unit, patient, day_of(unit.dialect, r[0])) for r in rows]


def _recount(unit: ReadModelUnit, patient: PatientRow, rows: dict[date, CareWeekRow]) -> None:
    """The qualifying sessions of the weeks from the earliest of `rows` on, recounted."""
    pid, roster, d = patient.patient_id, _roster(unit, patient.patient_id), unit.dialect
    counted: dict[date, int] = {}
    for stored, monday, clinician in unit.all(
        "SELECT occurred_at, week_start, clinician_id FROM rm_sessions WHERE patient_id = ?"
        " AND week_start >= ? AND format = ? AND status = ? AND NOT voided",
        (pid, min(rows), INDIVIDUAL, ATTENDED),
    ):
        if clinician is not None and roster.at(instant_of(d, stored)) == clinician:
            week = day_of(d, monday)
            counted[week] = counted.get(week, 0) + 1
    for week in counted.keys() - rows.keys():
        rows[week] = _row(unit, patient, week)
    for week, row in rows.items():
        row.sessions = counted.get(week, 0)


def restate_from(
    unit: ReadModelUnit, patient: PatientRow, edges: set[date], *, recount: bool
) -> None:
    """Restates the weeks of `edges` and every stored week from the earliest of them on;
    with `recount`, their qualifying sessions first (who is primary changed there: the
    caller has written the pending sessions)."""
    start = min(edges)
    rows = {row.week_start: row for row in _stored_from(unit, patient, start)}
    for monday in edges - rows.keys():
        rows[monday] = _row(unit, patient, monday)
    if recount:
        _recount(unit, patient, rows)
    for monday in sorted(rows):
        _restate(unit, rows[monday])


def stay_boundary(
    unit: ReadModelUnit, patient: PatientRow, at: datetime, *, roster_changed: bool
) -> None:
    """A stay opened or closed at `at` (the row is the patient after it); an admission or
    a discharge also changes who is primary from `at` on."""
    calendar = calendar_for(patient.timezone)
    if roster_changed:
        unit.buffers.care_rosters.pop(patient.patient_id, None)
    edges = {
        week_monday(calendar.last_midnight_before(at) - ONE_DAY),  # census_last_date
        week_monday(calendar.first_midnight_at_or_after(at) - ONE_DAY),  # census_first_date
        week_monday(calendar.local_date(at)),
    }
    restate_from(unit, patient, edges, recount=roster_changed)


def therapist_assigned(unit: ReadModelUnit, patient: PatientRow, at: datetime) -> None:
    """A primary therapist from `at` on: the sessions from then are recounted."""
    unit.buffers.care_rosters.pop(patient.patient_id, None)
    monday = week_monday(calendar_for(patient.timezone).local_date(at))
    restate_from(unit, patient, {monday}, recount=True)


def span_opened(unit: ReadModelUnit, zone: str, level: str, first_monday: date) -> None:
    counters.add(unit, "rm_care_spans", (zone, first_monday, level), (1,))


def span_closed(unit: ReadModelUnit, zone: str, level: str, stop: date) -> None:
    counters.add(unit, "rm_care_spans", (zone, stop, level), (-1,))
