"""The command registry: one entry per command of the union, checked when the table is
built (at import), and the application dispatches by it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from journey import domain_events as ev
from journey.application import JourneyApplication
from journey.commands import (
    COMMAND_TYPES,
    REGISTRY,
    Admit,
    Command,
    RecordSession,
    Transition,
    parse_command,
)
from journey.patient import Patient
from journey.registry import CommandSpec, RegistryError, registry_of

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _admit_spec(**changes: Any) -> CommandSpec[Any]:
    fields: dict[str, Any] = {
        "model": Admit,
        "decide": Patient.readmit,
        "records": (ev.PatientAdmitted,),
        "resource": "admissions",
        "summary": "admit",
        **changes,
    }
    return CommandSpec(**fields)


def test_every_command_of_the_union_has_one_entry() -> None:
    assert set(get_args(Command)) == {spec.model for spec in REGISTRY.values()}
    assert {name: spec.model for name, spec in REGISTRY.items()} == COMMAND_TYPES
    for name, spec in REGISTRY.items():
        assert spec.model.model_fields["command"].default == name
        assert all(issubclass(e, ev.PatientEvent) for e in spec.records)


def test_a_command_without_an_entry_fails_when_the_table_is_built() -> None:
    with pytest.raises(RegistryError, match="Transition"):
        registry_of(Admit | Transition, [_admit_spec()])


def test_an_entry_outside_the_union_or_twice_fails() -> None:
    with pytest.raises(RegistryError):
        registry_of(Admit | Transition, [_admit_spec(), _admit_spec(model=RecordSession)])
    with pytest.raises(RegistryError):
        registry_of(Admit, [_admit_spec(), _admit_spec(resource="again")])


def test_an_entry_without_a_decide_method_or_events_fails() -> None:
    with pytest.raises(RegistryError, match="no decide method"):
        registry_of(Admit, [_admit_spec(decide=None)])
    with pytest.raises(RegistryError, match="no decide method or no event"):
        registry_of(Admit, [_admit_spec(records=())])


def test_a_resource_path_names_fields_of_its_command() -> None:
    with pytest.raises(RegistryError, match="plan_id"):
        registry_of(Admit, [_admit_spec(resource="admissions/{plan_id}")])


def test_the_application_returns_the_event_the_handler_recorded() -> None:
    app = JourneyApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    admit = parse_command(
        {
            "command": "admit",
            "patient_id": "p-r",
            "level": "iop",
            "occurred_at": "2026-01-01T10:00:00+00:00",
        }
    )
    patient, event = app.decide_event(None, admit, NOW)
    assert isinstance(event, ev.PatientAdmitted) and patient.version == 1
    session = parse_command(
        {
            "command": "record_session",
            "patient_id": "p-r",
            "session_id": "s-1",
            "format": "group",
            "approach": "cbt",
            "duration_minutes": 60,
            "occurred_at": "2026-01-02T10:00:00+00:00",
        }
    )
    patient, event = app.decide_event(patient, session, NOW)
    assert isinstance(event, ev.SessionRecorded) and event is patient.pending_events[-1]
    assert app.decide_event(patient, session, NOW) == (patient, None)  # a retry: no event
    outcome = app.handle(admit, now=NOW)
    assert outcome.event_type == "PatientAdmitted" and outcome.event_id is not None
