"""The resource command endpoints' lean path (interfaces/api/routes_commands.py): each request
solves only its body and its caller, and the answers and the OpenAPI document are those the
routes gave when they depended on the key schemes, the group writer and a response model."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app, routes_commands, security
from interfaces.api.deps import json_object
from interfaces.api.schemas import OutcomeOut
from journey.application import JourneyApplication
from journey.commands import REGISTRY

KEYS = "k-clin=dr-a:clinician;k-audit=aud-1:auditor"
ADMIT = {"level": "detox", "occurred_at": "2026-01-01T10:00:00+00:00", "timezone": "UTC"}
SESSION = {
    "session_id": "s-1",
    "format": "individual",
    "approach": "cbt",
    "duration_minutes": 50,
    "occurred_at": "2026-01-02T10:00:00+00:00",
}


def calls(dependant: Dependant) -> list[Any]:
    """Every dependency a request to the route solves, depth first."""
    return [c for d in dependant.dependencies for c in (d.call, *calls(d))]


def test_resource_endpoints_solve_only_the_body_and_the_caller() -> None:
    routes = [r for r in routes_commands.router.routes if isinstance(r, APIRoute)]
    resources = [r for r in routes if r.path != "/v1/commands"]
    assert len(resources) == len(REGISTRY)
    for route in resources:
        solved = calls(route.dependant)
        assert len(solved) == 2, (route.path, solved)
        assert solved[0] is json_object  # the body first: its errors come before a 403
        assert not any(isinstance(c, SecurityBase) for c in solved)


def _openapi(db: Path) -> dict[str, Any]:
    settings = Settings(database_url=f"sqlite:///{db}", api_keys=KEYS)
    app = create_app(settings=settings)
    with TestClient(app) as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
        return document


def test_openapi_document_as_with_the_key_schemes_as_dependencies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lean = _openapi(tmp_path / "lean.db")
    # the routes as they were: depending on the key schemes (FastAPI documents them)
    monkeypatch.setattr(security, "authorized", security.require)
    monkeypatch.setattr(security, "SECURITY_REQUIREMENT", [])
    try:
        importlib.reload(routes_commands)
        documented = _openapi(tmp_path / "documented.db")
    finally:
        monkeypatch.undo()
        importlib.reload(routes_commands)
    assert lean == documented  # the same keys and values (JSON objects are unordered)
    operations = [o for path in lean["paths"].values() for o in path.values()]
    posts = [o for o in operations if o.get("operationId") in REGISTRY]
    assert len(posts) == len(REGISTRY)
    for operation in posts:
        assert operation["security"] == [{"ApiKey": []}, {"Bearer": []}]


@pytest.fixture
def served(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> Iterator[tuple[TestClient, JourneyApplication]]:
    application = make_app()
    settings = Settings(database_url=store_url, api_keys=KEYS)
    with TestClient(create_app(application, settings)) as test_client:
        yield test_client, application


def _as_fastapi_serialized(outcome: dict[str, Any], status: int) -> JSONResponse:
    """What FastAPI answered for the route's `response_model=OutcomeOut`."""
    model = OutcomeOut.model_validate(outcome)
    return JSONResponse(jsonable_encoder(model), status_code=status)


def _outcome(command: str, version: int, event: Any = None) -> dict[str, Any]:
    """The outcome of a command, from what the store holds (None: a duplicate)."""
    return {
        "patient_id": "p-1",
        "command": command,
        "status": "duplicate" if event is None else "accepted",
        "version": version,
        "event_type": None if event is None else event.type,
        "event_id": None if event is None else event.event_id,
    }


def test_answers_byte_for_byte_and_rules_kept(
    served: tuple[TestClient, JourneyApplication],
) -> None:
    client, application = served
    headers = {"X-API-Key": "k-clin"}
    admitted = client.post("/v1/patients/p-1/admissions", json=ADMIT, headers=headers)
    stored = client.post("/v1/patients/p-1/sessions", json=SESSION, headers=headers)
    again = client.post("/v1/patients/p-1/sessions", json=SESSION, headers=headers)
    first, second = application.history("p-1")
    answers = (
        (admitted, _outcome("admit", 1, first), 201),
        (stored, _outcome("record_session", 2, second), 201),
        (again, _outcome("record_session", 2), 200),
    )
    for answer, outcome, status in answers:
        expected = _as_fastapi_serialized(outcome, status)
        assert answer.status_code == status
        assert answer.content == expected.body
        assert answer.headers["content-type"] == expected.headers["content-type"]
        assert answer.headers["content-length"] == expected.headers["content-length"]
    assert again.json()["status"] == "duplicate" and again.json()["event_id"] is None
    # the caller's role, then the URL's patient id, then the body's rules, as before
    forbidden = client.post(
        "/v1/patients/p-1/sessions", json=SESSION, headers={"X-API-Key": "k-audit"}
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["errors"][0]["rule"] == "permission"
    bad_json = client.post(
        "/v1/patients/p-1/sessions", content=b"{", headers={**headers, "X-API-Key": "k-audit"}
    )
    assert bad_json.status_code == 422  # the body is read before the role is checked
    assert bad_json.json()["errors"][0]["rule"] == "json_invalid"
    bad_id = client.post("/v1/patients/p%201/sessions", json=SESSION, headers=headers)
    assert bad_id.status_code == 422
    assert bad_id.json()["errors"][0]["field"] == "patient_id"
    unknown = client.post("/v1/patients/p-2/sessions", json=SESSION, headers=headers)
    assert unknown.status_code == 404
    # no key, or a key nobody was given: 401, and nothing stored
    for anonymous in ({}, {"X-API-Key": "k-guessed"}, {"Authorization": "Bearer k-guessed"}):
        refused = client.post("/v1/patients/p-1/sessions", json=SESSION, headers=anonymous)
        assert refused.status_code == 401, anonymous
    assert len(application.history("p-1")) == 2
