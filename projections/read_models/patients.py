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


def preload_patients(unit: Unit, patient_ids: list[str]) -> None:
    """Reads the rows of these patients (None for those without one) into the unit, in a
    few statements instead of one per patient."""
    wanted = [p for p in patient_ids if ("rm_patients", p) not in unit.memo]
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        found = {
            row[0]: _row(unit, row)
            for row in unit.all(f"{_SELECT_ALL} WHERE patient_id IN ({marks})", chunk)
        }
        for patient_id in chunk:
            unit.memo["rm_patients", patient_id] = found.get(patient_id)


def load_patient(unit: Unit, patient_id: str) -> PatientRow | None:
    """The patient's row as of this transaction (read once, then kept in the unit)."""
    key = ("rm_patients", patient_id)
    if key in unit.memo:
        found: PatientRow | None = unit.memo[key]
        return found
    row = unit.one(_SELECT, (patient_id,))
    found = None if row is None else _row(unit, row)
    unit.memo[key] = found
    return found


def save_patient(unit: Unit, patient: PatientRow, applied: EventEnvelope) -> PatientRow:
    """Keeps the row, marked as holding the patient's events up to `applied.version`; the
    rows changed in a transaction are written once, when it commits."""
    patient = _copy(patient)  # rows are frozen; a shallow copy is far cheaper than replace()
    object.__setattr__(patient, "last_event_at", applied.occurred_at)
    object.__setattr__(patient, "last_version", applied.version)
    object.__setattr__(patient, "last_event_id", applied.event_id)
    unit.memo["rm_patients", patient.patient_id] = patient
    dirty: set[str] = unit.memo.setdefault(_DIRTY, set())
    dirty.add(patient.patient_id)
    unit.before_commit("rm_patients", _write_patients)
    return patient


_DIRTY = ("rm_patients", "*changed*")


def _write_patients(unit: Unit) -> None:
    rows = [unit.memo["rm_patients", pid] for pid in sorted(unit.memo.get(_DIRTY, ()))]
    unit.executemany(_UPSERT, [tuple(getattr(p, c) for c in _COLUMNS) for p in rows])
