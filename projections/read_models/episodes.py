"""Incremental handlers for admissions, transitions and discharges: each touches the open
stay and episode through the patient row and returns the row updated, O(1) per event. They
follow the journey fold (`projections.timeline`): an admission with an open episode, or a
transition or discharge without one, is skipped; stays are half-open [started_at, ended_at).
Census dates reuse `projections.midnight_census`: a stay gives its level to the local dates D whose
ending midnight (the first instant of D + 1) it counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from journey.catalog import default_catalog
from journey.events import EventEnvelope, LevelOfCareChanged, PatientAdmitted, PatientDischarged
from projections.midnight_census import CHAIN_GAP_DAYS, stay_days
from projections.read_models import counters
from projections.read_models.chains import chain_admitted, chain_stay_closed
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.stay_counters import (
    census_first_date,
    census_last_date,
    episode_discharged,
    stay_closed,
    stay_opened,
)
from projections.read_models.stays_cache import forget_stays
from projections.read_models.unit import ReadModelUnit
from projections.timeline import Stay


def _open_stay(unit: ReadModelUnit, patient: PatientRow, level: str, asam_code: str | None) -> date:
    """Inserts the stay the (already updated) patient row says is open; returns its first
    census date. `asam_code`: as entered (None for events stored before codes were kept)."""
    at = patient.current_stay_started_at
    assert at is not None
    first = census_first_date(calendar_for(patient.timezone), at)
    forget_stays(unit, patient.patient_id)
    unit.execute(
        "INSERT INTO rm_stays (patient_id, episode_number, seq, level, age_group, started_at,"
        " census_first_date, asam_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (patient.patient_id, patient.episodes, patient.stays_in_episode, level,
         patient.age_group, at, first, asam_code),
    )  # fmt: skip
    stay_opened(unit, patient, level, first)
    return first


def _close_stay(unit: ReadModelUnit, patient: PatientRow, at: datetime, ended_by: str) -> int:
    """Ends the open stay at `at`; returns its days (counted midnights)."""
    assert patient.current_level is not None
    assert patient.current_stay_started_at is not None
    calendar = calendar_for(patient.timezone)
    stay = Stay(patient.current_level, patient.current_stay_started_at, at, patient.age_group)
    days, last = stay_days(stay, calendar, at), census_last_date(calendar, at)
    forget_stays(unit, patient.patient_id)
    unit.execute(
        "UPDATE rm_stays SET ended_at = ?, ended_by = ?, census_last_date = ?, days = ?"
        " WHERE patient_id = ? AND episode_number = ? AND seq = ?",
        (at, ended_by, last, days,
         patient.patient_id, patient.episodes, patient.stays_in_episode),
    )  # fmt: skip
    first = census_first_date(calendar, stay.started_at)
    stay_closed(unit, patient, stay.level, dates=(first, last), ended=at, days=days)
    return days


def _admitted_row(
    envelope: EventEnvelope, event: PatientAdmitted, patient: PatientRow | None
) -> PatientRow:
    """The patient row after the admission; the chain follows SPEC 6 continuity."""
    at = envelope.occurred_at
    if patient is None:
        return PatientRow(
            envelope.patient_id, event.timezone, event.age_group, "active", event.level, at,
            1, 1, 0, at, at, None, None, 1, at, at, envelope.version, envelope.event_id,
        )  # fmt: skip
    calendar, discharged = calendar_for(patient.timezone), patient.last_discharged_at
    chain, chain_start = patient.chain_number + 1, at
    chain_days = 0
    if discharged is not None:
        gap = calendar.local_date(at) - calendar.local_date(discharged)
        if gap.days <= CHAIN_GAP_DAYS:
            chain, chain_start = patient.chain_number, patient.chain_started_at
            chain_days = patient.chain_closed_days
    return replace(
        patient, age_group=event.age_group, status="active", current_level=event.level,
        current_stay_started_at=at, episodes=patient.episodes + 1, stays_in_episode=1,
        closed_stay_days=0, last_admitted_at=at, chain_number=chain, chain_started_at=chain_start,
        chain_closed_days=chain_days,
    )  # fmt: skip


def on_admitted(
    unit: ReadModelUnit, envelope: EventEnvelope, event: PatientAdmitted, patient: PatientRow | None
) -> PatientRow | None:
    if patient is not None and patient.is_active:
        return patient
    row = _admitted_row(envelope, event, patient)
    if patient is not None and row.chain_number == patient.chain_number:
        _chained_readmission(unit, envelope, event, row)
    at = envelope.occurred_at
    unit.execute(
        "INSERT INTO rm_episodes (patient_id, number, admitted_at, admitted_local_date,"
        " age_group, first_level, last_level, stays, chain_number, chain_started_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (row.patient_id, row.episodes, at, calendar_for(row.timezone).local_date(at),
         event.age_group, event.level, event.level, row.chain_number, row.chain_started_at),
    )  # fmt: skip
    first = _open_stay(unit, row, event.level, event.asam_code)
    new_chain = patient is None or row.chain_number != patient.chain_number
    chain_admitted(unit, row, new_chain, first)
    return row


def _chained_readmission(
    unit: ReadModelUnit, envelope: EventEnvelope, event: PatientAdmitted, row: PatientRow
) -> None:
    """A readmission continuing the care chain (SPEC 6: at most 7 days after the previous
    discharge's local date) at another level than the previous episode's last stay is a
    change of level of care: kept in rm_transitions, flagged `across_episodes`."""
    found = unit.one(
        "SELECT last_level FROM rm_episodes WHERE patient_id = ? AND number = ?",
        (row.patient_id, row.episodes - 1),
    )
    if found is None or found[0] == event.level:
        return
    source = str(found[0])
    move = (source, event.level, direction_of(source, event.level))
    _transition(unit, envelope, row, move, across_episodes=True)


def _transition(
    unit: ReadModelUnit, envelope: EventEnvelope, row: PatientRow, move: tuple[str, str, str],
    *, across_episodes: bool,
) -> None:  # fmt: skip
    """`move`: from level, to level, direction."""
    at, (source, target, direction) = envelope.occurred_at, move
    day = calendar_for(row.timezone).local_date(at)
    unit.execute(
        "INSERT INTO rm_transitions (patient_id, version, episode_number, occurred_at,"
        " local_date, from_level, to_level, direction, reason, across_episodes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (row.patient_id, envelope.version, row.episodes, at,
         day, source, target, direction, None, across_episodes),
    )  # fmt: skip
    counters.add(
        unit, "rm_transition_days", (day, direction, source, target), (1, int(across_episodes))
    )


def direction_of(source: str, target: str) -> str:
    """`step_down` to a lower rank, else `step_up` (SPEC 2)."""
    levels = default_catalog().levels
    return "step_down" if levels[target].rank < levels[source].rank else "step_up"


def on_level_changed(
    unit: ReadModelUnit,
    envelope: EventEnvelope,
    event: LevelOfCareChanged,
    patient: PatientRow | None,
) -> PatientRow | None:
    if patient is None or not patient.is_active:
        return patient
    at, days = envelope.occurred_at, _close_stay(unit, patient, envelope.occurred_at, "transition")
    row = replace(
        patient, current_level=event.to_level, current_stay_started_at=at,
        stays_in_episode=patient.stays_in_episode + 1,
        closed_stay_days=patient.closed_stay_days + days,
    )  # fmt: skip
    opened = _open_stay(unit, row, event.to_level, event.asam_code)
    row = chain_stay_closed(unit, row, days, opened)
    move = (event.from_level, event.to_level, event.direction)
    _transition(unit, envelope, row, move, across_episodes=False)
    unit.execute(
        "UPDATE rm_episodes SET last_level = ?, stays = ? WHERE patient_id = ? AND number = ?",
        (event.to_level, row.stays_in_episode, row.patient_id, row.episodes),
    )
    return row


def on_discharged(
    unit: ReadModelUnit,
    envelope: EventEnvelope,
    event: PatientDischarged,
    patient: PatientRow | None,
) -> PatientRow | None:
    if patient is None or not patient.is_active:
        return patient
    at = envelope.occurred_at
    stay = _close_stay(unit, patient, at, "discharge")
    days = patient.closed_stay_days + stay
    episode_discharged(unit, event.reason, at, days)
    patient = chain_stay_closed(unit, patient, stay, None)
    unit.execute(
        "UPDATE rm_episodes SET discharged_at = ?, discharged_local_date = ?,"
        " discharge_reason = ?, days = ? WHERE patient_id = ? AND number = ?",
        (at, calendar_for(patient.timezone).local_date(at), event.reason, days,
         patient.patient_id, patient.episodes),
    )  # fmt: skip
    return replace(
        patient, status="discharged", current_level=None, current_stay_started_at=None,
        closed_stay_days=days, last_discharged_at=at, last_discharge_reason=event.reason,
    )  # fmt: skip
