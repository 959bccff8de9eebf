"""`SessionDecisions` (the bulk import's `record_session`) decides exactly as the
application's `decide_event`: the same events to the byte (chain hashes from the same
canonical content), the same errors, the same aggregate state after each command."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from journey import chain
from journey import domain_events as ev
from journey.application import JourneyApplication
from journey.commands import Admit, Discharge, RecordSession, parse_command
from journey.errors import JourneyError
from journey.patient import Patient
from journey.session_batch import FAST, SessionDecisions

NOW = datetime(2026, 11, 2, tzinfo=UTC)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
PID = "p-1"
BY = "os:importer"


def _session(session_id: str, at: str, **fields: Any) -> RecordSession:
    command = parse_command(
        {
            "command": "record_session",
            "patient_id": PID,
            "session_id": session_id,
            "occurred_at": at,
            "format": "individual",
            "approach": "cbt",
            "duration_minutes": 50,
            **fields,
        }
    )
    assert isinstance(command, RecordSession)
    return command


def _other(command: str, at: str, **fields: Any) -> Any:
    return parse_command({"command": command, "patient_id": PID, "occurred_at": at, **fields})


# every way a session can go: accepted (offsets, microseconds, actors, clinicians, text that
# JSON escapes), a retry, a clash, before admission, after discharge, in an earlier episode,
# in the future, before the earliest instant, an instant beyond UTC's range
COMMANDS: list[Any] = [
    _session("s-1", "2025-01-02T10:00:00+00:00"),
    _session("s-2", "2025-01-02T10:00:00.123456-08:00", actor='dr. Ünal "q" \\ \u2028'),
    _session("s-3", "2025-01-03T00:30:00+05:30", clinician_id="c-9", delivery="video"),
    _session("s-4", "2025-01-03T12:00:00Z", status="no_show", duration_minutes=1),
    _session("s-1", "2025-01-02T12:00:00+02:00"),  # a retry: the same instant, other offset
    _session("s-1", "2025-01-02T10:00:01+00:00"),  # the same id, other content
    _session("s-5", "2024-12-31T23:59:59+00:00"),  # before admission
    _session("s-7", "2026-11-02T00:05:01+00:00"),  # in the future
    _session("s-8", "1999-12-31T23:59:59+00:00"),  # before the earliest
    _session("s-9", "9999-12-31T23:00:00-05:00"),  # beyond UTC's range
    _other("discharge", "2025-02-01T00:00:00+00:00", reason="completed"),
    _session("s-10", "2025-02-01T00:00:00+00:00"),  # at the discharge: in the episode
    _session("s-11", "2025-02-01T00:00:01+00:00"),  # after it
    _other("admit", "2025-03-01T00:00:00+00:00", level="outpatient"),
    _session("s-12", "2025-01-20T09:00:00+01:00"),  # in the earlier episode
    _session("s-13", "2025-03-02T09:00:00-03:00", actor="a", clinician_id="c-1"),
    _session("s-6", "2026-11-02T00:05:00+00:00"),  # within the tolerance
    _session("s-2", "2025-01-02T10:00:00.123456-08:00", actor='dr. Ünal "q" \\ \u2028'),
]


def _outcome(
    app: JourneyApplication,
    patient: Patient,
    command: Any,
    by: str | None,
    fast: SessionDecisions | None = None,
) -> Any:
    """The event's class and values (None: a retry), or the error's class and issues."""
    try:
        if fast is not None and isinstance(command, RecordSession):
            event = fast.decide(patient, command)
        else:
            _, event = app.decide_event(patient, command, NOW, by)
    except JourneyError as error:
        return type(error), error.issues
    return None if event is None else (type(event), event.__dict__)


@pytest.mark.parametrize("by", [BY, None])
@pytest.mark.parametrize("clock", [UTC, timezone(timedelta(hours=2))])
def test_sessions_are_decided_as_the_application_decides_them(
    monkeypatch: pytest.MonkeyPatch, by: str | None, clock: timezone
) -> None:
    recorded = datetime(2026, 11, 2, 12, tzinfo=UTC).astimezone(clock)
    monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", lambda: recorded)
    assert FAST  # the fast path is in use (else this compares the reference with itself)
    app = JourneyApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, earliest_occurred_at=EARLIEST
    )
    admit = _other("admit", "2025-01-01T00:00:00+00:00", level="outpatient")
    assert isinstance(admit, Admit) and isinstance(COMMANDS[10], Discharge)
    reference, _ = app.decide_event(None, admit, NOW, by)
    fast_patient = copy.deepcopy(reference)
    fast = SessionDecisions(NOW, by, EARLIEST)
    one_pass: list[str] = []  # the sessions `record` decided (not handed to the reference)
    record = fast.record

    def counted(patient: Patient, fields: Any, *rest: Any) -> Any:
        values = record(patient, fields, *rest)
        if values is not None:
            one_pass.append(fields["session_id"])
        return values

    monkeypatch.setattr(fast, "record", counted)
    outcomes = []
    for command in COMMANDS:
        expected = _outcome(app, reference, command, by)
        assert _outcome(app, fast_patient, command, by, fast) == expected, command
        assert _state(fast_patient) == _state(reference)
        outcomes.append(expected if expected is None else expected[0].__name__)
    assert outcomes == [
        *["SessionRecorded"] * 4,
        None,
        "Conflict",
        *["RuleViolation"] * 4,
        "PatientDischarged",
        "SessionRecorded",
        "RuleViolation",
        "PatientAdmitted",
        *["SessionRecorded"] * 3,
        None,
    ]
    accepted = [
        c.session_id for c, o in zip(COMMANDS, outcomes, strict=True) if o == "SessionRecorded"
    ]
    assert one_pass == accepted  # every accepted session took the one-pass path
    events = fast_patient.collect_events()
    assert [e.__dict__ for e in events] == [e.__dict__ for e in reference.collect_events()]
    head = chain.GENESIS
    for event in events:  # each hash covers the canonical content of `hashed_form`
        assert event.chain_hash == chain.link(head, event.chain_content())  # type: ignore[attr-defined]
        head = event.chain_hash  # type: ignore[attr-defined]


def _state(patient: Patient) -> dict[str, Any]:
    state = {k: v for k, v in patient.__dict__.items() if k != "_pending_events"}
    state["pending"] = [e.__dict__ for e in patient._pending_events]
    return state


def test_the_canonical_content_is_the_bytes_hashed_form_gives() -> None:
    """Directly: the bytes written from the values and those of `hashed_form`."""
    from journey.session_batch import _canonical_content

    for by in (None, "k:ops"):
        values = {
            "originator_id": "p-\u00e9",
            "originator_version": 7,
            "timestamp": datetime(2026, 1, 1, 1, 2, 3, 4, tzinfo=timezone(timedelta(hours=-3))),
            "actor": None,
            "recorded_by": by,
            "session_id": "s",
            "occurred_at": datetime(2025, 6, 1, 8, tzinfo=timezone(timedelta(hours=9))),
            "format": "group",
            "approach": "mi",
            "duration_minutes": 720,
            "delivery": "in_person",
            "status": "cancelled",
            "clinician_id": None,
        }
        fields = {k: v for k, v in values.items() if not k.startswith("originator")}
        version, hashed = ev.hashed_form(ev.SessionRecorded, fields)
        expected = chain.canonical_content("p-\u00e9", 7, "SessionRecorded", version, hashed)
        at_utc = values["occurred_at"].astimezone(UTC)  # type: ignore[attr-defined]
        assert _canonical_content(values, at_utc) == expected
