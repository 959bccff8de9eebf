"""`rm_weeks` and `rm_week_counts`: the ISO weeks intensity needs beyond the interior
weeks (`stay_counters.py`), i.e. the weeks with counted sessions and the weeks at the
edges of stays, each holding what it adds to the per-status counts.

A week counts when all seven local dates have the same ambulatory level, every stay open
now taken to run on (as of any T after the week, an open stay is still in force then).
A week inside one stay (interior) is already counted once at its zero-minute status
(`base_status`) by `rm_week_spans`; its row adds +1 at its status and -1 at that base. A
week made of several stays adds +1 at its status. Rows keep what they added, so a change
(a session, a correction, a stay closing) replaces it exactly: `rm_week_counts` is the sum
of the contributions of the rows, by time zone, Monday, level and status."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial

from infrastructure.sql import day_of
from journey.catalog import default_catalog
from projections.calendar import ONE_DAY, week_monday
from projections.journey_weeks import WeeklyRanges, WeekSummary, apply_levels
from projections.midnight_census import DayLevel
from projections.read_models import counters
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.stay_counters import ambulatory, census_first_date, census_last_date
from projections.read_models.stays_cache import stays_of
from projections.read_models.unit import ReadModelUnit

_WEEK = tuple(timedelta(days=i) for i in range(7))
Contribution = tuple[str, str, str | None]  # level, status, base status (interior weeks)


@dataclass(slots=True)
class WeekRow:
    patient_id: str
    week_start: date
    timezone: str
    attended_minutes: int
    level: str | None = None
    status: str | None = None
    base_status: str | None = None
    stored: bool = False  # the row is in the table (or written in this transaction)

    @property
    def contribution(self) -> Contribution | None:
        return None if self.level is None else (self.level, str(self.status), self.base_status)


_COLUMNS = "patient_id, week_start, timezone, attended_minutes, level, status, base_status"
_UPSERT = (
    f"INSERT INTO rm_weeks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (patient_id, week_start) DO UPDATE SET attended_minutes ="
    " excluded.attended_minutes, level = excluded.level, status = excluded.status,"
    " base_status = excluded.base_status"
)


def preload_weeks(unit: ReadModelUnit, patient_ids: list[str], since: date) -> None:
    """Reads these patients' rows of the weeks from `since` on into the unit, in a few
    statements; the weeks not found there then need no read either."""
    for start in range(0, len(patient_ids), 500):
        chunk = patient_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for pid, stored, zone, minutes, level, status, base in unit.all(
            f"SELECT patient_id, week_start, timezone, attended_minutes, level, status,"
            f" base_status FROM rm_weeks WHERE patient_id IN ({marks}) AND week_start >= ?",
            (*chunk, since),
        ):
            monday = day_of(unit.dialect, stored)
            if (pid, monday) not in unit.buffers.weeks:
                unit.buffers.weeks[pid, monday] = WeekRow(
                    pid, monday, zone, minutes, level, status, base, stored=True
                )
                unit.buffers.patient_weeks.setdefault(pid, set()).add(monday)
    unit.buffers.weeks_read_since.update(dict.fromkeys(patient_ids, since))


def _load(unit: ReadModelUnit, patient: PatientRow, monday: date) -> WeekRow:
    found = unit.buffers.weeks.get((patient.patient_id, monday))
    if found is not None:
        return found
    since = unit.buffers.weeks_read_since.get(patient.patient_id)
    if since is not None and monday >= since:
        return WeekRow(patient.patient_id, monday, patient.timezone, 0)
    row = unit.one(
        "SELECT attended_minutes, level, status, base_status FROM rm_weeks"
        " WHERE patient_id = ? AND week_start = ?",
        (patient.patient_id, monday),
    )
    if row is None:
        return WeekRow(patient.patient_id, monday, patient.timezone, 0)
    minutes, level, status, base = row
    return WeekRow(patient.patient_id, monday, patient.timezone, minutes, level, status, base, True)


def _keep(unit: ReadModelUnit, row: WeekRow) -> None:
    row.stored = True
    unit.buffers.weeks[row.patient_id, row.week_start] = row
    unit.buffers.patient_weeks.setdefault(row.patient_id, set()).add(row.week_start)
    unit.buffers.changed_weeks.add((row.patient_id, row.week_start))
    unit.before_flush("rm_weeks", _write)


def _write(unit: ReadModelUnit) -> None:
    keys, unit.buffers.changed_weeks = sorted(unit.buffers.changed_weeks), set()
    rows = [unit.buffers.weeks[k] for k in keys]
    if not rows:
        return
    unit.executemany(
        _UPSERT,
        [(r.patient_id, r.week_start, r.timezone, r.attended_minutes, r.level, r.status,
          r.base_status) for r in rows],
    )  # fmt: skip


def add_minutes(unit: ReadModelUnit, patient: PatientRow, day: date, minutes: int) -> None:
    """Counted attended minutes of the week of local `day` change by `minutes`."""
    row = _load(unit, patient, week_monday(day))
    row.attended_minutes += minutes
    _restate(unit, patient, row)


def add_minutes_each(
    unit: ReadModelUnit, patient: PatientRow, monday: date, minutes: Sequence[int]
) -> None:
    """`add_minutes` for each of `minutes` in turn, in the week of `monday`, with no stay
    change between them (`session_runs.py`): its dates' levels are looked up once."""
    row = _load(unit, patient, monday)
    contribution = _contribution_of(unit, patient, monday)
    kept = False  # `_restated` keeps the row once it holds something: kept once, at the end
    for added in minutes:
        row.attended_minutes += added
        _moved(unit, row, contribution(row.attended_minutes))
        kept = kept or row.stored or row.level is not None or row.attended_minutes != 0
    if kept:
        _keep(unit, row)


def stay_boundary(unit: ReadModelUnit, patient: PatientRow, at: datetime) -> None:
    """A stay opened or closed at `at` (the row is the patient after it): the weeks from
    the one holding the date before `at`'s first midnight onwards are restated."""
    calendar = calendar_for(patient.timezone)
    edges = {
        week_monday(census_last_date(calendar, at)),
        week_monday(census_first_date(calendar, at)),
    }
    mondays = edges | _stored_from(unit, patient.patient_id, min(edges))
    for monday in sorted(mondays):
        _restate(unit, patient, _load(unit, patient, monday))


def _stored_from(unit: ReadModelUnit, patient_id: str, start: date) -> set[date]:
    """The Mondays of the patient's rows from `start` on. From the unit when it read the
    patient's rows from a Monday at or before `start` (every row since is held in it,
    read or written there: rows are never deleted), else from the table."""
    since = unit.buffers.weeks_read_since.get(patient_id)
    if since is not None and since <= start:
        return {m for m in unit.buffers.patient_weeks.get(patient_id, ()) if m >= start}
    _write(unit)
    stored = unit.all(
        "SELECT week_start FROM rm_weeks WHERE patient_id = ? AND week_start >= ?",
        (patient_id, start),
    )
    return {day_of(unit.dialect, r[0]) for r in stored}


def _restate(unit: ReadModelUnit, patient: PatientRow, row: WeekRow) -> None:
    _restated(unit, row, _contribution_of(unit, patient, row.week_start)(row.attended_minutes))


def _restated(unit: ReadModelUnit, row: WeekRow, new: Contribution | None) -> None:
    """The row's contribution becomes `new`: the counts move, the row is kept."""
    _moved(unit, row, new)
    if row.stored or row.contribution is not None or row.attended_minutes:
        _keep(unit, row)


def _moved(unit: ReadModelUnit, row: WeekRow, new: Contribution | None) -> None:
    """The row's contribution becomes `new`: the counts move by the difference."""
    old = row.contribution
    if old != new:
        _count(unit, row, old, -1)
        _count(unit, row, new, +1)
        row.level, row.status, row.base_status = new if new is not None else (None, None, None)


def _count(unit: ReadModelUnit, row: WeekRow, contribution: Contribution | None, sign: int) -> None:
    if contribution is None:
        return
    level, status, base = contribution
    counters.add(unit, "rm_week_counts", (row.timezone, row.week_start, level, status), (sign,))
    if base is not None:
        counters.add(unit, "rm_week_counts", (row.timezone, row.week_start, level, base), (-sign,))


@lru_cache(maxsize=1)
def _ranges() -> WeeklyRanges:
    return WeeklyRanges(default_catalog())


def _contribution_of(
    unit: ReadModelUnit, patient: PatientRow, monday: date
) -> Callable[[int], Contribution | None]:
    """What the week adds to the counts for its attended minutes, its dates' levels taken
    from the stays."""
    started, level = patient.current_stay_started_at, patient.current_level
    if (
        patient.is_active
        and started is not None
        and level is not None
        and _census_first(patient.timezone, started) <= monday
    ):  # the usual case: a week inside the open stay
        return partial(_interior, level, patient.age_group)
    levels, interior = _day_levels(unit, patient, monday)
    if interior:
        day = levels[monday]
        return partial(_interior, day.level, day.age_group)
    return partial(_assembled, tuple(levels.get(monday + d) for d in _WEEK))


@lru_cache(maxsize=4096)
def _census_first(timezone: str, started: datetime) -> date:
    return census_first_date(calendar_for(timezone), started)


def _summary(monday: date, levels: dict[date, DayLevel], minutes: int) -> WeekSummary:
    week = WeekSummary(monday, attended_minutes=minutes)
    apply_levels(week, levels, _ranges())
    return week


def _single_ambulatory(week: WeekSummary) -> str | None:
    if not week.complete or len(week.level_days) != 1:
        return None
    level = next(iter(week.level_days))
    return level if ambulatory(level) else None


@lru_cache(maxsize=8192)
def _interior(level: str, age_group: str, minutes: int) -> Contribution | None:
    """A week all seven dates of which one stay gives: its status, and the zero-minute one
    `rm_week_spans` already counted it at."""
    monday = date(2024, 1, 1)
    week = _summary(monday, {monday + d: DayLevel(level, age_group) for d in _WEEK}, minutes)
    if _single_ambulatory(week) is None:
        return None
    week.attended_minutes = 0
    base = week.status
    week.attended_minutes = minutes
    return level, week.status, base


def zero_minute_status(level: str, age_group: str) -> str | None:
    """The status of a week at `level` all seven days with nothing attended (None when the
    level is not ambulatory): what `rm_week_spans` counts each interior week at."""
    found = _interior(level, age_group, 0)
    return None if found is None else found[1]


@lru_cache(maxsize=65536)
def _assembled(mix: tuple[DayLevel | None, ...], minutes: int) -> Contribution | None:
    """A week whose dates several stays give (`mix`: each date's level, Monday first; None
    for a date without one): counted when they are of one ambulatory level. What it adds
    depends on the mix and the minutes only, so it is worked out once for each."""
    monday = date(2024, 1, 1)  # any Monday
    levels = {monday + offset: day for offset, day in zip(_WEEK, mix, strict=True) if day}
    week = _summary(monday, levels, minutes)
    level = _single_ambulatory(week)
    return None if level is None else (level, week.status, None)


def _day_levels(
    unit: ReadModelUnit, patient: PatientRow, monday: date
) -> tuple[dict[date, DayLevel], bool]:
    """The level of each date of the week (open stays running on), and whether one stay
    gives all seven."""
    levels: dict[date, DayLevel] = {}
    interior = False
    last_day = monday + 6 * ONE_DAY
    for stay in stays_of(unit, patient.patient_id):
        if stay.first > last_day or stay.last < monday:
            continue
        days = [monday + d for d in _WEEK if stay.first <= monday + d <= stay.last]
        levels.update(dict.fromkeys(days, DayLevel(stay.level, stay.age_group)))
        interior = interior or len(days) == 7
    return levels, interior
