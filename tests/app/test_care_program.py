"""The clinical program's commands on the real stores (SQLite and PostgreSQL): one event per
accepted command, nothing stored for a rejection, retries reported as duplicates (also by
an application opened later, which rebuilds the state from the store), the bulk import
storing the normal path's bytes, and a snapshot written by main (dba9df2, state version 2)
rebuilt from its events."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from audit.verify import verify_log, verify_patient
from config.settings import Settings
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.errors import Conflict, RuleViolation
from journey.patient import STATE_VERSION, Patient
from services.bootstrap import build_application
from services.bulk.importer import bulk_import_lines
from services.importing import import_lines
from tests.app.bulk_support import NOW as BULK_NOW
from tests.app.bulk_support import Opener, Stores, log_rows

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SNAPSHOT_STORE = Path(__file__).resolve().parent.parent / "fixtures" / "main_dba9df2_snapshot"
PROGRAM: list[dict[str, Any]] = [
    {
        "command": "admit",
        "level": "iop",
        "occurred_at": "2026-01-05T09:00:00-07:00",
        "timezone": "America/Phoenix",
    },
    {
        "command": "assign_primary_therapist",
        "clinician_id": "c-1",
        "occurred_at": "2026-01-05T10:00:00-07:00",
    },
    {
        "command": "create_treatment_plan",
        "plan_id": "plan-1",
        "occurred_at": "2026-01-06T10:00:00-07:00",
        "goals": [
            {
                "goal_id": "g-1",
                "dimension": "relapse_potential",
                "description": "name triggers",
                "objectives": [
                    {"objective_id": "o-1", "target_date": "2026-01-20"},
                    {
                        "objective_id": "o-2",
                        "target_date": "2026-02-03",
                        "description": "a plan for weekends",
                    },
                ],
            }
        ],
    },
    {
        "command": "review_treatment_plan",
        "plan_id": "plan-1",
        "outcome": "continue",
        "occurred_at": "2026-01-13T10:00:00-07:00",
        "objectives": {"o-1": "in_progress"},
    },
    {
        "command": "refer",
        "referral_id": "r-1",
        "specialty": "trauma",
        "to_clinician_id": "c-9",
        "occurred_at": "2026-01-07T10:00:00-07:00",
    },
    {
        "command": "close_referral",
        "referral_id": "r-1",
        "outcome": "completed",
        "occurred_at": "2026-01-21T10:00:00-07:00",
    },
]


def cmd(raw: dict[str, Any], pid: str = "p-1") -> Any:
    return parse_command({**raw, "patient_id": pid})


def test_the_program_is_stored_and_read_back(make_app: Callable[..., JourneyApplication]) -> None:
    app = make_app()
    outcomes = [app.handle(cmd(raw), now=NOW) for raw in PROGRAM]
    assert [o.event_type for o in outcomes] == [
        "PatientAdmitted",
        "PrimaryTherapistAssigned",
        "TreatmentPlanCreated",
        "TreatmentPlanReviewed",
        "PatientReferred",
        "ReferralClosed",
    ]
    history = app.history("p-1")
    plan = history[2]
    assert plan.schema_version == 1 and plan.payload.model_dump(mode="json") == {
        "type": "TreatmentPlanCreated",
        "plan_id": "plan-1",
        "goals": [
            {
                "goal_id": "g-1",
                "dimension": "relapse_potential",
                "description": "name triggers",
                "objectives": [
                    {"objective_id": "o-1", "target_date": "2026-01-20", "description": None},
                    {
                        "objective_id": "o-2",
                        "target_date": "2026-02-03",
                        "description": "a plan for weekends",
                    },
                ],
            }
        ],
    }
    assert history[1].payload.model_dump() == {
        "type": "PrimaryTherapistAssigned",
        "clinician_id": "c-1",
        "previous_clinician_id": None,
    }
    assert history[3].payload.model_dump()["objectives"] == {"o-1": "in_progress"}
    later = make_app()  # the state comes back from the store: retries are still duplicates
    fresh = later.load_patient("p-1")
    assert fresh is not None
    assert fresh.plans["plan-1"]["objectives"] == ["o-1", "o-2"]
    assert [later.handle(cmd(raw), now=NOW).status for raw in PROGRAM[2:]] == ["duplicate"] * 4
    with pytest.raises(Conflict):
        later.handle(cmd(PROGRAM[1]), now=NOW)  # already the primary therapist
    with pytest.raises(RuleViolation):
        later.handle(cmd({**PROGRAM[3], "objectives": {"o-7": "met"}}), now=NOW)
    assert len(later.history("p-1")) == 6 and verify_patient(later, "p-1").ok


def test_target_dates_come_back_as_dates(make_app: Callable[..., JourneyApplication]) -> None:
    app = make_app()
    for raw in PROGRAM[:3]:
        app.handle(cmd(raw), now=NOW)
    payload: Any = make_app().history("p-1")[2].payload
    assert payload.goals[0]["objectives"][0]["target_date"] == date(2026, 1, 20)


@pytest.mark.usefixtures("frozen_clock")
def test_the_bulk_import_stores_the_normal_paths_bytes(
    two_stores: Stores, open_app: Opener
) -> None:
    lines = [json.dumps({**raw, "patient_id": pid}) for pid in ("p-1", "p-2") for raw in PROGRAM]
    lines.append(json.dumps({**PROGRAM[2], "patient_id": "p-1"}))  # a retry
    normal_url, bulk_url = two_stores
    normal = open_app(normal_url)
    report = import_lines(normal, lines, now=BULK_NOW)
    assert report.applied and not report.rejected, report.summary()
    bulk = bulk_import_lines(
        lines, settings=Settings(database_url=bulk_url), workers=0, now=BULK_NOW
    )
    assert bulk.applied and bulk.duplicates == 1, bulk.summary()
    assert log_rows(open_app(bulk_url)) == log_rows(normal)
    assert verify_log(open_app(bulk_url)).ok


def test_a_snapshot_of_main_is_rebuilt_with_the_program(tmp_path: Path) -> None:
    shutil.copy(SNAPSHOT_STORE / "store.db", tmp_path / "store.db")
    app = build_application(Settings(database_url=f"sqlite:///{tmp_path}/store.db"))
    try:
        assert app.snapshots is not None
        (snapshot,) = app.snapshots.get("p-snap")
        assert snapshot.state["state_version"] == 2 < STATE_VERSION
        patient = app.load_patient("p-snap")
        assert isinstance(patient, Patient) and patient.version == 200
        assert (patient.plans, patient.referrals, patient.assignments) == ({}, {}, [])
        for raw in PROGRAM[1:]:
            assert app.handle(cmd(raw, "p-snap"), now=NOW).status == "accepted"
        assert verify_patient(app, "p-snap").ok
    finally:
        app.close()
