"""The clinical program through the command line: `journey import` accepts the five
commands (rejections named by line), `journey history` shows them as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.app.test_care_program import PROGRAM
from tests.e2e.test_cli import journey


def test_import_and_history_of_the_program(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    lines = [json.dumps({**raw, "patient_id": "p-1"}) for raw in PROGRAM]
    lines.append(json.dumps({**PROGRAM[1], "patient_id": "p-1"}))  # the same therapist again
    done = journey(store, "import", "--continue-on-error", "-", stdin="\n".join(lines) + "\n")
    assert done.returncode == 1, done.stderr
    assert "line 7" in done.stderr and "already_primary" in done.stderr
    table = journey(store, "history", "p-1").stdout
    for name in ("PrimaryTherapistAssigned", "TreatmentPlanCreated", "TreatmentPlanReviewed"):
        assert name in table
    assert 'goals=[{"goal_id":"g-1","dimension":"relapse_potential"' in table
    assert '"target_date":"2026-01-20"' in table and 'objectives={"o-1":"in_progress"}' in table
    assert "outcome=completed" in table and "specialty=trauma" in table
    text = journey(store, "history", "p-1", "--json").stdout
    events = json.loads(text)["events"]
    assert 'Z"' not in text and all(e["recorded_at"].endswith("+00:00") for e in events)
    assert events[0]["occurred_at"] == "2026-01-05T09:00:00-07:00"  # as entered
    assert [e["payload"]["type"] for e in events][-2:] == ["PatientReferred", "ReferralClosed"]
    assert events[4]["payload"] == {
        "type": "PatientReferred",
        "referral_id": "r-1",
        "specialty": "trauma",
        "to_clinician_id": "c-9",
    }
