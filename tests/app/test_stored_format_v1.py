"""A store written by main at f282db8 (schema version 1 events, no `recorded_by`, an access
trail without chain hashes) still verifies, loads and projects the same after the change,
and new events are chained after the old ones with their `recorded_by`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.verify import verify_log, verify_patient
from config.settings import Settings
from consumers.replay import compare, live_position, rebuild_into, tables_for
from infrastructure.sql import connect
from journey.commands import parse_command
from projections.queries import patient_history, patient_journey
from projections.read_models.schema import FORMAT_VERSION
from services.bootstrap import build_application
from tests.app.old_views import assert_same_as_before
from tests.instants import as_written_now
from tests.readmodels.support import follow

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "main_f282db8"


def old_store(tmp_path: Path) -> str:
    shutil.copy(FIXTURE / "store.db", tmp_path / "store.db")
    return f"sqlite:///{tmp_path}/store.db"


def saved(name: str) -> Any:
    return json.loads((FIXTURE / name).read_text())


def _now_read(event: dict[str, Any]) -> dict[str, Any]:
    """A version 1 event as the current code reads it: every event gains `recorded_by`
    (version 2), admissions and level changes `asam_code` (version 3), all None."""
    if event["payload"]["type"] in ("PatientAdmitted", "LevelOfCareChanged"):
        payload = event["payload"] | {"asam_code": None}
        return {**event, "schema_version": 3, "recorded_by": None, "payload": payload}
    return {**event, "schema_version": 2, "recorded_by": None}


def test_old_events_verify_and_load_as_before(tmp_path: Path) -> None:
    app = build_application(Settings(database_url=old_store(tmp_path)))
    try:
        result = verify_log(app)
        assert result.ok and result.events == 8, result.first()
        assert verify_patient(app, "p-old-1").ok
        history = [e.model_dump(mode="json") for e in patient_history(app, "p-old-1")]
        before = as_written_now(saved("history-p-old-1.json")["events"])  # `Z` -> `+00:00`
        assert [e["schema_version"] for e in before] == [1] * 7
        assert history == [_now_read(e) for e in before]
        journey = patient_journey(app, "p-old-1", as_of=datetime(2026, 6, 1, tzinfo=UTC))
        assert_same_as_before(journey.model_dump(mode="json"), saved("journey-p-old-1.json"))
    finally:
        app.close()


def test_old_read_models_are_rebuilt_and_equal_a_replay(tmp_path: Path) -> None:
    """Read models written by f282db8 (format 1: ids in clear) are dropped and rebuilt by
    the log follower in the current format; they then equal a replay of the log."""
    url = old_store(tmp_path)
    app, live = build_application(Settings(database_url=url)), connect(url)
    scratch = connect(f"sqlite:///{tmp_path}/scratch.db")
    try:
        with live.transaction() as unit:
            assert unit.one("SELECT COUNT(*) FROM rm_patients") == (2,)  # the old rows
        assert follow(app, url) == 8
        with live.transaction() as unit:
            assert unit.one("SELECT max(version) FROM rm_format") == (FORMAT_VERSION,)
            patients = unit.all("SELECT patient_id FROM rm_patients")
        assert patients and all(p[0].startswith("ps_") for p in patients)
        assert rebuild_into(app, scratch, live_position(live, app)) == 8
        results = compare(live, scratch, tables_for(None))
        assert results and all(c.equal for c in results), [c.live.table for c in results]
    finally:
        scratch.close()
        live.close()
        app.close()


def test_new_events_chain_after_old_ones_with_recorded_by(tmp_path: Path) -> None:
    app = build_application(Settings(database_url=old_store(tmp_path)))
    try:
        admit = {
            "command": "admit",
            "patient_id": "p-old-1",
            "level": "iop",
            "occurred_at": "2026-03-01T10:00:00Z",
            "actor": "admin-eve",
        }
        app.handle(parse_command(admit), recorded_by="svc-intake")
        last = patient_history(app, "p-old-1")[-1]
        assert (last.version, last.actor, last.recorded_by) == (8, "admin-eve", "svc-intake")
        assert last.schema_version == 3 and last.payload.asam_code == "2.1"  # type: ignore[union-attr]
        assert verify_log(app).ok and verify_patient(app, "p-old-1").ok
    finally:
        app.close()


def test_recorded_by_is_covered_by_the_chain_hash(tmp_path: Path) -> None:
    import sqlite3

    url = old_store(tmp_path)
    app = build_application(Settings(database_url=url))
    try:
        admit = {"command": "admit", "patient_id": "p-new", "level": "iop"}
        admit["occurred_at"] = "2026-03-01T10:00:00Z"
        app.handle(parse_command(admit), recorded_by="svc-intake")
        with sqlite3.connect(tmp_path / "store.db") as conn:
            conn.execute(
                "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT),"
                ' \'"recorded_by":"svc-intake"\', \'"recorded_by":null\') AS BLOB)'
                " WHERE originator_id = 'p-new'"
            )
        app.repository.cache = None
        result = verify_patient(app, "p-new")
        assert any("chain hash" in b.reason for b in result.breaks), result.breaks
    finally:
        app.close()
