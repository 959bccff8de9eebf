"""`journey show` and `GET /v1/patients/{id}/journey` carry the care fields of SPEC 6 and
mark an `as_of` after now (`as_of_in_future`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.e2e.test_cli import ADMIT, journey, jsonl
from tests.e2e.test_http_api import P, _client, admission, post

FUTURE = "2199-12-31T00:00:00+00:00"
PAST = "2026-02-01T00:00:00+00:00"
CARE_FIELDS = ("primary_therapist", "treatment_plan", "plan_overdue", "referrals")
WEEK_FIELDS = ("evidence_based_hours", "individual_with_primary", "weekly_individual_met")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "journey.db"


def test_cli_show_marks_a_future_as_of_in_json_and_text(store: Path) -> None:
    assert journey(store, "import", "-", stdin=jsonl(ADMIT)).returncode == 0
    future = json.loads(journey(store, "show", "p-1", "--json", "--as-of", FUTURE).stdout)
    past = json.loads(journey(store, "show", "p-1", "--json", "--as-of", PAST).stdout)
    assert (future["as_of_in_future"], past["as_of_in_future"]) == (True, False)
    assert journey(store, "show", "p-1", "--json").returncode == 0
    text = journey(store, "show", "p-1", "--as-of", FUTURE).stdout
    assert "as of is in the future: the figures project it" in text
    assert "in the future" not in journey(store, "show", "p-1", "--as-of", PAST).stdout


def test_cli_show_carries_the_care_fields(store: Path) -> None:
    assert journey(store, "import", "-", stdin=jsonl(ADMIT)).returncode == 0
    view = json.loads(journey(store, "show", "p-1", "--json", "--as-of", PAST).stdout)
    # Admitted to detox 2026-01-01 (Phoenix), no plan by 2026-02-01: overdue (3 days).
    assert (view["primary_therapist"], view["treatment_plan"], view["referrals"]) == (
        None,
        None,
        [],
    )
    assert view["plan_overdue"] is True
    assert all(set(WEEK_FIELDS) <= set(w) for w in view["weeks"])
    text = journey(store, "show", "p-1", "--as-of", PAST).stdout
    assert "primary therapist -" in text
    assert "treatment plan: none (OVERDUE)" in text
    assert "primary 1:1" in text


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from _client(f"sqlite:///{tmp_path}/t.db")


def test_http_journey_marks_a_future_as_of_and_carries_the_care_fields(
    client: TestClient,
) -> None:
    assert post(client, "p-1", "admissions", admission(level="iop")).status_code == 201
    future = client.get(f"{P}/p-1/journey", params={"as_of": FUTURE}).json()
    assert future["as_of_in_future"] is True
    now = client.get(f"{P}/p-1/journey").json()
    assert now["as_of_in_future"] is False
    assert set(CARE_FIELDS) <= set(now)
    assert all(set(WEEK_FIELDS) <= set(w) for w in now["weeks"])
