"""Two findings of a clinician's walk-through, worked by hand from SPEC 6 and 9:

- a session at the very instant of a discharge is counted by the journey (it is not after
  the discharge), so `journey intensity` counts it too, at the level of the stay the
  discharge ended; at a same-instant readmission, at the new stay's level, once;
- a readmission continuing the care chain (<= 7 local days after the discharge) at another
  level is a transition (a `transferred` inpatient discharge, then IOP three days later, is
  a step-down), flagged as across episodes; a later readmission, or one at the same level,
  is not."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from infrastructure.sql import connect
from journey.application import JourneyApplication
from projections.analytics.intensity import intensity
from projections.analytics.transitions import transitions
from projections.queries import patient_journey
from tests.readmodels.support import follow, load


def _admit(pid: str, level: str, at: str) -> dict[str, Any]:
    return {"command": "admit", "patient_id": pid, "level": level, "occurred_at": at,
            "timezone": "UTC"}  # fmt: skip


def _session(pid: str, sid: str, at: str) -> dict[str, Any]:
    return {"command": "record_session", "patient_id": pid, "session_id": sid,
            "format": "group", "approach": "cbt", "duration_minutes": 60, "occurred_at": at}  # fmt: skip


def _discharge(pid: str, at: str, reason: str = "completed") -> dict[str, Any]:
    return {"command": "discharge", "patient_id": pid, "occurred_at": at, "reason": reason}


def _attendance(url: str, t: datetime) -> dict[str, tuple[int | None, int | None]]:
    db = connect(url)
    try:
        with db.transaction() as unit:
            found = intensity(unit, t).attendance_by_level
    finally:
        db.close()
    return {level: (a.attended, a.no_show) for level, a in found.items() if a.attended}


def test_a_session_at_the_discharge_instant_counts_the_same_everywhere(
    app: JourneyApplication, store_url: str
) -> None:
    load(app, [
        _admit("d-1", "iop", "2025-03-03T09:00:00+00:00"),
        _session("d-1", "s-1", "2025-03-10T15:00:00+00:00"),
        _session("d-1", "s-2", "2025-03-12T15:00:00+00:00"),
        _discharge("d-1", "2025-03-12T15:00:00+00:00"),  # at s-2's start
        _admit("d-2", "iop", "2025-03-03T09:00:00+00:00"),
        _session("d-2", "s-1", "2025-03-12T15:00:00+00:00"),
        _discharge("d-2", "2025-03-12T15:00:00+00:00"),
        _admit("d-2", "php", "2025-03-12T15:00:00+00:00"),  # readmitted at that instant
    ])  # fmt: skip
    follow(app, store_url)
    for t in (datetime(2025, 3, 12, 18, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)):
        assert _attendance(store_url, t) == {"iop": (2, 0), "php": (1, 0)}, t
        for pid in ("d-1", "d-2"):
            journey = patient_journey(app, pid, as_of=t)
            assert journey is not None and journey.sessions.attended == 2 - (pid == "d-2"), pid


def _moves(url: str, t: datetime) -> list[tuple[str, str, str, int | None, int | None]]:
    db = connect(url)
    try:
        with db.transaction() as unit:
            found = transitions(unit, t, date(2025, 3, 1), date(2025, 5, 31))
    finally:
        db.close()
    return [(d, p.from_level, p.to_level, p.count, p.across_episodes)
            for d in ("step_down", "step_up") for p in getattr(found, d)]  # fmt: skip


def test_a_chained_readmission_at_another_level_is_a_transition(
    app: JourneyApplication, store_url: str
) -> None:
    load(app, [
        _admit("r-1", "inpatient", "2025-03-01T10:00:00+00:00"),
        _discharge("r-1", "2025-03-20T10:00:00+00:00", "transferred"),
        _admit("r-1", "iop", "2025-03-23T10:00:00+00:00"),  # 3 days: a step-down
        {"command": "transition", "patient_id": "r-1", "to_level": "outpatient",
         "occurred_at": "2025-04-10T10:00:00+00:00"},
        _discharge("r-1", "2025-04-20T10:00:00+00:00"),
        _admit("r-1", "php", "2025-05-01T10:00:00+00:00"),  # 11 days: a new chain
        _admit("r-2", "iop", "2025-03-01T10:00:00+00:00"),
        _discharge("r-2", "2025-03-05T10:00:00+00:00", "transferred"),
        _admit("r-2", "iop", "2025-03-06T10:00:00+00:00"),  # same level: no transition
    ])  # fmt: skip
    follow(app, store_url)
    assert _moves(store_url, datetime(2025, 6, 1, tzinfo=UTC)) == [
        ("step_down", "inpatient", "iop", 1, 1),
        ("step_down", "iop", "outpatient", 1, 0),
    ]
    assert _moves(store_url, datetime(2025, 3, 22, tzinfo=UTC)) == []  # not readmitted yet
