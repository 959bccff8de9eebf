"""Bad input through HTTP (SPEC section 4, docs/input-rules.md): every instant or date a
query names is checked by one parser (422 problem naming the parameter and the rule, never a
500), and the command rules hold on the resource and batch endpoints. Real stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app
from services.bootstrap import build_application
from tests.e2e.test_http_api import KEYS, P, admission, any_store, at, fields, problem, session

__all__ = ["any_store"]  # the store fixture (SQLite and PostgreSQL)

# (path, parameter, API key, other parameters the call needs)
DATES = {"from": "2026-01-01", "to": "2026-01-31"}
QUERIES = [
    (f"{P}/p-1/journey", "as_of", "k-clin", {}),
    (f"{P}/p-1/journey", "known_at", "k-clin", {}),
    (f"{P}/p-1/history", "known_at", "k-clin", {}),
    ("/v1/access-log", "since", "k-audit", {}),
    ("/v1/access-log", "until", "k-audit", {}),
    ("/v1/analytics/census", "at", "k-analyst", {}),
    ("/v1/analytics/census/daily", "at", "k-analyst", DATES),
    ("/v1/analytics/census/daily", "from", "k-analyst", DATES),
    ("/v1/analytics/census/daily", "to", "k-analyst", DATES),
    ("/v1/analytics/length-of-stay", "at", "k-analyst", {}),
    ("/v1/analytics/transitions", "at", "k-analyst", DATES),
    ("/v1/analytics/transitions", "from", "k-analyst", DATES),
    ("/v1/analytics/transitions", "to", "k-analyst", DATES),
    ("/v1/analytics/retention", "at", "k-analyst", {}),
    ("/v1/analytics/intensity", "at", "k-analyst", {}),
]
BAD_INSTANTS = {
    "1700000000": "iso8601",
    "1700000000.5": "iso8601",
    "0001-01-01T00:00:00+05:00": "instant_range",
    "9999-12-31T23:59:59-14:00": "instant_range",
    "1026-11-02T00:00:00Z": "instant_range",
    "1989-12-31T23:59:59Z": "instant_range",
    "2200-01-01T00:00:01Z": "instant_range",
}
BAD_DATES = {"1700000000": "iso_date", "0001-01-01": "date_range", "9999-12-31": "date_range",
             "1989-12-31": "date_range", "2200-01-02": "date_range"}  # fmt: skip


@pytest.fixture
def http(any_store: str) -> Iterator[TestClient]:
    settings = Settings(database_url=any_store, api_keys=KEYS)
    application = build_application(settings)
    try:
        with TestClient(create_app(application, settings), headers={"X-API-Key": "k-clin"}) as c:
            assert c.post(f"{P}/p-1/admissions", json=admission()).status_code == 201
            yield c
    finally:
        application.close()


@pytest.mark.parametrize(("path", "param", "key", "others"), QUERIES, ids=str)
def test_every_query_instant_out_of_range_is_a_422_naming_it(
    http: TestClient, path: str, param: str, key: str, others: dict[str, str]
) -> None:
    bad = BAD_DATES if param in ("from", "to") else BAD_INSTANTS
    for value, rule in bad.items():
        response = http.get(path, params={**others, param: value}, headers={"X-API-Key": key})
        assert fields(problem(response, 422)) == {param: rule}, (value, response.text)
    good = {"from": "2026-01-10", "to": "2026-01-10", "known_at": "2199-01-01T00:00:00Z"}.get(
        param, "2026-01-10T00:00:00Z"
    )
    response = http.get(path, params={**others, param: good}, headers={"X-API-Key": key})
    assert response.status_code == 200, response.text


def test_the_range_ends_are_accepted(http: TestClient) -> None:
    for value in ("1990-01-01T00:00:00Z", "2200-01-01T00:00:00+00:00", "1990-01-01T01:00:00+01:00"):
        response = http.get(f"{P}/p-1/journey", params={"as_of": value})
        assert response.status_code == 200, response.text


def test_commands_before_the_earliest_instant_are_refused(http: TestClient) -> None:
    for when in ("1026-11-02T10:00:00+00:00", "0001-01-01T00:00:00+05:00"):
        doc = problem(http.post(f"{P}/p-2/admissions", json=admission() | {"occurred_at": when}),
                      422)  # fmt: skip
        assert fields(doc) == {"occurred_at": "not_before_earliest"}
    numeric = http.post(f"{P}/p-2/admissions", json=admission() | {"occurred_at": 1700000000})
    assert fields(problem(numeric, 422)) == {"occurred_at": "iso8601"}
    batch = http.post("/v1/commands", json=[{"command": "discharge", "patient_id": "p-1",
                      "reason": "completed", "occurred_at": "1026-01-02T00:00:00Z"}])  # fmt: skip
    (item,) = batch.json()["results"]
    assert item["status"] == "rejected"
    assert item["problem"]["errors"][0]["rule"] == "not_before_earliest"
    assert [e["payload"]["type"] for e in http.get(f"{P}/p-1/history").json()["events"]] == [
        "PatientAdmitted"
    ]


def test_discharge_before_a_session_and_repeated_corrections(http: TestClient) -> None:
    assert http.post(f"{P}/p-1/sessions", json=session("s1", "2026-01-05T10:00:00")).status_code \
        == 201  # fmt: skip
    early = {"occurred_at": at("2026-01-04T10:00:00"), "reason": "completed"}
    doc = problem(http.post(f"{P}/p-1/discharges", json=early), 409)
    assert fields(doc) == {"occurred_at": "sessions_after_discharge"}
    fix: dict[str, Any] = {"session_id": "s1", "reason": "typo", "duration_minutes": 50}
    first = http.post(f"{P}/p-1/session-corrections", json=fix)
    again = http.post(f"{P}/p-1/session-corrections", json=fix)
    assert (first.status_code, again.status_code, again.json()["status"]) == (201, 200, "duplicate")
    noop = http.post(f"{P}/p-1/session-corrections", json=fix | {"reason": "again"})
    assert fields(problem(noop, 422)) == {"duration_minutes": "no_change"}


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", ".", ".."])
def test_non_canonical_time_zones_are_refused(http: TestClient, zone: str) -> None:
    doc = problem(http.post(f"{P}/p-3/admissions", json=admission() | {"timezone": zone}), 422)
    assert fields(doc) == {"timezone": "iana_timezone"}
