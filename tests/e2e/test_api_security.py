"""API keys, roles and the access trail, on a real store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app
from services.bootstrap import build_application

KEYS = "k-clin=dr-a:clinician;k-audit=aud-1:auditor;k-analyst=an-1:analyst;k-svc=intake:service"
ADMIT = {"level": "detox", "occurred_at": "2026-01-01T10:00:00Z"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path}/s.db"
    settings = Settings(database_url=url, api_keys=KEYS)
    application = build_application(settings)
    with TestClient(create_app(application, settings)) as client:
        yield client, url
    application.close()


def as_(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_missing_or_wrong_key_is_401_problem(api: tuple[TestClient, str]) -> None:
    client, _ = api
    for headers in ({}, as_("nope"), {"Authorization": "Bearer nope"}):
        answer = client.get("/v1/patients/p-1/journey", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["errors"][0]["field"] == "X-API-Key"
    assert (
        client.post(
            "/v1/patients/p-1/admissions", json=ADMIT, headers={"Authorization": "Bearer k-clin"}
        ).status_code
        == 201
    )


def test_roles_limit_reads_and_writes(api: tuple[TestClient, str]) -> None:
    client, _ = api
    assert (
        client.post("/v1/patients/p-1/admissions", json=ADMIT, headers=as_("k-audit")).status_code
        == 403
    )
    assert (
        client.post("/v1/patients/p-1/admissions", json=ADMIT, headers=as_("k-clin")).status_code
        == 201
    )
    assert client.get("/v1/patients/p-1/journey", headers=as_("k-analyst")).status_code == 403
    assert client.get("/v1/patients/p-1/history", headers=as_("k-svc")).status_code == 403
    assert client.get("/v1/patients/p-1/history", headers=as_("k-audit")).status_code == 200
    assert client.get("/v1/access-log", headers=as_("k-clin")).status_code == 403


def test_the_actor_is_the_authenticated_principal(api: tuple[TestClient, str]) -> None:
    client, _ = api
    client.post("/v1/patients/p-1/admissions", json=ADMIT, headers=as_("k-clin"))
    other = {**ADMIT, "actor": "someone-else"}
    refused = client.post("/v1/patients/p-2/admissions", json=other, headers=as_("k-clin"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "actor"
    reported = client.post(
        "/v1/patients/p-3/admissions", json={**ADMIT, "actor": "dr-b"}, headers=as_("k-svc")
    )
    assert reported.status_code == 201
    actors = [
        client.get(f"/v1/patients/{p}/history", headers=as_("k-audit")).json()["events"][0]["actor"]
        for p in ("p-1", "p-3")
    ]
    assert actors == ["dr-a", "dr-b"]


def test_every_patient_read_is_in_the_access_trail(api: tuple[TestClient, str]) -> None:
    client, _ = api
    client.post("/v1/patients/p-1/admissions", json=ADMIT, headers=as_("k-clin"))
    client.get("/v1/patients/p-1/journey?as_of=2026-01-02T00:00:00Z", headers=as_("k-clin"))
    client.get("/v1/patients/nobody/history", headers=as_("k-audit"))
    client.get("/v1/patients/p-1/journey", headers=as_("k-analyst"))
    trail: list[dict[str, Any]] = client.get("/v1/access-log", headers=as_("k-audit")).json()
    seen = [(a["actor"], a["action"], a["patient_id"], a["outcome"]) for a in reversed(trail)]
    assert seen[:3] == [
        ("dr-a", "journey.read", "p-1", "ok"),
        ("aud-1", "history.read", "nobody", "not_found"),
        ("an-1", "journey.read", "p-1", "forbidden"),
    ]
    first = trail[-1]
    assert first["channel"] == "http" and first["source"] == "testclient"
    assert "as_of=2026-01-02" in first["detail"] and first["role"] == "clinician"
    only = client.get("/v1/access-log?actor=dr-a", headers=as_("k-audit")).json()
    assert {a["actor"] for a in only} == {"dr-a"}


def test_the_access_trail_is_append_only(api: tuple[TestClient, str]) -> None:
    client, url = api
    client.get("/v1/patients/p-1/journey", headers=as_("k-clin"))
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        for statement in (
            "UPDATE audit_access_log SET actor = 'x'",
            "DELETE FROM audit_access_log",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
