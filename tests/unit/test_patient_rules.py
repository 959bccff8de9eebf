"""Domain rules of SPEC section 4 on the patient aggregate, without any store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from journey import domain_events as ev
from journey.commands import parse_command
from journey.errors import Conflict, JourneyError, RuleViolation
from journey.patient import Patient

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def cmd(kind: str, **fields: Any) -> Any:
    return parse_command({"command": kind, "patient_id": "p-1", **fields})


def at(day: int, hour: int = 10) -> str:
    return datetime(2026, 1, day, hour, tzinfo=UTC).isoformat()


def session(sid: str = "s-1", day: int = 3, **extra: Any) -> Any:
    fields = {
        "session_id": sid,
        "format": "group",
        "approach": "cbt",
        "duration_minutes": 60,
        "occurred_at": at(day),
    }
    return cmd("record_session", **{**fields, **extra})


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


def test_admission_records_one_event_with_the_settings_time_zone(patient: Patient) -> None:
    assert patient.timezone == "UTC" and patient.level == "detox" and patient.version == 1


def test_transition_records_direction(patient: Patient) -> None:
    patient.transition(cmd("transition", to_level="iop", occurred_at=at(4)), now=NOW)
    (event,) = patient.collect_events()
    assert isinstance(event, ev.LevelOfCareChanged)
    assert (event.from_level, event.to_level, event.direction) == ("detox", "iop", "step_down")
    patient.transition(cmd("transition", to_level="2.5", occurred_at=at(5)), now=NOW)
    assert patient.collect_events()[0].direction == "step_up"  # type: ignore[attr-defined]


def test_rules_leave_the_aggregate_untouched(patient: Patient) -> None:
    cases = [
        (
            Conflict,
            "command",
            "no_open_episode",
            lambda: patient.readmit(cmd("admit", level="iop", occurred_at=at(2)), now=NOW),
        ),
        (
            RuleViolation,
            "to_level",
            "new_level",
            lambda: patient.transition(
                cmd("transition", to_level="detox", occurred_at=at(2)), now=NOW
            ),
        ),
        (
            RuleViolation,
            "occurred_at",
            "after_current_stay_start",
            lambda: patient.transition(
                cmd("transition", to_level="iop", occurred_at=at(1, 9)), now=NOW
            ),
        ),
        (
            RuleViolation,
            "occurred_at",
            "after_current_stay_start",
            lambda: patient.discharge(
                cmd("discharge", reason="ama", occurred_at=at(1, 9)), now=NOW
            ),
        ),
        (
            RuleViolation,
            "occurred_at",
            "within_episode",
            lambda: patient.record_session(session(day=1, occurred_at=at(1, 9)), now=NOW),
        ),
        (
            RuleViolation,
            "occurred_at",
            "not_in_future",
            lambda: patient.record_session(
                session(occurred_at=(NOW + timedelta(minutes=6)).isoformat()), now=NOW
            ),
        ),
        (
            RuleViolation,
            "session_id",
            "known_session",
            lambda: patient.void_session(
                cmd("void_session", session_id="nope", reason="x"), now=NOW
            ),
        ),
        (
            RuleViolation,
            "session_id",
            "known_session",
            lambda: patient.correct_session(
                cmd("correct_session", session_id="nope", reason="x", status="no_show"), now=NOW
            ),
        ),
    ]
    for error, field, rule, action in cases:
        expect(error, field, rule, action)
    assert patient.version == 1 and not patient.pending_events


def test_future_within_five_minutes_is_accepted(patient: Patient) -> None:
    assert patient.record_session(
        session(occurred_at=(NOW + timedelta(minutes=4)).isoformat()), now=NOW
    )


def test_session_retry_is_a_duplicate_and_a_clash_is_a_conflict(patient: Patient) -> None:
    assert patient.record_session(session(), now=NOW) is not None
    assert patient.record_session(session(), now=NOW) is None
    assert len(patient.collect_events()) == 1
    expect(
        Conflict,
        "session_id",
        "unique_session_id",
        lambda: patient.record_session(session(duration_minutes=61), now=NOW),
    )


def test_void_then_void_or_correct_again_is_rejected(patient: Patient) -> None:
    patient.record_session(session(), now=NOW)
    patient.void_session(cmd("void_session", session_id="s-1", reason="entered in error"), now=NOW)
    expect(
        RuleViolation,
        "session_id",
        "not_voided",
        lambda: patient.void_session(cmd("void_session", session_id="s-1", reason="x"), now=NOW),
    )
    expect(
        RuleViolation,
        "session_id",
        "not_voided",
        lambda: patient.correct_session(
            cmd("correct_session", session_id="s-1", reason="x", duration_minutes=5), now=NOW
        ),
    )


def test_correction_cannot_move_a_session_outside_every_episode(patient: Patient) -> None:
    patient.record_session(session(), now=NOW)
    patient.discharge(cmd("discharge", reason="completed", occurred_at=at(5)), now=NOW)
    fix = cmd("correct_session", session_id="s-1", reason="wrong day", occurred_at=at(6))
    expect(
        RuleViolation,
        "occurred_at",
        "within_episode",
        lambda: patient.correct_session(fix, now=NOW),
    )
    patient.correct_session(
        cmd("correct_session", session_id="s-1", reason="day", occurred_at=at(5)), now=NOW
    )


def test_after_discharge_only_admission_is_allowed(patient: Patient) -> None:
    patient.discharge(cmd("discharge", reason="completed", occurred_at=at(5)), now=NOW)
    expect(
        Conflict,
        "command",
        "open_episode",
        lambda: patient.transition(cmd("transition", to_level="iop", occurred_at=at(6)), now=NOW),
    )
    expect(
        Conflict,
        "command",
        "open_episode",
        lambda: patient.discharge(cmd("discharge", reason="ama", occurred_at=at(6)), now=NOW),
    )
    expect(
        RuleViolation,
        "occurred_at",
        "within_episode",
        lambda: patient.record_session(session(day=6), now=NOW),
    )
    expect(
        RuleViolation,
        "occurred_at",
        "after_last_discharge",
        lambda: patient.readmit(cmd("admit", level="iop", occurred_at=at(4)), now=NOW),
    )
    expect(
        RuleViolation,
        "timezone",
        "timezone_fixed",
        lambda: patient.readmit(
            cmd("admit", level="iop", occurred_at=at(7), timezone="Europe/Paris"), now=NOW
        ),
    )
    patient.readmit(cmd("admit", level="iop", occurred_at=at(7), timezone="UTC"), now=NOW)
    assert patient.episode_open and patient.level == "iop"
