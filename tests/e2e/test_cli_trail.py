"""The CLI side of the access trail, in subprocesses: `verify --access-log` / `--all` check
the trail's chain (exit 5 naming the row), `anchors --out` is recorded, a failed read is
recorded as `error`, and a trail written by main f282db8 is migrated on first use."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from tests.e2e.test_cli import ADMIT, journey, jsonl

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "main_f282db8" / "store.db"


def trail(store: Path) -> list[dict[str, Any]]:
    answer = journey(store, "access-log", "--json", "--as", "aud-1")
    assert answer.returncode == 0, answer.stderr
    rows: list[dict[str, Any]] = json.loads(answer.stdout)
    return list(reversed(rows))


def test_verify_checks_the_trail_of_a_store_written_by_main(tmp_path: Path) -> None:
    store = tmp_path / "old.db"
    shutil.copy(FIXTURE, store)
    every = journey(store, "verify", "--all")
    assert every.returncode == 0, every.stderr
    assert "OK: the log: 8 events verified" in every.stdout
    assert "OK: the access trail: 5 rows verified" in every.stdout
    assert [r["actor"] for r in trail(store)][:2] == ["dr-a", "aud-1"]
    with sqlite3.connect(store) as conn:
        conn.execute("DROP TRIGGER audit_access_log_no_update")
        conn.execute("UPDATE audit_access_log SET actor = 'someone-else' WHERE id = 2")
    broken = journey(store, "verify", "--access-log")
    assert broken.returncode == 5
    assert "BROKEN: access trail row 2: does not match its chain hash" in broken.stderr
    assert journey(store, "verify", "--all").returncode == 5
    assert journey(store, "verify", "p-old-1").returncode == 0  # the events are intact


def test_anchors_export_is_recorded(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    journey(store, "import", "-", stdin=jsonl(ADMIT))
    out = tmp_path / "anchors.jsonl"
    done = journey(store, "anchors", "--out", str(out), "--actor", "aud-7")
    assert done.returncode == 0, done.stderr
    last = trail(store)[0]
    assert (last["actor"], last["action"], last["outcome"]) == ("aud-7", "anchors.export", "ok")
    assert str(out) in last["detail"]


def test_a_read_that_fails_is_recorded_as_error_not_ok(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    journey(store, "import", "-", stdin=jsonl(ADMIT))
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE stored_events SET state = X'00ff'")
    failed = journey(store, "history", "p-1", "--actor", "dr-a")
    assert failed.returncode != 0
    last = trail(store)[0]
    assert (last["actor"], last["action"], last["outcome"]) == ("dr-a", "history.read", "error")


def test_an_invalid_cli_read_is_recorded_as_invalid(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    journey(store, "import", "-", stdin=jsonl(ADMIT))
    refused = journey(store, "show", "p-1", "--as-of", "yesterday", "--actor", "dr-a")
    assert refused.returncode == 1
    last = trail(store)[0]
    assert (last["actor"], last["action"], last["outcome"]) == ("dr-a", "journey.read", "invalid")


def test_events_store_who_recorded_them_from_the_cli(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    named = {**ADMIT, "actor": "dr-b"}
    journey(store, "import", "-", "--actor", "intake-1", stdin=jsonl(named))
    second = {**ADMIT, "patient_id": "p-2"}
    journey(store, "import", "-", "--bulk", stdin=jsonl(second))
    events = [
        json.loads(journey(store, "history", p, "--json").stdout)["events"][0]
        for p in ("p-1", "p-2")
    ]
    assert (events[0]["actor"], events[0]["recorded_by"]) == ("dr-b", "intake-1")
    assert events[1]["recorded_by"].startswith("os:")
    assert events[1]["actor"] == events[1]["recorded_by"]
