"""The set-based path of a rebuild (issue 14): a batch whose SessionRecorded events come
as plain columns (`SessionColumns`, decoded without any domain event, envelope or model)
and whose other events come as envelopes, applied with exactly the result of
`handlers.apply_events` on the same events as envelopes (tests/readmodels/
test_session_runs.py compares every rm_ table row for row).

The batch is split into runs: consecutive SessionRecorded events are applied together,
every other event one by one by `handlers.apply_event`, in log order. Within a run no
stay, level or primary therapist changes, so for each session of a run:

- its rm_sessions row is built from the columns (instants as the stored UTC text where
  that is the SQLite text already) and the run's rows are inserted with the batch's;
- `rm_attendance_days` deltas are summed per key over the run, then added once;
- a week's counted minutes are gathered per patient and Monday, in log order, then
  added session by session (`weeks.add_minutes_each`, its dates' levels looked up once):
  its counters keep every status the week passed through (a key that received a delta
  keeps its row), so the order within a week matters, the order between weeks not;
- the care weeks (`care_weeks.session_counted`) take each qualifying session in turn;
- each patient's row is saved once, after its last event of the run (the per-event path
  saves a copy after every event; only the last one is written)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import NamedTuple

from infrastructure.sql import Params, Unit
from journey.envelopes import stored_event_id
from journey.events import EventEnvelope
from projections.calendar import iso_week_label, week_monday
from projections.read_models import care_weeks, counters, weeks
from projections.read_models.handlers import apply_event, prepare
from projections.read_models.patients import (
    PatientRow,
    calendar_for,
    load_patient,
    save_applied,
)
from projections.read_models.session_counters import (
    ATTENDED,
    NO_SHOW,
    counts_toward_intensity,
    level_at,
    utc_day,
)
from projections.read_models.sessions import queue_insert
from projections.read_models.unit import ReadModelUnit
from projections.session_log import SessionState


class SessionColumns(NamedTuple):
    """A stored SessionRecorded as the set-based path needs it (ids pseudonymized)."""

    patient_id: str  # pseudonym
    stored_patient_id: str  # the stored id: the event id is made of it
    version: int
    occurred_at: datetime
    occurred_text: str  # the stored text of occurred_at
    recorded_text: str  # the stored text of the event's timestamp
    session_id: str  # pseudonym
    format: str
    approach: str
    duration_minutes: int
    delivery: str
    status: str
    clinician_id: str | None  # pseudonym


Decoded = SessionColumns | EventEnvelope
INDIVIDUAL = care_weeks.INDIVIDUAL


def apply_decoded(unit: Unit, batch: Sequence[Decoded]) -> int:
    """`handlers.apply_events` for a batch whose sessions come as columns; returns how many
    events were not held already."""
    work = unit if isinstance(unit, ReadModelUnit) else ReadModelUnit(unit)
    prepare(work, batch)
    applied, run = 0, list[SessionColumns]()
    for item in batch:
        if isinstance(item, SessionColumns):
            run.append(item)
            continue
        if run:
            applied += apply_session_run(work, run)
            run = []
        applied += apply_event(work, item)
    if run:
        applied += apply_session_run(work, run)
    work.flush()
    return applied


def _utc_text(session: SessionColumns) -> str:
    """occurred_at as SQLite stores instants (`Dialect.value`), from the stored text when
    it is already UTC isoformat (with or without microseconds)."""
    text = session.occurred_text
    if text.endswith("+00:00") and text[10] == "T":
        if len(text) == 32 and text[19] == ".":
            return text
        if len(text) == 25:
            return f"{text[:19]}.000000+00:00"
    return session.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")


Dated = tuple[date | str, str, date | str]  # local date, ISO week label, Monday (as stored)


@dataclass
class _Totals:
    """What a run's sessions add, gathered before it is written."""

    attendance: dict[tuple[date, str], list[int]] = field(default_factory=dict)
    minutes: dict[tuple[str, date], list[int]] = field(default_factory=dict)  # in log order
    last: dict[str, SessionColumns] = field(default_factory=dict)  # per patient


def apply_session_run(unit: ReadModelUnit, run: Sequence[SessionColumns]) -> int:
    """Applies consecutive SessionRecorded events (no other event between them)."""
    sqlite = unit.dialect.name == "sqlite"
    done: dict[str, int] = {}  # patient: version applied last in this run
    totals, rows, dated = _Totals(), list[Params](), dict[date, Dated]()
    for session in run:
        pid = session.patient_id
        patient = load_patient(unit, pid)
        if patient is not None:
            if session.version <= done.get(pid, patient.last_version):
                continue
            done[pid] = session.version
            totals.last[pid] = session
        at = session.occurred_at
        day = calendar_for(patient.timezone if patient else None).local_date(at)
        found = dated.get(day)
        if found is None:
            found = dated[day] = _dated(day, sqlite=sqlite)
        counts = counts_toward_intensity(session.approach)
        rows.append(
            (pid, session.session_id,
             _utc_text(session) if sqlite else at, session.format, session.approach,
             session.duration_minutes, session.delivery, session.status, session.clinician_id,
             *found, counts, False, False, session.version)
        )  # fmt: skip
        if patient is not None:
            _counted(unit, totals, patient, session, day, counts=counts)
    queue_insert(unit, rows)
    _write(unit, totals)
    return len(rows)


def _counted(
    unit: ReadModelUnit, totals: _Totals, patient: PatientRow, session: SessionColumns,
    day: date, *, counts: bool,
) -> None:  # fmt: skip
    """`session_counters.session_counted(+1)` of a new session, gathered in `totals`."""
    status, at = session.status, session.occurred_at
    if status in (ATTENDED, NO_SHOW):
        level = level_at(unit, patient, at)
        if level is not None:
            key = (utc_day(at), level)
            sums = totals.attendance.get(key)
            if sums is None:
                totals.attendance[key] = [1, 0] if status == ATTENDED else [0, 1]
            else:
                sums[0 if status == ATTENDED else 1] += 1
    if status == ATTENDED:
        if counts:
            added = totals.minutes.setdefault((patient.patient_id, week_monday(day)), [])
            added.append(session.duration_minutes)
        if session.format == INDIVIDUAL and session.clinician_id is not None:
            care_weeks.session_counted(unit, patient, _state(session), +1)


def _write(unit: ReadModelUnit, totals: _Totals) -> None:
    """The run's counters and weeks, and each patient's row after its last event."""
    for key, sums in totals.attendance.items():
        counters.add(unit, "rm_attendance_days", key, sums)
    for (pid, monday), added in totals.minutes.items():
        weeks.add_minutes_each(unit, _patient(unit, pid), monday, added)
    for pid, session in totals.last.items():
        recorded = datetime.fromisoformat(session.recorded_text)
        event_id = stored_event_id(session.stored_patient_id, session.version, recorded)
        save_applied(unit, _patient(unit, pid), session.occurred_at, session.version, event_id)


def _patient(unit: ReadModelUnit, patient_id: str) -> PatientRow:
    found = load_patient(unit, patient_id)
    assert found is not None
    return found


def _dated(day: date, *, sqlite: bool) -> Dated:
    """The local date, its ISO week and Monday, as the dialect stores them."""
    monday = week_monday(day)
    if sqlite:
        return day.isoformat(), iso_week_label(day), monday.isoformat()
    return day, iso_week_label(day), monday


def _state(session: SessionColumns) -> SessionState:
    return SessionState(
        session.session_id, session.occurred_at, session.format, session.approach,
        session.duration_minutes, session.delivery, session.status, session.clinician_id,
    )  # fmt: skip


__all__ = ["Decoded", "SessionColumns", "apply_decoded", "apply_session_run"]
