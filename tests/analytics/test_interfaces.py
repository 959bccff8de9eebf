"""The CLI and HTTP faces of the analytics: they catch the read models up with the log
first, answer exactly what the queries answer, and reject bad parameters clearly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from config.settings import Settings, get_settings
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infrastructure.sql import connect
from interfaces.api import create_app
from interfaces.cli import app as cli
from journey.application import JourneyApplication
from projections.analytics.census import census_daily
from projections.analytics.intensity import intensity
from tests.readmodels.support import cohort, load

T = "2025-10-01T00:00:00+00:00"
KEYS = "ka=ann:analyst;kc=cleo:clinician;kd=dee:admin"


@pytest.fixture
def configured(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The CLI pointed at the test's store."""
    monkeypatch.setenv("JOURNEY_DATABASE_URL", store_url)
    monkeypatch.setenv("JOURNEY_ACTOR", "analyst-test")
    get_settings.cache_clear()
    yield store_url
    get_settings.cache_clear()


@pytest.fixture
def loaded(app: JourneyApplication, configured: str) -> str:
    """A cohort in the store, the read models NOT yet projected."""
    load(app, cohort(25, seed=5))
    return configured


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def _direct(url: str) -> dict[str, Any]:
    db = connect(url)
    try:
        with db.transaction() as unit:
            t = datetime.fromisoformat(T)
            return {
                "daily": census_daily(unit, t, date(2025, 9, 1), date(2025, 9, 30)).model_dump(
                    mode="json"
                ),
                "intensity": intensity(unit, t).model_dump(mode="json"),
            }
    finally:
        db.close()


def test_cli_catches_up_then_answers(loaded: str) -> None:
    daily = _cli("census", "--from", "2025-09-01", "--to", "2025-09-30", "--at", T, "--json")
    assert daily == _direct(loaded)["daily"]  # the CLI projected the log first
    assert _cli("intensity", "--at", T, "--json") == _direct(loaded)["intensity"]
    at = _cli("census", "--at", T, "--json")
    assert at["total"] == sum(at["levels"].values()) > 0
    for args in (
        ["los"],
        ["retention"],
        ["transitions", "--from", "2025-01-01", "--to", "2025-12-31"],
    ):
        assert _cli(*args, "--at", T, "--json")["as_of"] == T
        assert "as of" in _cli(*args, "--at", T)  # the readable table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["census", "--at", "2025-10-01T00:00:00"], "at: '2025-10-01T00:00:00' needs a UTC offset"),
        (["transitions", "--from", "2025-02-01"], "to: --to is required"),
        (["census", "--from", "2025-02-01", "--to", "2025-01-01"], "is before 'from'"),
    ],
)
def test_cli_rejects_bad_parameters(
    app: JourneyApplication, configured: str, args: list[str], message: str
) -> None:
    """On an existing (empty) store: read commands never create one (exit 7 without)."""
    result = CliRunner().invoke(cli, [*args, "--no-catch-up"])
    assert result.exit_code == 1
    assert message in result.stderr


def _client(app: JourneyApplication, url: str) -> TestClient:
    return TestClient(create_app(app, Settings(database_url=url, auth=True, api_keys=KEYS)))


@pytest.fixture
def client(app: JourneyApplication, loaded: str) -> TestClient:
    return _client(app, loaded)


@pytest.fixture
def empty_client(app: JourneyApplication, configured: str) -> TestClient:
    return _client(app, configured)


def test_http_answers_like_the_queries(client: TestClient, loaded: str) -> None:
    analyst = {"X-API-Key": "ka"}
    admin = {"X-API-Key": "kd"}  # full detail (the analyst's answers: test_disclosure.py)
    daily = client.get(
        f"/v1/analytics/census/daily?from=2025-09-01&to=2025-09-30&at={T.replace('+', '%2B')}",
        headers=admin,
    )
    assert daily.status_code == 200
    assert daily.json() == _direct(loaded)["daily"]
    for path in (
        "census",
        "length-of-stay",
        "retention",
        "intensity",
        "transitions?from=2025-01-01&to=2025-12-31",
    ):
        joiner = "&" if "?" in path else "?"
        response = client.get(
            f"/v1/analytics/{path}{joiner}at=2025-10-01T00:00:00Z", headers=analyst
        )
        assert response.status_code == 200, response.text
        assert response.json()["as_of"] == T


@pytest.mark.parametrize(
    ("path", "field", "rule"),
    [
        ("census?at=2025-10-01T00:00:00", "at", "timezone_aware"),
        ("retention?at=yesterday", "at", "iso8601"),  # the CLI's rules (interfaces.timeparse)
        ("census/daily?from=2025-09-01", "to", "missing"),
        ("census/daily?from=2025-09-02&to=2025-09-01", "to", "date_order"),
        ("transitions?from=2025-13-01&to=2025-12-01", "from", "iso_date"),
    ],
)
def test_http_problems_name_the_parameter(
    empty_client: TestClient, path: str, field: str, rule: str
) -> None:
    response = empty_client.get(f"/v1/analytics/{path}", headers={"X-API-Key": "ka"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["rule"]) for e in response.json()["errors"]] == [(field, rule)]


def test_http_needs_the_analytics_permission(empty_client: TestClient) -> None:
    client = empty_client
    assert client.get("/v1/analytics/census").status_code == 401
    assert client.get("/v1/analytics/census", headers={"X-API-Key": "kc"}).status_code == 403
    now = datetime.now(UTC).isoformat().replace("+", "%2B")
    assert (
        client.get(f"/v1/analytics/census?at={now}", headers={"X-API-Key": "ka"}).status_code == 200
    )
