"""Helpers for the bulk-import tests: what to import and what to compare between the normal
path's store and the bulk path's (fixtures in tests/app/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from devtools.demo.cohort import generate_cohort
from journey.application import JourneyApplication

Stores = tuple[str, str]  # the normal path's store, then the bulk path's
Opener = Callable[..., JourneyApplication]  # the `open_app` fixture
UNTIL = date(2026, 11, 1)
NOW = datetime(2026, 11, 2, tzinfo=UTC)  # after every clinical time of the cohort
RECORDED = datetime(2026, 11, 2, 12, tzinfo=UTC)  # the frozen recording clock
RECORDING_ONLY = {"recorded_at", "event_id", "chain_hash"}  # what the recording time decides


def cohort_lines(patients: int) -> list[str]:
    return [json.dumps(c) for c in generate_cohort(patients, seed=7, until=UNTIL)]


def log_rows(app: JourneyApplication) -> list[tuple[int, str, int, str, bytes]]:
    """Every stored event: position, patient, version, topic and stored bytes."""
    rows = app.recorder.select_notifications(start=1, limit=10**7)
    return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state) for n in rows]


def anchors(app: JourneyApplication) -> list[Any]:
    return app.recorder.select_anchors(1, 10**7)  # type: ignore[attr-defined,no-any-return]


def snapshot_rows(app: JourneyApplication) -> list[tuple[str, int, bytes]]:
    assert app.snapshots is not None
    patients = sorted({row[1] for row in log_rows(app)})
    return [
        (pid, s.originator_version, s.state)
        for pid in patients
        for s in app.snapshots.recorder.select_events(pid)
    ]


def histories(app: JourneyApplication, *, drop: set[str] | None = None) -> dict[str, list[Any]]:
    """Each patient's events as envelope dicts, without the `drop` keys."""
    patients = sorted({row[1] for row in log_rows(app)})
    return {
        pid: [
            {k: v for k, v in e.model_dump(mode="json").items() if k not in (drop or set())}
            for e in app.history(pid)
        ]
        for pid in patients
    }


def rejected(report: Any) -> list[tuple[int, str]]:
    return [(r.line, str(r.error)) for r in report.rejected]
