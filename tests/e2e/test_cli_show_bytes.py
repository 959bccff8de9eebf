"""`journey show` (which folds the stored rows, projections/stored_journey.py) prints, byte for
byte, what the plain fold of eventsourcing's envelopes renders, as text and as JSON, for
several as-of x known-at, and records each read in the access trail as before (one
`journey.read` row per show, its instants in the detail, outcome ok; an unknown patient
is recorded as not_found and exits 3, as main 22dafb3 records it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from interfaces.render import journey_text
from interfaces.timeparse import parse_instant
from projections.journey import project_journey
from services.bootstrap import build_application
from tests.app.test_care_program import PROGRAM
from tests.app.test_fast_history import plain_path
from tests.e2e.test_cli import journey, jsonl
from tests.e2e.test_cli_trail import trail

PATIENT = "p-1"
COMMANDS = [
    *PROGRAM[:2],  # admit, assign_primary_therapist
    *[
        {
            "command": "record_session",
            "session_id": f"s-{n}",
            "format": "individual" if n % 2 else "group",
            "approach": "cbt",
            "duration_minutes": 50 + n,
            "occurred_at": f"2026-01-{6 + n:02d}T15:00:00-07:00",
            "clinician_id": "c-1",
        }
        for n in range(12)
    ],
    {"command": "correct_session", "session_id": "s-1", "reason": "typo", "approach": "dbt"},
    {"command": "void_session", "session_id": "s-2", "reason": "wrong patient"},
    {"command": "transition", "to_level": "outpatient", "occurred_at": "2026-01-20T09:00:00-07:00"},
]


def shows(store: Path) -> list[dict[str, Any]]:
    """The trail's `journey.read` rows, oldest first."""
    return [r for r in trail(store) if r["action"] == "journey.read"]


def expected(store: Path, as_of: str, known_at: str | None, *, as_json: bool) -> str:
    app = build_application(Settings(database_url=f"sqlite:///{store}"))
    try:
        view = project_journey(
            plain_path(app, PATIENT),
            as_of=parse_instant(as_of, "as_of") or datetime.now(UTC),
            known_at=parse_instant(known_at, "known_at"),
            now=datetime.now(UTC),
        )
    finally:
        app.close()
    assert view is not None
    shown = view.model_dump(mode="json")
    return (json.dumps(shown, indent=2) if as_json else journey_text(shown)) + "\n"


def test_show_prints_the_plain_folds_bytes_and_records_each_read(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    loaded = journey(
        store, "import", "-", stdin=jsonl(*[{**c, "patient_id": PATIENT} for c in COMMANDS])
    )
    assert loaded.returncode == 0, loaded.stderr
    recorded_at = json.loads(
        journey(store, "history", PATIENT, "--json", "--actor", "dr-a").stdout
    )["events"][5]["recorded_at"]
    reads = 0
    for as_of in ("2026-01-12T00:00:00Z", "2026-02-01T00:00:00+00:00"):
        for known_at in (None, recorded_at):
            for as_json in (False, True):
                args = ["show", PATIENT, "--as-of", as_of, "--actor", "dr-a"]
                args += [] if known_at is None else ["--known-at", known_at]
                shown = journey(store, *args, *(["--json"] if as_json else []))
                assert shown.returncode == 0, shown.stderr
                assert shown.stdout == expected(store, as_of, known_at, as_json=as_json)
                reads += 1
                last = shows(store)[-1]
                assert (last["actor"], last["action"], last["outcome"]) == (
                    "dr-a",
                    "journey.read",
                    "ok",
                )
                assert (last["patient_id"], last["detail"]) == (
                    PATIENT,
                    f"as_of={as_of} known_at={known_at}",
                )
    assert len(shows(store)) == reads
    unknown = journey(store, "show", "p-none", "--actor", "dr-a")
    assert unknown.returncode == 3
    last = shows(store)[-1]
    assert (last["action"], last["patient_id"], last["outcome"]) == (
        "journey.read",
        "p-none",
        "not_found",
    )
