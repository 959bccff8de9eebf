"""The `journey` command line end to end, in subprocesses, on a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import run_journey

ADMIT = {
    "command": "admit",
    "patient_id": "p-1",
    "level": "detox",
    "occurred_at": "2026-01-01T10:00:00-07:00",
    "timezone": "America/Phoenix",
}
DISCHARGE = {
    "command": "discharge",
    "patient_id": "p-1",
    "reason": "completed",
    "occurred_at": "2026-01-03T09:00:00-07:00",
}


def journey(store: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_journey(f"sqlite:///{store}", *args, stdin=stdin)


def jsonl(*commands: dict[str, Any]) -> str:
    return "".join(json.dumps(c) + "\n" for c in commands)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "journey.db"


def test_import_from_stdin_then_show_json(store: Path) -> None:
    done = journey(store, "import", "-", stdin=jsonl(ADMIT, DISCHARGE))
    assert done.returncode == 0, done.stderr
    assert "2 accepted" in done.stderr
    view = json.loads(journey(store, "show", "p-1", "--json").stdout)
    assert (view["status"], view["days_in_care"], view["days_by_level"]["detox"]) == (
        "discharged",
        2,
        2,
    )
    assert list(view) == [
        "patient_id",
        "as_of",
        "known_at",
        "as_of_in_future",
        "status",
        "current_level",
        "current_stay_started_at",
        "age_group",
        "timezone",
        "episodes",
        "days_by_level",
        "days_in_care",
        "continuous_care_days",
        "meets_90_day_benchmark",
        "primary_therapist",
        "treatment_plan",
        "plan_overdue",
        "referrals",
        "weeks",
        "sessions",
    ]


def test_show_as_of_and_human_table(store: Path) -> None:
    journey(store, "import", "-", stdin=jsonl(ADMIT, DISCHARGE))
    middle = journey(store, "show", "p-1", "--json", "--as-of", "2026-01-02T12:00:00-07:00")
    view = json.loads(middle.stdout)
    assert (view["status"], view["current_level"], view["days_in_care"]) == ("active", "detox", 1)
    table = journey(store, "show", "p-1").stdout
    assert "Patient p-1" in table and "detox" in table


def test_known_at_between_two_imports(store: Path, tmp_path: Path) -> None:
    journey(store, "import", "-", stdin=jsonl(ADMIT))
    history = json.loads(journey(store, "history", "p-1", "--json").stdout)
    between = history["events"][0]["recorded_at"]
    journey(store, "import", "-", stdin=jsonl(DISCHARGE))
    then = json.loads(journey(store, "show", "p-1", "--json", "--known-at", between).stdout)
    now = json.loads(journey(store, "show", "p-1", "--json").stdout)
    assert (then["status"], now["status"]) == ("active", "discharged")
    assert len(json.loads(journey(store, "history", "p-1", "--json").stdout)["events"]) == 2


def test_rejected_lines_are_named_and_nothing_is_stored(store: Path, tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(jsonl(ADMIT, {**ADMIT, "level": "spa"}, {**DISCHARGE, "extra": 1}))
    done = journey(store, "import", str(source))
    assert done.returncode == 1
    assert "line 2: level: unknown level 'spa'" in done.stderr
    assert "line 3: extra: unknown field" in done.stderr
    assert "nothing imported" in done.stderr
    assert journey(store, "show", "p-1").returncode == 3
    kept = journey(store, "import", str(source), "--continue-on-error")
    assert kept.returncode == 1 and "1 accepted" in kept.stderr
    assert journey(store, "show", "p-1").returncode == 0


def test_naive_as_of_is_rejected_with_the_field_named(store: Path) -> None:
    journey(store, "import", "-", stdin=jsonl(ADMIT))
    done = journey(store, "show", "p-1", "--as-of", "2026-01-02T00:00:00")
    assert done.returncode == 1 and "as_of" in done.stderr and "UTC offset" in done.stderr


def test_history_table_and_unknown_patient(store: Path) -> None:
    journey(store, "import", "-", stdin=jsonl(ADMIT, DISCHARGE))
    table = journey(store, "history", "p-1").stdout
    assert "PatientAdmitted" in table and "PatientDischarged" in table
    missing = journey(store, "history", "nobody")
    assert missing.returncode == 3 and "no patient 'nobody'" in missing.stderr


def test_demo_is_deterministic_and_loads(store: Path, tmp_path: Path) -> None:
    outs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for out in outs:
        journey(
            store,
            "demo",
            "--patients",
            "5",
            "--seed",
            "3",
            "--until",
            "2026-06-01",
            "--out",
            str(out),
        )
    assert outs[0].read_text() == outs[1].read_text() and outs[0].read_text()
    loaded = journey(store, "demo", "--patients", "5", "--until", "2026-06-01")
    assert loaded.returncode == 0 and "0 rejected" in loaded.stderr
    again = journey(store, "demo", "--patients", "5")
    assert "already holds events" in again.stderr


def test_cli_reads_are_in_the_access_trail(store: Path) -> None:
    journey(store, "import", "-", "--actor", "intake-1", stdin=jsonl(ADMIT))
    journey(store, "show", "p-1", "--actor", "dr-a")
    journey(store, "history", "nobody")
    trail = json.loads(journey(store, "access-log", "--json", "--as", "aud-1").stdout)
    seen = [(a["actor"], a["action"], a["patient_id"], a["outcome"]) for a in reversed(trail)]
    assert seen[0] == ("dr-a", "journey.read", "p-1", "ok")
    assert seen[1][0].startswith("os:") and seen[1][1:] == ("history.read", "nobody", "not_found")
    assert all(a["channel"] == "cli" for a in trail)
    only = json.loads(journey(store, "access-log", "--json", "--actor", "dr-a").stdout)
    assert [a["actor"] for a in only] == ["dr-a"]
    events = json.loads(journey(store, "history", "p-1", "--json").stdout)["events"]
    assert events[0]["actor"] == "intake-1"


def test_verify_and_audit_report(store: Path, tmp_path: Path) -> None:
    session = {
        "command": "record_session",
        "patient_id": "p-1",
        "session_id": "s-1",
        "format": "group",
        "approach": "cbt",
        "duration_minutes": 60,
        "occurred_at": "2026-01-02T10:00:00-07:00",
    }
    fix = {
        "command": "correct_session",
        "patient_id": "p-1",
        "session_id": "s-1",
        "reason": "typed 60 for 90",
        "duration_minutes": 90,
    }
    journey(store, "import", "-", stdin=jsonl(ADMIT, session, fix, DISCHARGE))
    assert journey(store, "verify", "--all").returncode == 0
    report = tmp_path / "p-1.html"
    done = journey(store, "audit-report", "p-1", "--out", str(report), "--actor", "aud-1")
    assert done.returncode == 0, done.stderr
    page = report.read_text()
    assert "Verified: 4 events" in page and "typed 60 for 90" in page and "<svg" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")
    with sqlite3.connect(store) as conn:
        conn.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT),"
            " '\"group\"', '\"individual\"') AS BLOB) WHERE originator_version = 2"
        )
    broken = journey(store, "verify", "p-1")
    assert broken.returncode == 5 and "patient p-1 version 2" in broken.stderr
    journey(store, "audit-report", "p-1", "--out", str(report))
    assert "BROKEN: patient p-1 version 2" in report.read_text()
