"""The incremental handlers on both stores: a small journey gives exactly the expected rows
(stays closed by transitions and discharges, chained readmission, sessions corrected and
voided), and applying the same events again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models.handlers import apply_events
from projections.read_models.schema import create_tables
from tests.readmodels.support import dump, load, rows

NOW = datetime(2026, 2, 1, tzinfo=UTC)
NY = "America/New_York"


def _session(
    sid: str, at: str, fmt: str, approach: str, minutes: int, **more: Any
) -> dict[str, Any]:
    return {"command": "record_session", "patient_id": "p-1", "session_id": sid, "format": fmt,
            "approach": approach, "duration_minutes": minutes, "occurred_at": at, **more}  # fmt: skip


JOURNEY: list[dict[str, Any]] = [
    {"command": "admit", "patient_id": "p-1", "level": "detox", "timezone": NY,
     "occurred_at": "2026-01-01T10:00:00-05:00"},
    _session("s-1", "2026-01-02T10:00:00-05:00", "group", "cbt", 60),
    {"command": "transition", "patient_id": "p-1", "to_level": "3.5",
     "occurred_at": "2026-01-03T09:00:00-05:00"},
    _session("s-2", "2026-01-04T20:00:00-05:00", "individual", "art_therapy", 45),
    _session("s-3", "2026-01-06T10:00:00-05:00", "family", "art_therapy", 30,
             delivery="video", status="no_show"),
    {"command": "discharge", "patient_id": "p-1", "reason": "completed",
     "occurred_at": "2026-01-10T08:00:00-05:00"},
    {"command": "admit", "patient_id": "p-1", "level": "iop",
     "occurred_at": "2026-01-15T12:00:00-05:00"},
    {"command": "correct_session", "patient_id": "p-1", "session_id": "s-2",
     "reason": "wrong day", "occurred_at": "2026-01-05T09:00:00-05:00", "approach": "cbt"},
    {"command": "void_session", "patient_id": "p-1", "session_id": "s-3", "reason": "dup"},
    {"command": "admit", "patient_id": "p-2", "level": "outpatient", "timezone": "UTC",
     "occurred_at": "2026-01-01T00:00:00+00:00"},
]  # fmt: skip


def _ts(text: str) -> str:
    return f"{text}.000000+00:00"


def _apply_history(app: JourneyApplication, url: str, patient_ids: list[str]) -> list[bool]:
    db = connect(url)
    try:
        with db.transaction() as unit:
            create_tables(unit)
            return [apply_events(unit, [e]) == 1 for pid in patient_ids for e in app.history(pid)]
    finally:
        db.close()


@pytest.fixture
def journey_app(app: JourneyApplication) -> JourneyApplication:
    for raw in JOURNEY:
        load_one(app, raw)
    return app


def load_one(app: JourneyApplication, raw: dict[str, Any]) -> None:
    app.handle(parse_command(raw), now=NOW)


def test_a_small_journey_gives_the_expected_stays_and_episodes(
    journey_app: JourneyApplication, store_url: str
) -> None:
    assert all(_apply_history(journey_app, store_url, ["p-1", "p-2"]))
    assert rows(store_url, "SELECT * FROM rm_stays ORDER BY patient_id, episode_number, seq") == [
        ("p-1", 1, 1, "detox", "adult", _ts("2026-01-01T15:00:00"), _ts("2026-01-03T14:00:00"),
         "transition", "2026-01-01", "2026-01-02", 2, "3.7-WM"),  # by id: the default code
        ("p-1", 1, 2, "inpatient", "adult", _ts("2026-01-03T14:00:00"), _ts("2026-01-10T13:00:00"),
         "discharge", "2026-01-03", "2026-01-09", 7, "3.5"),  # as entered
        ("p-1", 2, 1, "iop", "adult", _ts("2026-01-15T17:00:00"), None, None, "2026-01-15", None,
         None, "2.1"),
        ("p-2", 1, 1, "outpatient", "adult", _ts("2026-01-01T00:00:00"), None, None, "2025-12-31",
         None, None, "1"),
    ]  # fmt: skip
    assert rows(store_url, "SELECT * FROM rm_episodes ORDER BY patient_id, number") == [
        ("p-1", 1, _ts("2026-01-01T15:00:00"), "2026-01-01", _ts("2026-01-10T13:00:00"),
         "2026-01-10", "completed", "adult", "detox", "inpatient", 2, 9, 1, _ts("2026-01-01T15:00:00")),
        ("p-1", 2, _ts("2026-01-15T17:00:00"), "2026-01-15", None, None, None, "adult", "iop", "iop",
         1, None, 1, _ts("2026-01-01T15:00:00")),
        ("p-2", 1, _ts("2026-01-01T00:00:00"), "2026-01-01", None, None, None, "adult", "outpatient",
         "outpatient", 1, None, 1, _ts("2026-01-01T00:00:00")),
    ]  # fmt: skip
    # the readmission 5 local days after the discharge continues the chain at another
    # level: a transition across episodes (docs/analytics.md)
    assert rows(store_url, "SELECT * FROM rm_transitions ORDER BY version") == [
        ("p-1", 3, 1, _ts("2026-01-03T14:00:00"), "2026-01-03", "detox", "inpatient", "step_down",
         None, 0),
        ("p-1", 7, 2, _ts("2026-01-15T17:00:00"), "2026-01-15", "inpatient", "iop", "step_down",
         None, 1),
    ]  # fmt: skip


def test_sessions_are_corrected_redated_and_voided(
    journey_app: JourneyApplication, store_url: str
) -> None:
    _apply_history(journey_app, store_url, ["p-1", "p-2"])
    assert rows(store_url, "SELECT * FROM rm_sessions ORDER BY session_id") == [
        ("p-1", "s-1", _ts("2026-01-02T15:00:00"), "2026-01-02", "2026-W01", "2025-12-29", "group",
         "cbt", 1, 60, "in_person", "attended", None, 0, 0, 2),
        ("p-1", "s-2", _ts("2026-01-05T14:00:00"), "2026-01-05", "2026-W02", "2026-01-05",
         "individual", "cbt", 1, 45, "in_person", "attended", None, 0, 1, 4),
        ("p-1", "s-3", _ts("2026-01-06T15:00:00"), "2026-01-06", "2026-W02", "2026-01-05", "family",
         "art_therapy", 0, 30, "video", "no_show", None, 1, 0, 5),
    ]  # fmt: skip


def test_the_patient_row_summarizes_the_current_journey(
    journey_app: JourneyApplication, store_url: str
) -> None:
    _apply_history(journey_app, store_url, ["p-1", "p-2"])
    last = journey_app.history("p-1")[-1]
    assert rows(store_url, "SELECT * FROM rm_patients WHERE patient_id = 'p-1'") == [
        ("p-1", NY, "adult", "active", "iop", _ts("2026-01-15T17:00:00"), 2, 1, 0,
         _ts("2026-01-01T15:00:00"), _ts("2026-01-15T17:00:00"), _ts("2026-01-10T13:00:00"),
         "completed", 1, _ts("2026-01-01T15:00:00"), _ts("2026-02-01T00:00:00"), 9, last.event_id, 9),
    ]  # fmt: skip


def test_applying_the_same_events_again_changes_nothing(
    journey_app: JourneyApplication, store_url: str
) -> None:
    _apply_history(journey_app, store_url, ["p-1", "p-2"])
    before = dump(store_url)
    assert not any(_apply_history(journey_app, store_url, ["p-1", "p-2"]))
    assert dump(store_url) == before


def test_a_late_readmission_starts_a_new_care_chain(
    app: JourneyApplication, store_url: str
) -> None:
    load(app, [
        {"command": "admit", "patient_id": "p-9", "level": "iop", "occurred_at": "2026-01-01T12:00:00Z"},
        {"command": "discharge", "patient_id": "p-9", "reason": "ama", "occurred_at": "2026-01-02T12:00:00Z"},
        {"command": "admit", "patient_id": "p-9", "level": "iop", "occurred_at": "2026-01-09T23:00:00Z"},
        {"command": "discharge", "patient_id": "p-9", "reason": "ama", "occurred_at": "2026-01-10T12:00:00Z"},
        {"command": "admit", "patient_id": "p-9", "level": "iop", "occurred_at": "2026-01-18T00:00:00Z"},
    ])  # fmt: skip
    _apply_history(app, store_url, ["p-9"])
    assert rows(store_url, "SELECT number, chain_number, days FROM rm_episodes") == [
        (1, 1, 1), (2, 1, 1), (3, 2, None)
    ]  # fmt: skip
