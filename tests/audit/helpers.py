"""Helpers of the tamper tests: the `journey` CLI on any store, snapshots edited in place."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.domain_events import PatientSnapshot
from tests.audit.test_tamper_evidence import raw
from tests.cli_support import run_journey

NOW = datetime(2026, 11, 1, tzinfo=UTC)
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def journey(
    url: str, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`journey ARGS` in a subprocess on the store at `url` (Kafka only when given)."""
    return run_journey(url, *args, stdin=stdin, env=env)


def snapshots_table(url: str) -> str:
    return "stored_snapshots" if url.startswith("sqlite") else "carejourney_snapshots"


def discharged_after_200_events(app: JourneyApplication, patient_id: str = "snap-1") -> None:
    """Admission, 198 sessions and a discharge: version 200, so a snapshot is taken of the
    discharged patient."""
    commands: list[dict[str, Any]] = [
        {"command": "admit", "patient_id": patient_id, "level": "iop",
         "occurred_at": START.isoformat()},
        *({"command": "record_session", "patient_id": patient_id, "session_id": f"s-{i}",
           "format": "group", "approach": "cbt", "duration_minutes": 60,
           "occurred_at": (START + timedelta(hours=2 + 12 * i)).isoformat()}
          for i in range(198)),
        {"command": "discharge", "patient_id": patient_id, "reason": "completed",
         "occurred_at": (START + timedelta(days=110)).isoformat()},
    ]  # fmt: skip
    results = app.handle_many([parse_command(c) for c in commands], atomic=True, now=NOW)
    assert all(not isinstance(r, Exception) for r in results), results


def reopen(state: dict[str, Any]) -> None:
    """The edit of issue 10: the discharged episode re-opened, the patient back at iop."""
    admitted = state["episodes"][-1][0]
    state["episodes"][-1][1] = None
    state["level"], state["stay_started_at"] = "iop", admitted


def edit_snapshot(
    app: JourneyApplication,
    url: str,
    patient_id: str,
    change: Callable[[dict[str, Any]], None],
    *,
    redigest: bool = False,
) -> None:
    """Rewrites the patient's stored snapshot row in SQL with `change` applied to its state
    (and, with `redigest`, a digest recomputed by someone who knows the formula)."""
    assert app.snapshots is not None
    (row,) = app.snapshots.recorder.select_events(patient_id)
    snapshot: Any = app.mapper.to_domain_event(row)
    assert isinstance(snapshot, PatientSnapshot)
    change(snapshot.state)
    if redigest:
        fresh = PatientSnapshot.take(snapshot.mutate(None))
        object.__setattr__(snapshot, "digest", fresh.digest)
    state = app.mapper.to_stored_event(snapshot).state
    with raw(url) as (conn, _, mark):
        conn.execute(
            f"UPDATE {snapshots_table(url)} SET state = {mark} WHERE originator_id = {mark}",
            (state, patient_id),
        )
