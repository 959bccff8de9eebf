"""The clinical program's resource endpoints and the batch endpoint, through HTTP: 201 for
an accepted command, 200 for a retry, 409 and 422 problems naming the field and the rule,
the path's ids taken from the URL, and the history showing the new events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_http_api import P, _client, admission, at

PROBLEM = "application/problem+json"
PLAN = {
    "plan_id": "plan-1",
    "occurred_at": at("2026-01-02T10:00:00"),
    "goals": [
        {
            "goal_id": "g-1",
            "dimension": "readiness_to_change",
            "objectives": [{"objective_id": "o-1", "target_date": "2026-01-16"}],
        }
    ],
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(f"sqlite:///{tmp_path}/t.db")


def rule(response: Any, status: int) -> tuple[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    issue = response.json()["errors"][0]
    return issue["field"], issue["rule"]


def test_the_program_through_its_resources(client: TestClient) -> None:
    assert client.post(f"{P}/p-1/admissions", json=admission()).status_code == 201
    therapist = {"clinician_id": "c-1", "occurred_at": at("2026-01-01T11:00:00")}
    assigned = client.post(f"{P}/p-1/primary-therapist", json=therapist)
    assert assigned.status_code == 201
    assert assigned.json()["event_type"] == "PrimaryTherapistAssigned"
    again = client.post(f"{P}/p-1/primary-therapist", json=therapist)
    assert rule(again, 409) == ("clinician_id", "already_primary")

    assert client.post(f"{P}/p-1/treatment-plans", json=PLAN).status_code == 201
    assert client.post(f"{P}/p-1/treatment-plans", json=PLAN).status_code == 200  # a retry
    other = {**PLAN, "occurred_at": at("2026-01-03T10:00:00")}
    assert rule(client.post(f"{P}/p-1/treatment-plans", json=other), 409) == (
        "plan_id",
        "unique_plan_id",
    )
    review = {"occurred_at": at("2026-01-09T10:00:00"), "outcome": "continue"}
    reviewed = client.post(f"{P}/p-1/treatment-plans/plan-1/reviews", json=review)
    assert reviewed.status_code == 201 and reviewed.json()["event_type"] == "TreatmentPlanReviewed"
    unknown = client.post(
        f"{P}/p-1/treatment-plans/plan-1/reviews",
        json={**review, "objectives": {"o-2": "met"}},
    )
    assert rule(unknown, 422) == ("objectives.o-2", "known_objective")
    in_body = client.post(
        f"{P}/p-1/treatment-plans/plan-1/reviews", json={**review, "plan_id": "plan-1"}
    )
    assert rule(in_body, 422) == ("plan_id", "extra_forbidden")

    referral = {
        "referral_id": "r-1",
        "specialty": "psychiatry",
        "occurred_at": at("2026-01-04T10:00:00"),
    }
    assert client.post(f"{P}/p-1/referrals", json=referral).status_code == 201
    closure = {"occurred_at": at("2026-01-03T10:00:00"), "outcome": "completed"}
    early = client.post(f"{P}/p-1/referrals/r-1/closure", json=closure)
    assert rule(early, 422) == ("occurred_at", "after_referral")
    closure["occurred_at"] = at("2026-01-08T10:00:00")
    assert client.post(f"{P}/p-1/referrals/r-1/closure", json=closure).status_code == 201
    assert client.post(f"{P}/p-1/referrals/r-1/closure", json=closure).status_code == 200
    bad = client.post(f"{P}/p-1/referrals/r-1/closure", json={**closure, "outcome": "done"})
    assert rule(bad, 422) == ("outcome", "catalog_value")
    assert "completed" in bad.json()["errors"][0]["message"]  # the valid values are listed

    history = client.get(f"{P}/p-1/history").json()["events"]
    assert [e["payload"]["type"] for e in history] == [
        "PatientAdmitted",
        "PrimaryTherapistAssigned",
        "TreatmentPlanCreated",
        "TreatmentPlanReviewed",
        "PatientReferred",
        "ReferralClosed",
    ]
    assert history[2]["payload"]["goals"][0]["objectives"][0]["target_date"] == "2026-01-16"


def test_the_program_in_a_batch(client: TestClient) -> None:
    commands = [
        {"command": "admit", "patient_id": "p-2", **admission()},
        {"command": "create_treatment_plan", "patient_id": "p-2", **PLAN},
        {
            "command": "refer",
            "patient_id": "p-2",
            "referral_id": "r-1",
            "specialty": "housing_social",
            "occurred_at": at("2026-01-02T11:00:00"),
        },
        {
            "command": "close_referral",
            "patient_id": "p-2",
            "referral_id": "r-9",
            "outcome": "declined",
            "occurred_at": at("2026-01-03T11:00:00"),
        },
        {
            "command": "assign_primary_therapist",
            "patient_id": "p-2",
            "clinician_id": "c-2",
            "occurred_at": at("2025-12-31T11:00:00"),
        },
    ]
    body = client.post("/v1/commands", json=commands).json()
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "accepted",
        "accepted",
        "rejected",
        "rejected",
    ]
    assert body["results"][3]["problem"]["errors"][0]["rule"] == "known_referral"
    assert body["results"][4]["problem"]["errors"][0]["rule"] == "after_admission"


def test_the_openapi_document_lists_the_program(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    review = doc["paths"][f"{P}/{{patient_id}}/treatment-plans/{{plan_id}}/reviews"]["post"]
    assert {p["name"] for p in review["parameters"]} == {"patient_id", "plan_id"}
    schemas = doc["components"]["schemas"]
    body = schemas["ReviewTreatmentPlanBody"]
    assert "plan_id" not in body["properties"] and "patient_id" not in body["properties"]
    assert "revise" in body["properties"]["outcome"]["enum"]
    assert "trauma" in schemas["ReferBody"]["properties"]["specialty"]["enum"]


def test_descriptions_never_reach_the_access_trail(tmp_path: Path) -> None:
    described = {
        **PLAN,
        "goals": [{**PLAN["goals"][0], "description": "secret-goal-text"}],  # type: ignore[index]
    }
    for client in _client(f"sqlite:///{tmp_path}/t.db"):
        assert client.post(f"{P}/p-3/admissions", json=admission()).status_code == 201
        assert client.post(f"{P}/p-3/treatment-plans", json=described).status_code == 201
        history = client.get(f"{P}/p-3/history?known_at=2200-01-01T00:00:00%2B00:00")
        assert "secret-goal-text" in history.text  # the record shows it to a clinician
        trail = client.get("/v1/access-log", headers={"X-API-Key": "k-audit"})
        assert trail.status_code == 200 and "p-3" in trail.text
        assert "secret-goal-text" not in trail.text
