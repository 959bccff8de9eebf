"""The CLI and HTTP faces of the analytics: the CLI catches the read models up with the log
first, the HTTP API only reads them (saying how far behind they are, or waiting a bounded
time for a projection worker); both answer exactly what the queries answer, and reject bad
parameters clearly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from config.settings import Settings, get_settings
from infrastructure.sql import connect
from interfaces.api import create_app
from interfaces.cli import app as cli
from journey.application import JourneyApplication
from projections.analytics.census import census_daily
from projections.analytics.intensity import intensity
from services.bootstrap import build_application
from tests.readmodels.support import cohort, dump, follow, load, position

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
    follow(app, loaded)  # what a projection worker does beside the API
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


def test_http_reads_never_apply_the_log_and_say_how_far_behind_they_are(
    app: JourneyApplication, loaded: str
) -> None:
    """The API's start prepares the schema; a request only reads: before any projection
    worker ran, the answers are empty and the headers give the whole log as the lag."""
    client, head = _client(app, loaded), app.recorder.max_notification_id() or 0
    tables = dump(loaded)
    response = client.get(f"/v1/analytics/census?at={T.replace('+', '%2B')}",
                          headers={"X-API-Key": "kd"})  # fmt: skip
    assert response.status_code == 200
    assert response.json()["total"] == 0
    assert (response.headers["X-Read-Models-Position"], response.headers["X-Log-Head"],
            response.headers["X-Read-Models-Lag"]) == ("0", str(head), str(head))  # fmt: skip
    assert dump(loaded) == tables and position(loaded) is None  # nothing written
    follow(app, loaded)
    again = client.get(f"/v1/analytics/census?at={T.replace('+', '%2B')}",
                       headers={"X-API-Key": "kd"})  # fmt: skip
    assert again.headers["X-Read-Models-Lag"] == "0"
    assert again.json() == census_answer(loaded)


def census_answer(url: str) -> dict[str, Any]:
    from projections.analytics.census import census_at

    db = connect(url)
    try:
        with db.transaction() as unit:
            return census_at(unit, datetime.fromisoformat(T)).model_dump(mode="json")
    finally:
        db.close()


def test_http_waits_a_bounded_time_for_a_projection_worker(
    app: JourneyApplication, loaded: str
) -> None:
    client = _client(app, loaded)
    at = T.replace("+", "%2B")
    began = time.monotonic()
    late = client.get(f"/v1/analytics/retention?at={at}&wait=0.5", headers={"X-API-Key": "kd"})
    assert time.monotonic() - began >= 0.5  # nobody applied the log: it waited, then answered
    assert late.status_code == 200 and late.headers["X-Read-Models-Lag"] != "0"
    worker = threading.Timer(0.3, lambda: follow(app, loaded))
    worker.start()
    fresh = client.get(f"/v1/analytics/census?at={at}&wait=10", headers={"X-API-Key": "kd"})
    worker.join()
    assert fresh.headers["X-Read-Models-Lag"] == "0"
    assert fresh.json() == census_answer(loaded)
    too_long = client.get("/v1/analytics/retention?wait=11", headers={"X-API-Key": "kd"})
    assert too_long.status_code == 422


def test_care_standards_on_the_cli_and_http(client: TestClient, loaded: str) -> None:
    from projections.analytics.care_standards import care_standards

    db = connect(loaded)
    try:
        with db.transaction() as unit:
            direct = care_standards(unit, datetime.fromisoformat(T)).model_dump(mode="json")
    finally:
        db.close()
    assert direct["weekly_individual"]  # the cohort's weeks are judged (none met: no therapist)
    assert _cli("care-standards", "--at", T, "--json") == direct
    assert "standards of care as of" in _cli("care-standards", "--at", T)
    at = T.replace("+", "%2B")
    admin = client.get(f"/v1/analytics/care-standards?at={at}", headers={"X-API-Key": "kd"})
    assert admin.status_code == 200 and admin.json() == direct
    analyst = client.get(f"/v1/analytics/care-standards?at={at}", headers={"X-API-Key": "ka"})
    assert analyst.status_code == 200 and analyst.json()["at"] == T
    assert all(
        w["weeks"] is None or w["weeks"] > 10 for w in analyst.json()["weekly_individual"].values()
    )


def test_journey_serve_keeps_the_read_models_current(tmp_path: Path) -> None:
    """`journey serve` runs a projection worker beside the API: a request waiting for the
    log's head gets it without the request applying anything itself."""
    url = f"sqlite:///{tmp_path}/serve.db"
    writer = build_application(Settings(database_url=url))
    load(writer, cohort(6, seed=8))
    head = writer.recorder.max_notification_id()
    writer.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_AUTH": "false"}
    env.pop("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", None)
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen(
        [sys.executable, "-m", "interfaces", "serve", "--port", str(port)],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline, response = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/analytics/census?wait=10", timeout=20
                )
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None and response.status_code == 200
        assert response.headers["X-Log-Head"] == str(head)
        assert response.headers["X-Read-Models-Lag"] == "0"
    finally:
        server.terminate()
        server.wait(timeout=30)
