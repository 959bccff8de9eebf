"""Helpers for the read-model tests: load journeys, catch the read models up (the read-model
service), dump the rm_ tables
in one engine-neutral shape (instants as UTC text, dates as ISO text, flags as 0/1)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from consumers.read_model_service import ReadModelService
from devtools.demo.cohort import generate_cohort
from infrastructure.pseudonym_keys import app_pseudonymizer
from infrastructure.sql import SQLITE_TIMESTAMP, connect
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models.positions import stored_position
from projections.read_models.schema import READ_MODEL_TABLES

UNTIL = date(2026, 3, 1)
ORDER = {
    "rm_patients": "patient_id",
    "rm_episodes": "patient_id, number",
    "rm_stays": "patient_id, episode_number, seq",
    "rm_transitions": "patient_id, version",
    "rm_sessions": "patient_id, session_id",
    "rm_chains": "patient_id, chain_number",
    "rm_weeks": "patient_id, week_start",
    "rm_census_deltas": "timezone, local_date, level",
    "rm_stay_lengths": "month, level, days",
    "rm_episode_lengths": "month, reason, days",
    "rm_attendance_days": "day, level",
    "rm_week_counts": "timezone, week_start, level, status",
    "rm_week_spans": "timezone, week_start, level, age_group",
    "rm_therapist_assignments": "patient_id, version",
    "rm_plans": "patient_id, plan_id",
    "rm_plan_reviews": "patient_id, version",
    "rm_referrals": "patient_id, referral_id",
    "rm_care_weeks": "patient_id, week_start",
    "rm_care_week_counts": "timezone, week_start, level",
    "rm_care_spans": "timezone, week_start, level",
    "rm_stay_days": "day, level",
    "rm_transition_days": "local_date, direction, from_level, to_level",
    "rm_overdue_spans": "patient_id, episode_number, kind, starts_at",
    "rm_overdue_days": "day, kind",
}

Rows = list[tuple[Any, ...]]


def neutral(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIMESTAMP)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def rows(url: str, statement: str, params: Iterable[Any] = ()) -> Rows:
    db = connect(url)
    try:
        with db.transaction() as unit:
            found = unit.all(statement, tuple(params))
    finally:
        db.close()
    return [tuple(neutral(v) for v in row) for row in found]


def dump(url: str) -> dict[str, Rows]:
    """Every analyst table (not the positions), ordered by primary key."""
    return {t: rows(url, f"SELECT * FROM {t} ORDER BY {ORDER[t]}") for t in READ_MODEL_TABLES}


def load(app: JourneyApplication, raw: Iterable[dict[str, Any]]) -> None:
    results = app.handle_many([parse_command(c) for c in raw], atomic=False)
    rejected = [r for r in results if isinstance(r, Exception)]
    assert not rejected, rejected[:3]


def cohort(patients: int, seed: int, prefix: str = "demo") -> list[dict[str, Any]]:
    return list(generate_cohort(patients, seed=seed, until=UNTIL, id_prefix=prefix))


def follow(app: JourneyApplication, url: str, *, batch_size: int = 500) -> int:
    """Catches the read models up with the log; returns the notifications read."""
    with ReadModelService(app, url, batch_size=batch_size) as service:
        return service.catch_up()


def rebuilt(app: JourneyApplication, url: str) -> dict[str, Rows]:
    """The read models after a clean rebuild from the log."""
    with ReadModelService(app, url) as service:
        service.rebuild()
    return dump(url)


def position(url: str) -> int | None:
    """The read models' tracked position (eventsourcing's tracking table)."""
    db = connect(url)
    try:
        with db.transaction() as unit:
            return stored_position(unit)
    finally:
        db.close()


def real_ids(app: JourneyApplication) -> dict[str, str]:
    """The read models' patient pseudonyms -> the patient ids of the log."""
    pseudonyms = app_pseudonymizer(app)
    notifications = app.recorder.select_notifications(start=1, limit=10**7)
    return {pseudonyms.id(p): p for p in {str(n.originator_id) for n in notifications}}
