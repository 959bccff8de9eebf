"""A small hand-made cohort for the export tests: every discharge reason, stays entered
by ASAM code and by level id, attended / no-show / cancelled sessions, a corrected and a
voided session, an open episode and a readmission; primary therapists, treatment plans
(one reviewed in a discharged episode, one never reviewed in an open one) and referrals
(closed declined, closed completed, open)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from journey.catalog import default_catalog

Command = dict[str, Any]
REASONS = ("completed", "ama", "facility_terminated", "transferred", "incarcerated", "death")


def _session(pid: str, sid: str, at: str, **more: Any) -> Command:
    return {"command": "record_session", "patient_id": pid, "session_id": sid,
            "format": "individual", "approach": "cbt", "duration_minutes": 50,
            "occurred_at": at} | more  # fmt: skip


def mixed() -> list[Command]:
    """p-mixed: admitted as ASAM 1-WM (detox), steps to 3.1 (inpatient) for 105 days,
    then iop by id; sessions of every status, one corrected, one voided; discharged."""
    pid = "p-mixed"
    return [
        {"command": "admit", "patient_id": pid, "level": "1-WM",
         "occurred_at": "2025-01-06T09:00:00+00:00", "timezone": "America/Chicago"},
        {"command": "transition", "patient_id": pid, "to_level": "3.1",
         "occurred_at": "2025-01-10T09:00:00+00:00"},
        _session(pid, "attended", "2025-01-20T15:00:00+00:00"),
        _session(pid, "noshow", "2025-01-21T15:00:00+00:00", status="no_show"),
        _session(pid, "cancelled", "2025-01-22T15:00:00+00:00", status="cancelled",
                 delivery="video"),
        _session(pid, "fixed", "2025-01-23T15:00:00+00:00", format="group"),
        {"command": "correct_session", "patient_id": pid, "session_id": "fixed",
         "reason": "was 90 minutes", "duration_minutes": 90},
        _session(pid, "wrong", "2025-01-24T15:00:00+00:00"),
        {"command": "void_session", "patient_id": pid, "session_id": "wrong",
         "reason": "entered for the wrong patient"},
        *care_of_mixed(),
        {"command": "transition", "patient_id": pid, "to_level": "iop",
         "occurred_at": "2025-04-25T09:00:00+00:00"},
        _session(pid, "iop-1", "2025-04-28T15:00:00+00:00", duration_minutes=180),
        {"command": "discharge", "patient_id": pid, "reason": "completed",
         "occurred_at": "2025-06-30T09:00:00+00:00"},
    ]  # fmt: skip


def _plan(pid: str, plan_id: str, at: str) -> Command:
    return {"command": "create_treatment_plan", "patient_id": pid, "plan_id": plan_id,
            "occurred_at": at, "goals": [
                {"goal_id": "g-1", "dimension": "withdrawal", "description": "Safe withdrawal",
                 "objectives": [{"objective_id": "o-1", "target_date": "2025-01-20",
                                 "description": "Complete detox"}]},
                {"goal_id": "g-2", "dimension": "readiness_to_change",
                 "objectives": [{"objective_id": "o-2", "target_date": "2025-03-01"},
                                {"objective_id": "o-3", "target_date": "2025-04-01"}]}]}  # fmt: skip


def care_of_mixed() -> list[Command]:
    """p-mixed's care: a primary therapist, a plan reviewed once, a referral declined and
    one completed."""
    pid = "p-mixed"
    return [
        {"command": "assign_primary_therapist", "patient_id": pid, "clinician_id": "dr-m",
         "occurred_at": "2025-01-07T09:00:00+00:00"},
        _plan(pid, "plan-m", "2025-01-08T09:00:00+00:00"),
        {"command": "review_treatment_plan", "patient_id": pid, "plan_id": "plan-m",
         "outcome": "revise", "objectives": {"o-1": "met", "o-2": "not_met"},
         "occurred_at": "2025-01-15T09:00:00+00:00"},
        {"command": "refer", "patient_id": pid, "referral_id": "ref-1", "specialty": "trauma",
         "to_clinician_id": "dr-t", "occurred_at": "2025-01-16T09:00:00+00:00"},
        {"command": "close_referral", "patient_id": pid, "referral_id": "ref-1",
         "outcome": "declined", "occurred_at": "2025-02-01T09:00:00+00:00"},
        {"command": "refer", "patient_id": pid, "referral_id": "ref-2",
         "specialty": "medication_for_oud", "occurred_at": "2025-02-02T09:00:00+00:00"},
        {"command": "close_referral", "patient_id": pid, "referral_id": "ref-2",
         "outcome": "completed", "occurred_at": "2025-03-02T09:00:00+00:00"},
    ]  # fmt: skip


def by_reason() -> Iterator[Command]:
    """p-<reason>: one short episode per discharge reason, at different levels and codes."""
    entries = ("4-WM", "3.7", "2.5", "2-WM", "outpatient", "3.2-WM", "1.5")
    for n, reason in enumerate((*REASONS, "other")):
        pid = f"p-{reason.replace('_', '-')}"
        yield {"command": "admit", "patient_id": pid, "level": entries[n],
               "occurred_at": f"2025-02-{n + 1:02d}T12:00:00+00:00"}  # fmt: skip
        yield _session(pid, "s1", f"2025-02-{n + 1:02d}T13:00:00+00:00")
        yield {"command": "discharge", "patient_id": pid, "reason": reason,
               "occurred_at": f"2025-03-{n + 10:02d}T12:00:00+00:00"}  # fmt: skip


def readmitted() -> list[Command]:
    """p-again: a discharged episode (inpatient by id, 40 days), then an open one (3.5)."""
    pid = "p-again"
    return [
        {"command": "admit", "patient_id": pid, "level": "inpatient",
         "occurred_at": "2025-05-01T12:00:00+00:00"},
        {"command": "discharge", "patient_id": pid, "reason": "other",
         "occurred_at": "2025-06-10T12:00:00+00:00"},
        {"command": "admit", "patient_id": pid, "level": "3.5",
         "occurred_at": "2025-07-01T12:00:00+00:00"},
        _session(pid, "open-1", "2025-07-02T12:00:00+00:00", status="no_show"),
        {"command": "assign_primary_therapist", "patient_id": pid, "clinician_id": "dr-a",
         "occurred_at": "2025-07-02T13:00:00+00:00"},
        _plan(pid, "plan-a", "2025-07-03T12:00:00+00:00"),
        {"command": "refer", "patient_id": pid, "referral_id": "ref-open",
         "specialty": "housing_social", "occurred_at": "2025-07-04T12:00:00+00:00"},
    ]  # fmt: skip


def residential() -> list[Command]:
    """p-residential: ASAM 3.1 for 105 days across a new year (TEDS long term);
    p-short: ASAM 3.3 for 10 days (TEDS short term)."""
    return [
        {"command": "admit", "patient_id": "p-residential", "level": "3.1",
         "occurred_at": "2024-12-01T12:00:00+00:00"},
        {"command": "discharge", "patient_id": "p-residential", "reason": "completed",
         "occurred_at": "2025-03-16T12:00:00+00:00"},
        {"command": "admit", "patient_id": "p-short", "level": "3.3",
         "occurred_at": "2025-09-01T12:00:00+00:00"},
        {"command": "discharge", "patient_id": "p-short", "reason": "completed",
         "occurred_at": "2025-09-11T12:00:00+00:00"},
    ]  # fmt: skip


def export_cohort() -> list[Command]:
    return [*mixed(), *by_reason(), *readmitted(), *residential()]


def default_code(level: str) -> str:
    return default_catalog().levels[level].asam3[0]
