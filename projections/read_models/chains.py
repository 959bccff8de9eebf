"""`rm_chains`: one row per care chain (SPEC 6) with the instant it reaches the 90-day
benchmark, so retention as of T is two counts.

Days only accumulate, so a chain meets the benchmark as of T exactly when the midnight that
counts its 90th day is at or before T. With C days in its closed stays and an open stay
whose first census date is F, that midnight is the first instant of F + (90 - C): it is
known in advance and holds while the stay stays open. When a stay closes short of it, the
chain's next stay (a transition) gives a new one, and a discharge leaves none."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from projections.journey import BENCHMARK_DAYS
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.unit import ReadModelUnit


def _reached(patient: PatientRow, first: date) -> datetime:
    days_left = BENCHMARK_DAYS - patient.chain_closed_days
    return calendar_for(patient.timezone).midnight(first + timedelta(days=days_left))


def chain_admitted(unit: ReadModelUnit, patient: PatientRow, new_chain: bool, first: date) -> None:
    """The admission (already in `patient`) opened a stay starting its census on `first`."""
    if new_chain:
        unit.execute(
            "INSERT INTO rm_chains (patient_id, chain_number, started_at, reached_at)"
            " VALUES (?, ?, ?, ?)",
            (patient.patient_id, patient.chain_number, patient.chain_started_at,
             _reached(patient, first)),
        )  # fmt: skip
    elif patient.chain_closed_days < BENCHMARK_DAYS:
        _set_reached(unit, patient, _reached(patient, first))


def chain_stay_closed(
    unit: ReadModelUnit, patient: PatientRow, days: int, next_first: date | None
) -> PatientRow:
    """A stay of the chain closed after `days` days; `next_first` is the first census date
    of the stay a transition opens (None for a discharge). Returns the row updated."""
    before = patient.chain_closed_days
    patient = replace(patient, chain_closed_days=before + days)
    if patient.chain_closed_days < BENCHMARK_DAYS:
        _set_reached(unit, patient, None if next_first is None else _reached(patient, next_first))
    return patient


def _set_reached(unit: ReadModelUnit, patient: PatientRow, reached: datetime | None) -> None:
    unit.execute(
        "UPDATE rm_chains SET reached_at = ? WHERE patient_id = ? AND chain_number = ?",
        (reached, patient.patient_id, patient.chain_number),
    )
