"""A patient's stays as the handlers of one transaction see them: read once, then kept in
the unit until a stay opens or closes (`forget_stays`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from infrastructure.sql import day_of, instant_of
from projections.read_models.unit import ReadModelUnit


@dataclass(frozen=True)
class StoredStay:
    level: str
    age_group: str
    started_at: datetime
    ended_at: datetime | None
    first: date  # census_first_date
    last: date  # census_last_date; date.max while open

    def in_force(self, at: datetime) -> bool:
        return self.started_at <= at and (self.ended_at is None or at < self.ended_at)


def stays_of(unit: ReadModelUnit, patient_id: str) -> list[StoredStay]:
    found = unit.buffers.stays.get(patient_id)
    if found is None:
        d = unit.dialect
        found = [
            StoredStay(
                str(level),
                str(age_group),
                instant_of(d, started),
                d.instant(ended),
                day_of(d, first),
                d.day_value(last) or date.max,
            )
            for level, age_group, started, ended, first, last in unit.all(
                "SELECT level, age_group, started_at, ended_at, census_first_date,"
                " census_last_date FROM rm_stays WHERE patient_id = ?",
                (patient_id,),
            )
        ]
        unit.buffers.stays[patient_id] = found
    return found


def forget_stays(unit: ReadModelUnit, patient_id: str) -> None:
    unit.buffers.stays.pop(patient_id, None)
