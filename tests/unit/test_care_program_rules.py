"""The clinical program's rules of SPEC section 4 on the patient aggregate, without any
store: primary therapist, treatment plans and their reviews, referrals. Worked examples:
a patient admitted to detox on 2026-01-01 10:00 UTC, decided on 2026-06-01 12:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from journey import care_events as ce
from journey.commands import parse_command
from journey.errors import Conflict, InvalidCommand, JourneyError, RuleViolation
from journey.patient import Patient

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def cmd(kind: str, **fields: Any) -> Any:
    return parse_command({"command": kind, "patient_id": "p-1", **fields})


def at(day: int, hour: int = 10, month: int = 1) -> str:
    return datetime(2026, month, day, hour, tzinfo=UTC).isoformat()


def goals(*objectives: str, dimension: str = "withdrawal") -> list[dict[str, Any]]:
    return [
        {
            "goal_id": "g-1",
            "dimension": dimension,
            "objectives": [{"objective_id": o, "target_date": "2026-02-01"} for o in objectives],
        }
    ]


def plan(plan_id: str = "plan-1", day: int = 2, **extra: Any) -> Any:
    fields = {"plan_id": plan_id, "occurred_at": at(day), "goals": goals("o-1", "o-2")}
    return cmd("create_treatment_plan", **{**fields, **extra})


def review(day: int, plan_id: str = "plan-1", **extra: Any) -> Any:
    fields = {"plan_id": plan_id, "occurred_at": at(day), "outcome": "continue"}
    return cmd("review_treatment_plan", **{**fields, **extra})


def refer(referral_id: str = "r-1", day: int = 3, **extra: Any) -> Any:
    fields = {"referral_id": referral_id, "specialty": "trauma", "occurred_at": at(day)}
    return cmd("refer", **{**fields, **extra})


def close(day: int, referral_id: str = "r-1", outcome: str = "completed") -> Any:
    fields = {"referral_id": referral_id, "occurred_at": at(day), "outcome": outcome}
    return cmd("close_referral", **fields)


def assign(clinician: str, day: int) -> Any:
    return cmd("assign_primary_therapist", clinician_id=clinician, occurred_at=at(day))


@pytest.fixture
def patient() -> Patient:
    p = Patient.admit_new(
        cmd("admit", level="detox", occurred_at=at(1)), now=NOW, default_timezone="UTC"
    )
    p.collect_events()
    return p


def expect(error: type[JourneyError], field: str, rule: str, action: Any) -> None:
    with pytest.raises(error) as caught:
        action()
    assert (caught.value.issues[0].field, caught.value.issues[0].rule) == (field, rule)


def discharged(patient: Patient, day: int) -> Patient:
    patient.discharge(cmd("discharge", occurred_at=at(day), reason="completed"), now=NOW)
    return patient


# -- primary therapist --------------------------------------------------------------------
def test_an_assignment_names_the_previous_primary_therapist(patient: Patient) -> None:
    first = patient.assign_primary_therapist(assign("c-1", 1), now=NOW)
    second = patient.assign_primary_therapist(assign("c-2", 8), now=NOW)
    assert isinstance(first, ce.PrimaryTherapistAssigned)
    assert isinstance(second, ce.PrimaryTherapistAssigned)
    assert (first.clinician_id, first.previous_clinician_id) == ("c-1", None)
    assert (second.clinician_id, second.previous_clinician_id) == ("c-2", "c-1")
    assert patient.primary_at() == "c-2"


def test_naming_the_current_primary_therapist_is_a_conflict(patient: Patient) -> None:
    patient.assign_primary_therapist(assign("c-1", 1), now=NOW)
    expect(
        Conflict,
        "clinician_id",
        "already_primary",
        lambda: patient.assign_primary_therapist(assign("c-1", 9), now=NOW),
    )
    assert patient.version == 2  # nothing recorded


def test_an_assignment_ends_with_its_episode(patient: Patient) -> None:
    patient.assign_primary_therapist(assign("c-1", 1), now=NOW)
    discharged(patient, 10)
    assert patient.primary_at() is None
    patient.readmit(cmd("admit", level="iop", occurred_at=at(12)), now=NOW)
    again = patient.assign_primary_therapist(assign("c-1", 12), now=NOW)  # a new episode
    assert isinstance(again, ce.PrimaryTherapistAssigned)
    assert again.previous_clinician_id is None


def test_the_program_needs_an_open_episode(patient: Patient) -> None:
    discharged(patient, 10)
    for action in (
        lambda: patient.assign_primary_therapist(assign("c-1", 11), now=NOW),
        lambda: patient.create_treatment_plan(plan(day=11), now=NOW),
        lambda: patient.refer(refer(day=11), now=NOW),
    ):
        expect(Conflict, "command", "open_episode", action)


def test_the_program_is_not_dated_before_the_admission(patient: Patient) -> None:
    before = datetime(2026, 1, 1, 9, 59, tzinfo=UTC).isoformat()
    for action in (
        lambda: patient.assign_primary_therapist(
            cmd("assign_primary_therapist", clinician_id="c-1", occurred_at=before), now=NOW
        ),
        lambda: patient.create_treatment_plan(plan(occurred_at=before), now=NOW),
        lambda: patient.refer(refer(occurred_at=before), now=NOW),
    ):
        expect(RuleViolation, "occurred_at", "after_admission", action)
    patient.create_treatment_plan(plan(occurred_at=at(1)), now=NOW)  # at the admission: fine


def test_the_program_is_not_dated_in_the_future(patient: Patient) -> None:
    later = datetime(2026, 6, 1, 12, 5, 1, tzinfo=UTC).isoformat()
    expect(
        RuleViolation,
        "occurred_at",
        "not_in_future",
        lambda: patient.refer(refer(occurred_at=later), now=NOW),
    )


# -- treatment plans ----------------------------------------------------------------------
def test_a_plan_retry_is_a_duplicate_and_other_content_a_conflict(patient: Patient) -> None:
    assert isinstance(patient.create_treatment_plan(plan(), now=NOW), ce.TreatmentPlanCreated)
    same_instant = plan(occurred_at="2026-01-02T03:00:00-07:00")  # 10:00 UTC, another offset
    assert patient.create_treatment_plan(same_instant, now=NOW) is None
    expect(
        Conflict,
        "plan_id",
        "unique_plan_id",
        lambda: patient.create_treatment_plan(plan(goals=goals("o-1")), now=NOW),
    )
    assert patient.version == 2


def test_plan_content_is_checked_on_its_own() -> None:
    for bad, field, rule in (
        ({"goals": []}, "goals", "too_short"),
        ({"goals": goals("o-1", dimension="spiritual")}, "goals.0.dimension", "catalog_value"),
        ({"goals": goals("o-1", "o-1")}, "goals", "unique_objective_id"),
        ({"goals": [{**goals("o-1")[0], "objectives": []}]}, "goals.0.objectives", "too_short"),
        (
            {"goals": [{**goals("o-1")[0], "description": "x" * 501}]},
            "goals.0.description",
            "string_too_long",
        ),
        (
            {"goals": [{**goals()[0], "objectives": [{"objective_id": "o", "target_date": 5}]}]},
            "goals.0.objectives.0.target_date",
            "iso_date",
        ),
        ({"goals": [{**goals("o-1")[0], "note": "x"}]}, "goals.0.note", "extra_forbidden"),
    ):
        with pytest.raises(InvalidCommand) as caught:
            plan(**bad)
        assert (caught.value.issues[0].field, caught.value.issues[0].rule) == (field, rule)
    with pytest.raises(InvalidCommand):
        plan(goals=[{**goals("o")[0], "goal_id": f"g{i}"} for i in range(21)])


def test_descriptions_are_optional_and_recorded_as_null(patient: Patient) -> None:
    event = patient.create_treatment_plan(plan(), now=NOW)
    assert isinstance(event, ce.TreatmentPlanCreated)
    assert event.goals[0]["description"] is None
    assert event.goals[0]["objectives"][0] == {
        "objective_id": "o-1",
        "target_date": datetime(2026, 2, 1).date(),
        "description": None,
    }


def test_a_review_records_the_outcome_and_objective_statuses(patient: Patient) -> None:
    patient.create_treatment_plan(plan(), now=NOW)
    event = patient.review_treatment_plan(review(9, objectives={"o-1": "met"}), now=NOW)
    assert isinstance(event, ce.TreatmentPlanReviewed)
    assert (event.outcome, event.objectives) == ("continue", {"o-1": "met"})
    bare = patient.review_treatment_plan(review(16, outcome="revise"), now=NOW)
    assert isinstance(bare, ce.TreatmentPlanReviewed) and bare.objectives == {}
    assert patient.review_treatment_plan(review(9, objectives={"o-1": "met"}), now=NOW) is None


def test_a_review_is_of_the_current_plan_after_its_creation(patient: Patient) -> None:
    expect(
        RuleViolation,
        "plan_id",
        "known_plan",
        lambda: patient.review_treatment_plan(review(9), now=NOW),
    )
    patient.create_treatment_plan(plan(), now=NOW)
    patient.create_treatment_plan(plan("plan-2", day=5), now=NOW)
    expect(
        Conflict,
        "plan_id",
        "current_plan",
        lambda: patient.review_treatment_plan(review(9), now=NOW),
    )
    expect(
        RuleViolation,
        "occurred_at",
        "after_plan_creation",
        lambda: patient.review_treatment_plan(review(4, plan_id="plan-2"), now=NOW),
    )
    expect(
        RuleViolation,
        "objectives.o-9",
        "known_objective",
        lambda: patient.review_treatment_plan(
            review(9, plan_id="plan-2", objectives={"o-9": "met"}), now=NOW
        ),
    )
    with pytest.raises(InvalidCommand):
        review(9, objectives={"o-1": "done"})  # not a status


def test_a_plan_of_an_earlier_episode_is_not_current(patient: Patient) -> None:
    patient.create_treatment_plan(plan(), now=NOW)
    discharged(patient, 10)
    expect(
        Conflict,
        "command",
        "open_episode",
        lambda: patient.review_treatment_plan(review(11), now=NOW),
    )
    patient.readmit(cmd("admit", level="iop", occurred_at=at(12)), now=NOW)
    expect(
        Conflict,
        "plan_id",
        "current_plan",
        lambda: patient.review_treatment_plan(review(13), now=NOW),
    )


# -- referrals ----------------------------------------------------------------------------
def test_a_referral_retry_is_a_duplicate_and_other_content_a_conflict(patient: Patient) -> None:
    assert isinstance(patient.refer(refer(), now=NOW), ce.PatientReferred)
    assert patient.refer(refer(), now=NOW) is None
    expect(
        Conflict,
        "referral_id",
        "unique_referral_id",
        lambda: patient.refer(refer(specialty="psychiatry"), now=NOW),
    )
    with pytest.raises(InvalidCommand):
        refer(specialty="astrology")


def test_closing_a_referral(patient: Patient) -> None:
    expect(
        RuleViolation,
        "referral_id",
        "known_referral",
        lambda: patient.close_referral(close(5), now=NOW),
    )
    patient.refer(refer(day=3), now=NOW)
    expect(
        RuleViolation,
        "occurred_at",
        "after_referral",
        lambda: patient.close_referral(close(2), now=NOW),
    )
    assert isinstance(patient.close_referral(close(8), now=NOW), ce.ReferralClosed)
    assert patient.close_referral(close(8), now=NOW) is None  # a retry
    expect(
        Conflict,
        "referral_id",
        "referral_open",
        lambda: patient.close_referral(close(9, outcome="declined"), now=NOW),
    )


def test_a_referral_may_be_closed_after_the_discharge(patient: Patient) -> None:
    patient.refer(refer(day=3), now=NOW)
    discharged(patient, 10)
    assert isinstance(patient.close_referral(close(20), now=NOW), ce.ReferralClosed)


def test_a_discharge_may_not_come_before_a_fact_of_the_program(patient: Patient) -> None:
    patient.refer(refer(day=6), now=NOW)
    expect(
        Conflict,
        "occurred_at",
        "facts_after_discharge",
        lambda: discharged(patient, 5),
    )
    discharged(patient, 6)  # at the referral's instant: fine
