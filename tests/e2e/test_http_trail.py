"""Over HTTP, every attempt to read patient-level data is in the access trail with its real
outcome (refused ones included, a 500 as `error`), on SQLite and PostgreSQL; every 401
says how to authenticate and the OpenAPI document declares the key schemes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app
from services.bootstrap import build_application
from tests.audit.test_tamper_evidence import raw

KEYS = "k-clin=dr-a:clinician;k-audit=aud-1:auditor;k-an=an-1:analyst;k-svc=svc-intake:service"
ADMIT = {"level": "detox", "occurred_at": "2026-01-01T10:00:00Z"}


def as_(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=store_url, api_keys=KEYS)
    application = build_application(settings)
    app = create_app(application, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    application.close()


def trail(client: TestClient) -> list[tuple[Any, ...]]:
    rows = client.get("/v1/access-log", headers=as_("k-audit")).json()
    return [(r["actor"], r["action"], r["patient_id"], r["outcome"]) for r in reversed(rows)]


def test_refused_and_failed_reads_are_recorded_with_their_outcome(
    client: TestClient, store_url: str
) -> None:
    for patient in ("p-1", "p-2"):
        admitted = client.post(
            f"/v1/patients/{patient}/admissions", json=ADMIT, headers=as_("k-clin")
        )
        assert admitted.is_success
    attempts = [
        ("/v1/patients/p-1/journey", {}, 401),
        ("/v1/patients/p-1/history", as_("wrong"), 401),
        ("/v1/patients/p-1/journey", as_("k-an"), 403),
        ("/v1/patients/p-1/journey?as_of=yesterday", as_("k-clin"), 422),
        ("/v1/patients/bad%20id!/history", as_("k-clin"), 422),
        ("/v1/patients/nobody/history", as_("k-clin"), 404),
        ("/v1/patients/p-1/history", as_("k-clin"), 200),
    ]
    for path, headers, status in attempts:
        assert client.get(path, headers=headers).status_code == status, path
    with raw(store_url) as (conn, table, _):
        conn.execute(f"UPDATE {table} SET state = {_garbage(store_url)}")
    assert client.get("/v1/patients/p-2/history", headers=as_("k-clin")).status_code == 500
    assert trail(client) == [
        ("(no API key)", "journey.read", "p-1", "unauthenticated"),
        ("(unknown API key)", "history.read", "p-1", "unauthenticated"),
        ("an-1", "journey.read", "p-1", "forbidden"),
        ("dr-a", "journey.read", "p-1", "invalid"),
        ("dr-a", "history.read", "bad id!", "invalid"),
        ("dr-a", "history.read", "nobody", "not_found"),
        ("dr-a", "history.read", "p-1", "ok"),
        ("dr-a", "history.read", "p-2", "error"),
    ]
    assert client.get("/v1/access-log?patient_id=p-1", headers=as_("k-clin")).status_code == 403
    last = client.get("/v1/access-log?limit=1", headers=as_("k-audit")).json()[0]
    assert (last["actor"], last["patient_id"], last["outcome"]) == ("dr-a", "p-1", "forbidden")


def _garbage(store_url: str) -> str:
    return "X'00ff'" if store_url.startswith("sqlite") else "'\\x00ff'::bytea"


def test_history_shows_who_recorded_each_event(client: TestClient) -> None:
    body = {**ADMIT, "actor": "admin-eve"}
    assert client.post("/v1/patients/p-1/admissions", json=body, headers=as_("k-svc")).is_success
    batch = [{"command": "admit", "patient_id": "p-2", **ADMIT}]
    assert client.post("/v1/commands", json=batch, headers=as_("k-clin")).is_success
    events = [
        client.get(f"/v1/patients/{p}/history", headers=as_("k-audit")).json()["events"][0]
        for p in ("p-1", "p-2")
    ]
    assert [(e["actor"], e["recorded_by"]) for e in events] == [
        ("admin-eve", "svc-intake"),
        ("dr-a", "dr-a"),
    ]


def test_every_401_says_how_to_authenticate(client: TestClient) -> None:
    for method, path in (("GET", "/v1/patients/p-1/journey"), ("POST", "/v1/commands")):
        answer = client.request(method, path, headers=as_("nope"))
        assert answer.status_code == 401
        challenge = answer.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer realm="care-journey"') and "X-API-Key" in challenge


def test_openapi_declares_the_key_schemes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "an API key",
    }
    assert schemes["Bearer"]["type"] == "http" and schemes["Bearer"]["scheme"] == "bearer"
    operations = [op for item in document["paths"].values() for op in item.values()]
    secured = [op["operationId"] for op in operations if "security" in op]
    assert {"patient_journey", "patient_history", "submit_commands", "admit"} <= set(secured)
    journey = document["paths"]["/v1/patients/{patient_id}/journey"]["get"]
    assert {"ApiKey": []} in journey["security"] and {"Bearer": []} in journey["security"]
