"""Incremental handlers for the care events (SPEC 4/5): primary therapists, treatment plans
and their reviews, referrals. One row per event (a referral's close updates its row);
nothing else is read, so each is O(1). The care-standards figures are computed from these
rows with the stays, sessions and episodes (`projections/analytics/care_standards.py`).

Limited data set (SPEC 10): clinician, plan and referral ids arrive pseudonymized
(`infrastructure.pseudonym_keys`); goals, objectives and their descriptions are not kept,
only catalog codes (specialty, outcomes), instants and local dates. An event belongs to the
episode of the latest admission before it in the stream (the write side accepts them only
while that episode is open), as in the journey fold (`projections.care`)."""

from __future__ import annotations

from journey.events import (
    EventEnvelope,
    PatientReferred,
    PrimaryTherapistAssigned,
    ReferralClosed,
    TreatmentPlanCreated,
    TreatmentPlanReviewed,
)
from projections.read_models import overdue
from projections.read_models.patients import PatientRow, calendar_for
from projections.read_models.unit import ReadModelUnit

# The care tables (docs/read-models.md), created with the others by `schema.create_tables`.
CARE_DDL = (
    """CREATE TABLE IF NOT EXISTS rm_therapist_assignments (
        patient_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        episode_number INTEGER NOT NULL,
        assigned_at {ts} NOT NULL,
        clinician_id TEXT NOT NULL,
        PRIMARY KEY (patient_id, version))""",
    """CREATE TABLE IF NOT EXISTS rm_plans (
        patient_id TEXT NOT NULL,
        plan_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        episode_number INTEGER NOT NULL,
        created_at {ts} NOT NULL,
        created_local_date {day} NOT NULL,
        PRIMARY KEY (patient_id, plan_id))""",
    """CREATE TABLE IF NOT EXISTS rm_plan_reviews (
        patient_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        plan_id TEXT NOT NULL,
        reviewed_at {ts} NOT NULL,
        reviewed_local_date {day} NOT NULL,
        outcome TEXT NOT NULL,
        PRIMARY KEY (patient_id, version))""",
    """CREATE TABLE IF NOT EXISTS rm_referrals (
        patient_id TEXT NOT NULL,
        referral_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        episode_number INTEGER NOT NULL,
        specialty TEXT NOT NULL,
        referred_at {ts} NOT NULL,
        referred_local_date {day} NOT NULL,
        closed_at {ts},
        closed_local_date {day},
        outcome TEXT,
        PRIMARY KEY (patient_id, referral_id))""",
)

# The care-standards weekly read model (`care_weeks.py`): per-patient weeks and
# additive counters (summed over patients by a parallel rebuild's merge).
CARE_WEEKS_DDL = (
    """CREATE TABLE IF NOT EXISTS rm_care_weeks (
        patient_id TEXT NOT NULL,
        week_start {day} NOT NULL,
        timezone TEXT NOT NULL,
        sessions INTEGER NOT NULL,
        level TEXT,
        judged INTEGER NOT NULL,
        met INTEGER NOT NULL,
        PRIMARY KEY (patient_id, week_start))""",
    """CREATE TABLE IF NOT EXISTS rm_care_week_counts (
        timezone TEXT NOT NULL,
        week_start {day} NOT NULL,
        level TEXT NOT NULL,
        weeks BIGINT NOT NULL,
        met BIGINT NOT NULL,
        PRIMARY KEY (timezone, week_start, level))""",
    """CREATE TABLE IF NOT EXISTS rm_care_spans (
        timezone TEXT NOT NULL,
        week_start {day} NOT NULL,
        level TEXT NOT NULL,
        delta BIGINT NOT NULL,
        PRIMARY KEY (timezone, week_start, level))""",
)
CARE_WEEKS_ADDITIVE = {
    "rm_care_week_counts": (("timezone", "week_start", "level"), ("weeks", "met")),
    "rm_care_spans": (("timezone", "week_start", "level"), ("delta",)),
}

CareEvent = (
    PrimaryTherapistAssigned
    | TreatmentPlanCreated
    | TreatmentPlanReviewed
    | PatientReferred
    | ReferralClosed
)


def on_care_event(
    unit: ReadModelUnit, envelope: EventEnvelope, event: CareEvent, patient: PatientRow | None
) -> None:
    if patient is None:  # a stream not starting with an admission: nothing to file it under
        return
    at, episode = envelope.occurred_at, patient.episodes
    day = calendar_for(patient.timezone).local_date(at)
    key = (patient.patient_id, envelope.version)
    if isinstance(event, PrimaryTherapistAssigned):
        unit.execute(
            "INSERT INTO rm_therapist_assignments (patient_id, version, episode_number,"
            " assigned_at, clinician_id) VALUES (?, ?, ?, ?, ?)",
            (*key, episode, at, event.clinician_id),
        )
    elif isinstance(event, TreatmentPlanCreated):
        unit.execute(
            "INSERT INTO rm_plans (patient_id, plan_id, version, episode_number, created_at,"
            " created_local_date) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (patient.patient_id, event.plan_id, envelope.version, episode, at, day),
        )
        overdue.touched(unit, patient)
    elif isinstance(event, TreatmentPlanReviewed):
        unit.execute(
            "INSERT INTO rm_plan_reviews (patient_id, version, plan_id, reviewed_at,"
            " reviewed_local_date, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            (*key, event.plan_id, at, day, event.outcome),
        )
        overdue.touched(unit, patient)
    elif isinstance(event, PatientReferred):
        unit.execute(
            "INSERT INTO rm_referrals (patient_id, referral_id, version, episode_number,"
            " specialty, referred_at, referred_local_date) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (patient.patient_id, event.referral_id, envelope.version, episode, event.specialty,
             at, day),
        )  # fmt: skip
    else:  # the first close of a referral is its close (projections.care)
        unit.execute(
            "UPDATE rm_referrals SET closed_at = ?, closed_local_date = ?, outcome = ?"
            " WHERE patient_id = ? AND referral_id = ? AND closed_at IS NULL",
            (at, day, event.outcome, patient.patient_id, event.referral_id),
        )
