"""A store written by main at f282db8 (tests/fixtures/snapshot_store_f282db8.db: one patient,
150 sessions, 60 corrections, a snapshot at version 211, from the commands of
snapshot_store_f282db8.jsonl; `.show.json` is main's `journey show p-snap --json --as-of
2025-12-01T00:00:00Z` on it) still loads, verifies and projects the same; its snapshot
lacks the sessions' current values and last corrections, so the patient is rebuilt from
its events and corrections are judged as on a fresh store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from audit.verify import verify_patient
from config.settings import Settings
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.errors import RuleViolation
from journey.patient import Patient
from projections.queries import patient_journey
from services.bootstrap import build_application
from tests.app.old_views import assert_same_as_before

FIXTURE = Path(__file__).parents[1] / "fixtures" / "snapshot_store_f282db8.db"
SHOWN = FIXTURE.with_suffix(".show.json")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def old_store(tmp_path: Path) -> Iterator[JourneyApplication]:
    path = tmp_path / "old.db"
    shutil.copy(FIXTURE, path)
    app = build_application(Settings(database_url=f"sqlite:///{path}"))
    yield app
    app.close()


def correction(session: int, minutes: int, reason: str = "typo in duration") -> object:
    return parse_command({"command": "correct_session", "patient_id": "p-snap",
                          "session_id": f"s-{session}", "reason": reason,
                          "duration_minutes": minutes})  # fmt: skip


def test_the_fixture_has_an_old_snapshot(old_store: JourneyApplication) -> None:
    assert old_store.snapshots is not None
    # read the stored row itself: the repository skips snapshots without a digest
    (row,) = old_store.snapshots.recorder.select_events("p-snap")
    snapshot = old_store.mapper.to_domain_event(row)
    assert snapshot.originator_version == 211
    assert "state_version" not in snapshot.state  # type: ignore[attr-defined]


def test_old_snapshot_state_is_rebuilt_from_events(old_store: JourneyApplication) -> None:
    loaded = old_store.load_patient("p-snap")
    assert isinstance(loaded, Patient) and loaded.version == 211
    session = loaded.sessions["s-59"]
    assert session["values"]["duration_minutes"] == 54
    assert session["last_correction"] is not None
    assert verify_patient(old_store, "p-snap").ok
    as_of = datetime(2025, 12, 1, tzinfo=UTC)
    view = patient_journey(old_store, "p-snap", as_of=as_of).model_dump(mode="json")
    assert_same_as_before(view, json.loads(SHOWN.read_text()))  # main's `journey show --json`


def test_retries_and_no_ops_on_an_old_snapshot(old_store: JourneyApplication) -> None:
    assert old_store.handle(correction(59, 54), now=NOW).status == "duplicate"  # type: ignore[arg-type]
    assert old_store.handle(correction(3, 48), now=NOW).status == "duplicate"  # type: ignore[arg-type]
    with pytest.raises(RuleViolation) as caught:
        old_store.handle(correction(100, 50, "no change"), now=NOW)  # type: ignore[arg-type]
    assert caught.value.issues[0].rule == "no_change"
    assert old_store.handle(correction(100, 40, "real"), now=NOW).status == "accepted"  # type: ignore[arg-type]
    assert old_store.recorder.max_notification_id() == 212
    assert verify_patient(old_store, "p-snap").ok
