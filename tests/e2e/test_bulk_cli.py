"""`journey import FILE --bulk` end to end, in subprocesses, on a real SQLite store: the same
histories as `journey import`, a log `journey verify` accepts, rejected lines named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.test_cli import journey

RECORDING_ONLY = {"recorded_at", "event_id", "chain_hash"}
AT_IMPORT = {"SessionCorrected", "SessionEnteredInError"}  # occurred when imported: `now`


def _history(store: Path, patient_id: str) -> list[dict[str, Any]]:
    done = journey(store, "history", patient_id, "--json")
    assert done.returncode == 0, done.stderr
    events = json.loads(done.stdout)["events"]
    for event in events:
        if event["payload"]["type"] in AT_IMPORT:
            event.pop("occurred_at")
    return [{k: v for k, v in e.items() if k not in RECORDING_ONLY} for e in events]


def test_bulk_import_verifies_and_matches_the_normal_import(tmp_path: Path) -> None:
    source, normal, bulk = tmp_path / "demo.jsonl", tmp_path / "normal.db", tmp_path / "bulk.db"
    journey(normal, "demo", "--patients", "8", "--until", "2026-06-01", "--out", str(source))
    assert journey(normal, "import", str(source)).returncode == 0
    done = journey(bulk, "import", str(source), "--bulk", "--workers", "2")
    assert done.returncode == 0, done.stderr
    lines = len(source.read_text().splitlines())
    assert f"{lines} lines: {lines} accepted, 0 duplicates, 0 rejected" in done.stderr
    verified = journey(bulk, "verify", "--all")
    assert verified.returncode == 0 and f"{lines} events verified" in verified.stdout
    for patient in ("demo-000001", "demo-000008"):
        assert _history(bulk, patient) == _history(normal, patient)
    again = journey(bulk, "import", str(source), "--bulk")
    assert again.returncode == 1
    assert "line 1: command: the patient already has an open episode" in again.stderr
    assert "nothing imported" in again.stderr
    log_line = verified.stdout.splitlines()[0]  # the trail's line counts the reads since
    assert journey(bulk, "verify", "--all").stdout.splitlines()[0] == log_line
