"""End-to-end tests through HTTP: the FastAPI app on a real store (SQLite; PostgreSQL too
when `JOURNEY_TEST_POSTGRES_URL` is set). No mocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from devtools.provision import PG_ENV
from interfaces.api import create_app
from journey.commands import REGISTRY
from services.bootstrap import build_application

PROBLEM = "application/problem+json"
TZ = "America/Phoenix"  # UTC-07:00 all year
P = "/v1/patients"


def at(local: str) -> str:
    return f"{local}-07:00"


def session(session_id: str, when: str, **fields: Any) -> dict[str, Any]:
    body = {
        "session_id": session_id,
        "format": "individual",
        "approach": "cbt",
        "duration_minutes": 60,
        "occurred_at": at(when),
    }
    return body | fields


def admission(when: str = "2026-01-01T10:00:00", level: str = "detox") -> dict[str, Any]:
    return {"level": level, "occurred_at": at(when), "timezone": TZ}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not os.environ.get(PG_ENV), reason=f"{PG_ENV} not set"),
            ],
        ),
    ]
)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/t.db"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


KEYS = "k-clin=dr-a:clinician;k-audit=aud-1:auditor;k-analyst=an-1:analyst;k-svc=intake:service"


def _client(database_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, api_keys=KEYS)
    application = build_application(settings)
    try:
        app = create_app(application, settings)
        with TestClient(app, headers={"X-API-Key": "k-clin"}) as client:
            yield client
    finally:
        application.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(f"sqlite:///{tmp_path}/t.db")


@pytest.fixture
def any_client(any_store: str) -> Iterator[TestClient]:
    yield from _client(any_store)


def post(client: TestClient, pid: str, resource: str, body: Any) -> Any:
    return client.post(f"{P}/{pid}/{resource}", json=body)


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    doc: dict[str, Any] = response.json()
    assert doc["status"] == status
    assert doc["type"].startswith("https://carejourney.org/problems/")
    assert {"title", "detail", "instance", "errors"} <= doc.keys()
    return doc


def fields(doc: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["rule"] for e in doc["errors"]}


def test_main_flow_through_resource_endpoints(any_client: TestClient) -> None:
    c, pid = any_client, "p-001"
    admitted = post(c, pid, "admissions", admission())
    assert admitted.status_code == 201, admitted.text
    assert admitted.json() == {
        "patient_id": pid,
        "command": "admit",
        "status": "accepted",
        "version": 1,
        "event_type": "PatientAdmitted",
        "event_id": admitted.json()["event_id"],
    }
    moved = post(
        c, pid, "transitions", {"to_level": "2.1", "occurred_at": at("2026-01-02T12:00:00")}
    )
    assert moved.status_code == 201
    assert moved.json()["event_type"] == "LevelOfCareChanged"
    assert (
        post(
            c, pid, "sessions", session("s1", "2026-01-02T15:00:00", duration_minutes=120)
        ).status_code
        == 201
    )
    yoga = session("s2", "2026-01-02T17:00:00", format="group", approach="yoga")
    assert post(c, pid, "sessions", yoga).status_code == 201
    assert (
        post(c, pid, "sessions", session("s3", "2026-01-02T18:00:00", status="no_show")).status_code
        == 201
    )
    fixed = post(
        c, pid, "session-corrections", {"session_id": "s3", "reason": "typo", "status": "cancelled"}
    )
    assert fixed.json()["event_type"] == "SessionCorrected"
    voided = post(c, pid, "session-voids", {"session_id": "s3", "reason": "wrong patient"})
    assert voided.json()["event_type"] == "SessionEnteredInError"
    discharged = post(
        c, pid, "discharges", {"occurred_at": at("2026-01-03T09:00:00"), "reason": "completed"}
    )
    assert discharged.status_code == 201
    assert discharged.json()["version"] == 8

    journey = c.get(f"{P}/{pid}/journey", params={"as_of": "2026-02-01T00:00:00+00:00"}).json()
    assert journey["status"] == "discharged"
    assert journey["timezone"] == TZ
    assert journey["days_in_care"] == 2
    assert journey["days_by_level"] == {
        "detox": 1,
        "inpatient": 0,
        "php": 0,
        "iop": 1,
        "outpatient": 0,
    }
    assert [s["level"] for s in journey["episodes"][0]["stays"]] == ["detox", "iop"]
    (week,) = journey["weeks"]
    assert week["week"] == "2026-W01"
    assert week["start_date"] == "2025-12-29"
    assert {k: v for k, v in week["level_days"].items() if v} == {"detox": 1, "iop": 1}
    assert (week["attended_hours"], week["other_hours"], week["individual_sessions"]) == (
        2.0,
        1.0,
        1,
    )
    assert week["expected_min_hours"] == 1.29  # one IOP date: 9 / 7
    assert week["expected_max_hours"] is None  # detox defines no maximum
    assert (week["status"], week["complete"]) == ("within_range", False)
    assert journey["sessions"] == {
        "attended": 2,
        "no_show": 0,
        "cancelled": 0,
        "voided": 1,
        "attendance_rate": 1.0,
    }

    history = c.get(f"{P}/{pid}/history").json()
    assert history["patient_id"] == pid
    assert [e["version"] for e in history["events"]] == list(range(1, 9))
    assert history["events"][1]["payload"] == {
        "type": "LevelOfCareChanged",
        "from_level": "detox",
        "to_level": "iop",
        "asam_code": "2.1",  # as entered
        "direction": "step_down",
        "reason": None,
    }


def test_journey_as_of_mid_episode(client: TestClient) -> None:
    post(client, "p-1", "admissions", admission())
    post(
        client, "p-1", "transitions", {"to_level": "iop", "occurred_at": at("2026-01-02T12:00:00")}
    )
    # `+` left unencoded in the query string arrives as a space; the offset is restored.
    view = client.get(f"{P}/p-1/journey?as_of=2026-01-02T13:00:00-07:00").json()
    assert (view["status"], view["current_level"], view["days_in_care"]) == ("active", "iop", 1)
    plus = client.get(f"{P}/p-1/journey?as_of=2026-01-02T20:00:00+00:00").json()
    assert plus["as_of"] == "2026-01-02T20:00:00+00:00"


def test_duplicate_session_is_200_and_stored_once(client: TestClient) -> None:
    post(client, "p-1", "admissions", admission())
    first = post(client, "p-1", "sessions", session("s1", "2026-01-01T12:00:00"))
    again = post(client, "p-1", "sessions", session("s1", "2026-01-01T12:00:00"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["status"] == "duplicate"
    assert again.json()["event_id"] is None
    events = client.get(f"{P}/p-1/history").json()["events"]
    assert [e["payload"]["type"] for e in events] == ["PatientAdmitted", "SessionRecorded"]


def test_conflicting_session_id_is_409(client: TestClient) -> None:
    post(client, "p-1", "admissions", admission())
    post(client, "p-1", "sessions", session("s1", "2026-01-01T12:00:00"))
    doc = problem(
        post(client, "p-1", "sessions", session("s1", "2026-01-01T12:00:00", duration_minutes=90)),
        409,
    )
    assert "session_id" in fields(doc)
    assert doc["instance"] == f"{P}/p-1/sessions"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (session("s1", "2026-01-01T12:00:00", colour="red"), "colour", "extra_forbidden"),
        (session("s1", "2026-01-01T12:00:00", format="solo"), "format", "catalog_value"),
        (
            session("s1", "2026-01-01T12:00:00", duration_minutes=0),
            "duration_minutes",
            "greater_than_equal",
        ),
        (
            session("s1", "2026-01-01T12:00:00") | {"occurred_at": "2026-01-01T12:00:00"},
            "occurred_at",
            "timezone_aware",
        ),
        (session("s1", "2026-01-01T12:00:00", patient_id="p-2"), "patient_id", "extra_forbidden"),
        ([1, 2], "body", "object_type"),
    ],
)
def test_invalid_session_is_422_naming_the_field(
    client: TestClient, body: Any, field: str, rule: str
) -> None:
    post(client, "p-1", "admissions", admission())
    doc = problem(post(client, "p-1", "sessions", body), 422)
    assert fields(doc) == {field: rule}
    assert doc["type"] == f"https://carejourney.org/problems/{rule}"
    assert len(client.get(f"{P}/p-1/history").json()["events"]) == 1


def test_unknown_level_lists_valid_values(client: TestClient) -> None:
    doc = problem(post(client, "p-1", "admissions", admission(level="spa")), 422)
    assert fields(doc) == {"level": "catalog_value"}
    assert "detox" in doc["errors"][0]["message"]
    problem(client.get(f"{P}/p-1/history"), 404)  # nothing stored


def test_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        f"{P}/p-1/admissions", content=b'{"level": ', headers={"content-type": "application/json"}
    )
    assert fields(problem(response, 422)) == {"body": "json_invalid"}


def test_bad_patient_id_in_path_is_422(client: TestClient) -> None:
    assert fields(problem(post(client, "a%20b", "admissions", admission()), 422)) == {
        "patient_id": "string_pattern_mismatch"
    }
    assert fields(problem(client.get(f"{P}/{'x' * 65}/journey"), 422)) == {
        "patient_id": "string_pattern_mismatch"
    }


def test_transition_on_unknown_patient_is_404(client: TestClient) -> None:
    doc = problem(
        post(
            client,
            "ghost",
            "transitions",
            {"to_level": "iop", "occurred_at": at("2026-01-02T12:00:00")},
        ),
        404,
    )
    assert fields(doc) == {"patient_id": "known_patient"}
    problem(client.get(f"{P}/ghost/journey"), 404)
    problem(client.get(f"{P}/ghost/history"), 404)


def test_admit_while_open_is_409(client: TestClient) -> None:
    post(client, "p-1", "admissions", admission())
    doc = problem(post(client, "p-1", "admissions", admission("2026-01-02T10:00:00")), 409)
    assert doc["errors"]


def test_batch_reports_each_command(client: TestClient) -> None:
    def cmd(command: str, pid: str, **fields: Any) -> dict[str, Any]:
        return {"command": command, "patient_id": pid, **fields}

    batch = [
        cmd("admit", "p-b", **admission()),
        cmd("record_session", "p-b", **session("s1", "2026-01-01T12:00:00")),
        cmd("record_session", "p-b", **session("s1", "2026-01-01T12:00:00")),
        cmd("transition", "p-b", to_level="detox", occurred_at=at("2026-01-02T10:00:00")),
        cmd("admit", "p-c", **admission(level="spa")),
        cmd("discharge", "p-d", occurred_at=at("2026-01-02T10:00:00"), reason="completed"),
        "not a command",
        cmd("discharge", "p-b", occurred_at=at("2026-01-03T09:00:00"), reason="ama"),
    ]
    response = client.post("/v1/commands", json=batch)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == [
        "accepted",
        "accepted",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
    ]
    assert [r["index"] for r in body["results"]] == list(range(len(batch)))
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (3, 1, 4)
    rejected = {r["index"]: r["problem"] for r in body["results"] if r["status"] == "rejected"}
    assert [rejected[i]["status"] for i in (3, 4, 5)] == [422, 422, 404]
    assert fields(rejected[4]) == {"level": "catalog_value"}
    assert rejected[3]["instance"] == "/v1/commands#/3"
    assert all(body["results"][i]["outcome"] is None for i in rejected)
    assert body["results"][7]["outcome"]["version"] == 3

    events = client.get(f"{P}/p-b/history").json()["events"]
    assert [e["payload"]["type"] for e in events] == [
        "PatientAdmitted",
        "SessionRecorded",
        "PatientDischarged",
    ]
    problem(client.get(f"{P}/p-c/history"), 404)
    problem(client.get(f"{P}/p-d/history"), 404)


@pytest.mark.parametrize("body", ['{"command": "admit"}', '"admit"', "null"])
def test_batch_must_be_an_array(client: TestClient, body: str) -> None:
    response = client.post(
        "/v1/commands", content=body, headers={"content-type": "application/json"}
    )
    assert fields(problem(response, 422)) == {"body": "list_type"}


def test_known_at_hides_later_events(client: TestClient) -> None:
    post(client, "p-1", "admissions", admission())
    first = client.get(f"{P}/p-1/history").json()["events"][0]
    post(client, "p-1", "sessions", session("s1", "2026-01-01T12:00:00"))
    known_at = first["recorded_at"]

    then = client.get(f"{P}/p-1/history", params={"known_at": known_at}).json()
    assert [e["event_id"] for e in then["events"]] == [first["event_id"]]
    view = client.get(f"{P}/p-1/journey", params={"known_at": known_at}).json()
    assert view["sessions"]["attended"] == 0
    assert view["known_at"] is not None
    assert client.get(f"{P}/p-1/journey").json()["sessions"]["attended"] == 1


@pytest.mark.parametrize("param", ["as_of", "known_at"])
def test_naive_query_timestamp_is_422(client: TestClient, param: str) -> None:
    post(client, "p-1", "admissions", admission())
    response = client.get(f"{P}/p-1/journey", params={param: "2026-01-02T00:00:00"})
    assert fields(problem(response, 422)) == {param: "timezone_aware"}


def test_every_error_is_problem_json(client: TestClient) -> None:
    problem(client.get("/v1/nowhere"), 404)
    assert problem(client.delete("/healthz"), 405)["instance"] == "/healthz"


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    doc = client.get("/openapi.json").json()
    resources = [spec.resource for spec in REGISTRY.values()]
    assert {f"{P}/{{patient_id}}/{r}" for r in (*resources, "journey", "history")} | {
        "/v1/commands",
        "/healthz",
    } <= doc["paths"].keys()
    for spec in REGISTRY.values():  # one POST per command, named after it
        post = doc["paths"][f"{P}/{{patient_id}}/{spec.resource}"]["post"]
        assert post["operationId"] == spec.name
        assert {p["name"] for p in post["parameters"]} == {"patient_id", *spec.path_fields}
    schemas = doc["components"]["schemas"]
    body = schemas["RecordSessionBody"]
    assert "patient_id" not in body["properties"]
    assert "command" not in body["properties"]
    assert {"session_id", "duration_minutes", "occurred_at"} <= set(body["required"])
    assert "cbt" in body["properties"]["approach"]["enum"]
    admit = doc["paths"][f"{P}/{{patient_id}}/admissions"]["post"]
    assert admit["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AdmitBody"
    }
    assert PROBLEM in admit["responses"]["409"]["content"]
    refs = [
        r["$ref"].rsplit("/", 1)[1]
        for r in doc["paths"]["/v1/commands"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["items"]["oneOf"]
    ]
    assert all(name in schemas for name in refs)
    assert client.get("/docs").status_code == 200
