"""The per-patient row every handler starts from and returns updated: read once per patient
and transaction (one primary-key read, never a history), written back with one upsert per
event. Also the patient's local calendar."""

from __future__ import annotations

from copy import copy as _copy
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any

from infrastructure.sql import Unit
from journey.events import EventEnvelope
from projections.calendar import LocalCalendar
from projections.facts import FALLBACK_TIMEZONE
from projections.read_models.unit import ReadModelUnit


@dataclass(frozen=True)
class PatientRow:
    """One rm_patients row: the current journey, as the incremental handlers keep it."""

    patient_id: str
    timezone: str
    age_group: str
    status: str
    current_level: str | None
    current_stay_started_at: datetime | None
    episodes: int
    stays_in_episode: int
    closed_stay_days: int
    first_admitted_at: datetime
    last_admitted_at: datetime
    last_discharged_at: datetime | None
    last_discharge_reason: str | None
    chain_number: int
    chain_started_at: datetime
    last_event_at: datetime
    last_version: int
    last_event_id: str
    chain_closed_days: int = 0  # days of the closed stays of the latest care chain

    @property
    def is_active(self) -> bool:
        return self.status == "active"


_COLUMNS = tuple(f.name for f in fields(PatientRow))
_INSTANTS = frozenset(i for i, name in enumerate(_COLUMNS) if name.endswith("_at"))
_SELECT_ALL = f"SELECT {', '.join(_COLUMNS)} FROM rm_patients"
_SELECT = f"{_SELECT_ALL} WHERE patient_id = ?"
_UPSERT = (
    f"INSERT INTO rm_patients ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    " ON CONFLICT (patient_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[1:])
)


@lru_cache(maxsize=512)
def calendar_for(timezone: str | None) -> LocalCalendar:
    """One cached calendar per zone (its midnights are cached too)."""
    return LocalCalendar(timezone or FALLBACK_TIMEZONE)


def _row(unit: Unit, row: tuple[Any, ...]) -> PatientRow:
    values: list[Any] = [
        unit.dialect.instant(v) if i in _INSTANTS else v for i, v in enumerate(row)
    ]
    return PatientRow(*values)


def preload_patients(unit: ReadModelUnit, patient_ids: list[str]) -> None:
    """Reads the rows of these patients (None for those without one) into the unit, in a
    few statements instead of one per patient."""
    known = unit.buffers.patients
    wanted = [p for p in patient_ids if p not in known]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found = {
            row[0]: _row(unit, row)
            for row in unit.all(f"{_SELECT_ALL} WHERE patient_id IN ({marks})", chunk)
        }
        for patient_id in chunk:
            known[patient_id] = found.get(patient_id)


def load_patient(unit: ReadModelUnit, patient_id: str) -> PatientRow | None:
    """The patient's row as of this transaction (read once, then kept in the unit)."""
    known = unit.buffers.patients
    if patient_id in known:
        return known[patient_id]
    row = unit.one(_SELECT, (patient_id,))
    found = known[patient_id] = None if row is None else _row(unit, row)
    return found


def save_patient(unit: ReadModelUnit, patient: PatientRow, applied: EventEnvelope) -> PatientRow:
    """Keeps the row, marked as holding the patient's events up to `applied.version`; the
    rows changed in a transaction are written once, when it commits."""
    return save_applied(unit, patient, applied.occurred_at, applied.version, applied.event_id)


def save_applied(
    unit: ReadModelUnit, patient: PatientRow, occurred_at: datetime, version: int, event_id: str
) -> PatientRow:
    """`save_patient` for the event of `version` (its instant and id given apart)."""
    patient = _copy(patient)  # rows are frozen; a shallow copy is far cheaper than replace()
    object.__setattr__(patient, "last_event_at", occurred_at)
    object.__setattr__(patient, "last_version", version)
    object.__setattr__(patient, "last_event_id", event_id)
    unit.buffers.patients[patient.patient_id] = patient
    unit.buffers.changed_patients.add(patient.patient_id)
    unit.before_flush("rm_patients", _write_patients)
    return patient


def _write_patients(unit: ReadModelUnit) -> None:
    changed, unit.buffers.changed_patients = unit.buffers.changed_patients, set()
    rows = [unit.buffers.patients[pid] for pid in sorted(changed)]
    unit.executemany(_UPSERT, [tuple(getattr(p, c) for c in _COLUMNS) for p in rows if p])
