"""One instant format in every output (SPEC 6, issue 12): ISO-8601 with `T`, UTC written
`+00:00`; never `Z`, never a space between date and time. The CLI's text and JSON and the
HTTP API's answers of one small store are scanned for either."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app
from services.bootstrap import build_application
from tests.cli_support import run_journey

# `...09:00Z`, `...09:00:00.123Z` or `2026-10-12 09:00`: the two forms no output may use.
ZULU = re.compile(r"\d\d:\d\d(:\d\d(\.\d+)?)?Z")
SPACED = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
PID = "p-inst"
COMMANDS = [
    {"command": "admit", "patient_id": PID, "level": "iop",
     "occurred_at": "2026-01-05T08:00:00-07:00", "timezone": "America/Phoenix"},
    {"command": "record_session", "patient_id": PID, "session_id": "s-1", "format": "group",
     "approach": "cbt", "duration_minutes": 90, "occurred_at": "2026-01-06T09:00:00-07:00"},
    {"command": "correct_session", "patient_id": PID, "session_id": "s-1",
     "reason": "started later", "occurred_at": "2026-01-06T10:00:00Z"},
    {"command": "record_session", "patient_id": PID, "session_id": "s-2", "format": "individual",
     "approach": "cbt", "duration_minutes": 60, "occurred_at": "2026-01-07T09:00:00-07:00"},
    {"command": "void_session", "patient_id": PID, "session_id": "s-2", "reason": "wrong patient"},
    {"command": "assign_primary_therapist", "patient_id": PID, "clinician_id": "dr-a",
     "occurred_at": "2026-01-05T09:00:00-07:00"},
    {"command": "create_treatment_plan", "patient_id": PID, "plan_id": "pl-1",
     "occurred_at": "2026-01-06T09:00:00-07:00", "goals": [
         {"goal_id": "g-1", "dimension": "withdrawal",
          "objectives": [{"objective_id": "o-1", "target_date": "2026-01-31"}]}]},
    {"command": "review_treatment_plan", "patient_id": PID, "plan_id": "pl-1",
     "outcome": "continue", "objectives": {"o-1": "met"},
     "occurred_at": "2026-01-12T09:00:00-07:00"},
    {"command": "refer", "patient_id": PID, "referral_id": "r-1", "specialty": "trauma",
     "occurred_at": "2026-01-13T09:00:00-07:00"},
    {"command": "discharge", "patient_id": PID, "reason": "completed",
     "occurred_at": "2026-01-20T12:00:00-07:00"},
]  # fmt: skip
KEYS = "k-admin=adm:admin"


def bad_instants(text: str) -> list[str]:
    return [m.group(0) for p in (ZULU, SPACED) for m in p.finditer(text)]


def test_the_patterns_catch_both_forms() -> None:
    assert bad_instants('{"at": "2026-10-12T09:00:00Z"}') == ["09:00:00Z"]
    assert bad_instants("v=2026-10-12 09:00:00+00:00") == ["2026-10-12 09:00"]
    assert bad_instants('{"at": "2026-10-12T09:00:00+00:00"}') == []


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/instants.db"
    lines = "".join(json.dumps(c) + "\n" for c in COMMANDS)
    done = run_journey(url, "import", "-", stdin=lines)
    assert done.returncode == 0, done.stderr
    return url


CLI = [
    ("history", PID),
    ("history", PID, "--json"),
    ("show", PID, "--as-of", "2026-01-10T00:00:00+00:00"),
    ("show", PID, "--as-of", "2026-01-10T00:00:00+00:00", "--json"),
    ("census", "--at", "2026-01-10T00:00:00+00:00", "--json"),
    ("census", "--at", "2026-01-10T00:00:00+00:00"),
    ("los", "--at", "2026-02-01T00:00:00+00:00", "--json"),
    ("transitions", "--from", "2026-01-01", "--to", "2026-01-31", "--json"),
    ("retention", "--at", "2026-02-01T00:00:00+00:00", "--json"),
    ("intensity", "--at", "2026-02-01T00:00:00+00:00", "--json"),
    ("care-standards", "--at", "2026-02-01T00:00:00+00:00", "--json"),
]


@pytest.mark.parametrize("args", CLI, ids=" ".join)
def test_cli_outputs_write_one_instant_format(store: str, args: tuple[str, ...]) -> None:
    done = run_journey(store, *args)
    assert done.returncode == 0, done.stderr
    assert "T" in done.stdout and bad_instants(done.stdout) == [], done.stdout


HTTP = [
    f"/v1/patients/{PID}/history",
    f"/v1/patients/{PID}/journey?as_of=2026-01-10T00:00:00%2B00:00",
    f"/v1/patients/{PID}/sessions?as_of=2026-01-10T00:00:00%2B00:00",
    f"/v1/patients/{PID}/care?as_of=2026-01-15T00:00:00%2B00:00",
    "/v1/analytics/census?at=2026-01-10T00:00:00%2B00:00",
    "/v1/analytics/census/daily?from=2026-01-01&to=2026-01-12&at=2026-01-13T00:00:00%2B00:00",
    "/v1/analytics/length-of-stay?at=2026-02-01T00:00:00%2B00:00",
    "/v1/analytics/transitions?from=2026-01-01&to=2026-01-31&at=2026-02-01T00:00:00%2B00:00",
    "/v1/analytics/retention?at=2026-02-01T00:00:00%2B00:00",
    "/v1/analytics/intensity?at=2026-02-01T00:00:00%2B00:00",
    "/v1/analytics/care-standards?at=2026-02-01T00:00:00%2B00:00",
    "/v1/access-log",
]


def test_http_outputs_write_one_instant_format(store: str) -> None:
    settings = Settings(database_url=store, api_keys=KEYS)
    application = build_application(settings)
    try:
        with TestClient(create_app(application, settings), headers={"X-API-Key": "k-admin"}) as c:
            for path in HTTP:
                response = c.get(path)
                assert response.status_code == 200, (path, response.text)
                assert bad_instants(response.text) == [], (path, response.text)
            history = c.get(f"/v1/patients/{PID}/history").json()["events"]
    finally:
        application.close()
    corrected = history[2]["payload"]["session_occurred_at"]
    assert corrected == "2026-01-06T10:00:00+00:00"
    assert history[0]["occurred_at"] == "2026-01-05T15:00:00+00:00"


def test_kafka_records_write_one_instant_format() -> None:
    """The event topic's value and CloudEvents time headers: UTC, `+00:00`, also for an
    event given with another offset."""
    from publishing.cloudevents import envelope_from_record, event_record, header_map
    from tests.unit.builders import StreamBuilder, utc

    (envelope,) = (
        StreamBuilder("p-k", timezone="America/Phoenix")
        .admit(utc("2026-01-05T08:00:00-07:00"))
        .events
    )
    record = event_record(envelope)
    headers = header_map(record.headers)
    assert headers["ce_time"] == "2026-01-05T15:00:00+00:00"
    assert headers["ce_recordedat"] == "2026-01-05T15:00:00+00:00"
    assert bad_instants(record.value.decode()) == []
    assert '"occurred_at":"2026-01-05T15:00:00+00:00"' in record.value.decode()
    assert envelope_from_record(record.value) == envelope
