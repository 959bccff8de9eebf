"""What a session adds to the counters, and how stay changes move it:

- `rm_attendance_days`: attended and no-show sessions (not voided) by the UTC date of
  their start and the level of the stay in force then ([started_at, ended_at)), or, for
  a session at the very instant of a discharge (the journey counts it: it is not after
  the discharge), the level of the stay the discharge ended; a session outside every
  stay otherwise has no level and is not counted;
- `rm_weeks`: attended minutes of approaches counting toward intensity, by local week.

A stay boundary at instant t (admission, transition, discharge) gives the patient's
sessions starting at or after t the level of the stay it opens (none for a discharge);
they had the level of the stay open before (none after a discharge)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from journey.catalog import default_catalog
from projections.calendar import require_aware
from projections.read_models import care_weeks, counters, weeks
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.stays_cache import stays_of
from projections.read_models.unit import ReadModelUnit
from projections.session_log import SessionState

ATTENDED, NO_SHOW = "attended", "no_show"


def utc_day(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


def counts_toward_intensity(approach: str) -> bool:
    """From the catalog; an approach missing from it does not count."""
    found = default_catalog().approaches.get(approach)
    return found is not None and found.counts_toward_intensity


def level_at(unit: ReadModelUnit, patient: PatientRow | None, at: datetime) -> str | None:
    """The level of the stay in force at `at`, else of the stay a discharge ended at
    exactly `at` (None outside every stay)."""
    if patient is None:
        return None
    started = patient.current_stay_started_at
    if patient.is_active and started is not None and started <= at:
        return patient.current_level
    stays = stays_of(unit, patient.patient_id)
    found = [s.level for s in stays if s.in_force(at)] or [
        s.level
        for s in stays
        if s.ended_at == at  # a transition's next stay is in force
    ]
    return found[0] if found else None


def _attendance(
    unit: ReadModelUnit, at: datetime, status: str, level: str | None, sign: int
) -> None:
    if level is not None and status in (ATTENDED, NO_SHOW):
        deltas = (sign, 0) if status == ATTENDED else (0, sign)
        counters.add(unit, "rm_attendance_days", (utc_day(at), level), deltas)


def session_counted(
    unit: ReadModelUnit, patient: PatientRow | None, session: SessionState, sign: int
) -> None:
    """Adds (sign +1) or removes (-1) what `session` contributes."""
    if session.voided or patient is None:
        return
    at = session.occurred_at
    _attendance(unit, at, session.status, level_at(unit, patient, at), sign)
    if session.status == ATTENDED and counts_toward_intensity(session.approach):
        day = calendar_for(patient.timezone).local_date(session.occurred_at)
        weeks.add_minutes(unit, patient, day, sign * session.duration_minutes)
    care_weeks.session_counted(unit, patient, session, sign)


def stay_boundary(
    unit: ReadModelUnit, before: PatientRow | None, after: PatientRow, at: datetime
) -> None:
    """Re-levels the sessions at or after `at` (after it, for a discharge: a session at the
    discharge instant keeps the level of the stay it ends); restates the weeks around `at`."""
    old = before.current_level if before is not None and before.is_active else None
    new = after.current_level if after.is_active else None
    if old != new:
        after_only = ">" if new is None else ">="
        rows = unit.all(
            "SELECT occurred_at, status FROM rm_sessions WHERE patient_id = ?"
            f" AND occurred_at {after_only} ? AND NOT voided AND status IN (?, ?)",
            (after.patient_id, at, ATTENDED, NO_SHOW),
        )
        ended = _discharged_at(unit, before, at) if old is None else None
        for stored, status in rows:
            start = require_aware(unit.dialect.instant(stored) or at, "occurred_at")
            was = ended if start == at and ended is not None else old
            _attendance(unit, start, str(status), was, -1)
            _attendance(unit, start, str(status), new, +1)
    weeks.stay_boundary(unit, after, at)


def _discharged_at(unit: ReadModelUnit, before: PatientRow | None, at: datetime) -> str | None:
    """The level of the stay a discharge ended at exactly `at` (a readmission at the
    discharge instant takes that instant's sessions over from it), else None."""
    if before is None or before.last_discharged_at != at:
        return None
    ended = [s.level for s in stays_of(unit, before.patient_id) if s.ended_at == at]
    return ended[0] if ended else None
