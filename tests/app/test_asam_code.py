"""The ASAM code a stay was entered with is kept in its event (`asam_code` of
PatientAdmitted and LevelOfCareChanged, schema version 3): as entered, or the level's
default code when entered by id. The bulk import stores the same bytes; stores written
before from ASAM-coded input (tests/fixtures/main_f4bc79b_asam: schema version 1 events;
main_ea820f5_asam: version 2, with `recorded_by`) still verify, load and project the same,
and export the levels' default codes."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from audit.verify import verify_log, verify_patient
from config.settings import Settings
from consumers.replay import compare, live_position, rebuild_into, tables_for
from infrastructure.sql import connect
from journey import domain_events
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.exports.fhir import write_bundles
from projections.exports.fhir_identities import identities
from projections.exports.teds import read_teds, teds_rows, write_teds
from services.bootstrap import build_application
from services.bulk.importer import bulk_import_lines
from services.importing import import_lines
from tests.app.bulk_support import NOW, Opener, Stores, histories, log_rows
from tests.exports.cohort import export_cohort
from tests.instants import as_written_now
from tests.readmodels.support import follow

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WRITTEN_BEFORE = pytest.mark.parametrize("fixture", ["main_f4bc79b_asam", "main_ea820f5_asam"])
V = domain_events.PatientAdmitted.class_version  # the schema version that added asam_code
STAYS = ("PatientAdmitted", "LevelOfCareChanged")


def _codes(app: JourneyApplication, pid: str) -> list[tuple[str, str, str | None, int]]:
    found = []
    for e in app.history(pid):
        if e.type in STAYS:
            payload: Any = e.payload
            level = payload.level if e.type == "PatientAdmitted" else payload.to_level
            found.append((e.type, level, payload.asam_code, e.schema_version))
    return found


def test_the_code_entered_is_kept_in_the_event_beside_the_level_id(
    app: JourneyApplication,
) -> None:
    commands = (
        {"command": "admit", "patient_id": "p", "level": "1-WM"},
        {"command": "transition", "patient_id": "p", "to_level": "3.1"},
        {"command": "transition", "patient_id": "p", "to_level": "iop"},
        {"command": "discharge", "patient_id": "p", "reason": "completed"},
        {"command": "admit", "patient_id": "p", "level": "3.7 (WM)"},
    )
    for month, raw in enumerate(commands, start=1):
        app.handle(parse_command(raw | {"occurred_at": f"2025-0{month}-01T10:00:00Z"}))
    assert _codes(app, "p") == [
        ("PatientAdmitted", "detox", "1-WM", V),
        ("LevelOfCareChanged", "inpatient", "3.1", V),
        ("LevelOfCareChanged", "iop", "2.1", V),  # entered by id: the level's default code
        ("PatientAdmitted", "detox", "3.7 (WM)", V),
    ]
    assert verify_log(app).ok and verify_patient(app, "p").ok
    assert domain_events.SessionRecorded.class_version < V  # a new schema version


@pytest.mark.usefixtures("frozen_clock")
def test_the_bulk_import_stores_the_same_bytes(two_stores: Stores, open_app: Opener) -> None:
    normal_url, bulk_url = two_stores
    lines = [json.dumps(c) for c in export_cohort()]
    normal, bulk = open_app(normal_url), open_app(bulk_url)
    assert import_lines(normal, lines, now=NOW).applied
    report = bulk_import_lines(lines, settings=Settings(database_url=bulk_url), workers=0, now=NOW)
    assert report.applied and report.accepted == len(lines)
    assert log_rows(bulk) == log_rows(normal)
    assert _codes(bulk, "p-mixed") == [
        ("PatientAdmitted", "detox", "1-WM", V),
        ("LevelOfCareChanged", "inpatient", "3.1", V),
        ("LevelOfCareChanged", "iop", "2.1", V),
    ]
    assert histories(bulk) == histories(normal) and verify_log(bulk).ok


def _old_store(tmp_path: Path, fixture: str) -> str:
    shutil.copy(FIXTURES / fixture / "store.db", tmp_path / "store.db")
    return f"sqlite:///{tmp_path}/store.db"


def _as_read_now(event: dict[str, Any]) -> dict[str, Any]:
    """An event stored before as the current code reads it: `recorded_by` as stored (None
    before version 2), `asam_code` None on admissions and level changes (version 3)."""
    event = as_written_now(event)  # saved with `Z`, written `+00:00` since issue 12
    now = {**event, "recorded_by": event.get("recorded_by"), "schema_version": 2}
    if event["payload"]["type"] in STAYS:
        now |= {"schema_version": V, "payload": event["payload"] | {"asam_code": None}}
    return now


@WRITTEN_BEFORE
def test_a_store_written_before_verifies_loads_and_projects_the_same(
    tmp_path: Path, fixture: str
) -> None:
    url = _old_store(tmp_path, fixture)
    app = build_application(Settings(database_url=url))
    live, scratch = connect(url), connect(f"sqlite:///{tmp_path}/scratch.db")
    try:
        result = verify_log(app)
        assert result.ok and result.events == 6, result.first()
        before = json.loads((FIXTURES / fixture / "history-p-coded.json").read_text())["events"]
        now = [e.model_dump(mode="json") for e in app.history("p-coded")]
        assert now == [_as_read_now(e) for e in before]
        assert [code for *_, code, _v in _codes(app, "p-coded")] == [None, None]  # not kept then
        assert follow(app, url) == 6  # the older read models are rebuilt in the current format
        assert rebuild_into(app, scratch, live_position(live, app)) == 6
        results = compare(live, scratch, tables_for(None))
        assert results and all(c.equal for c in results), [c.live.table for c in results]
    finally:
        scratch.close()
        live.close()
        app.close()


@WRITTEN_BEFORE
def test_old_events_export_the_levels_default_codes(tmp_path: Path, fixture: str) -> None:
    url = _old_store(tmp_path, fixture)
    app = build_application(Settings(database_url=url))
    db = connect(url)
    try:
        follow(app, url)  # read models of the older format are rebuilt; asam_code NULL
        with db.transaction() as unit:
            found = identities(app, unit)
            write_bundles(unit, tmp_path / "fhir", found, identifier_system="urn:test:pid")
            rows = teds_rows(unit, NOW)
    finally:
        db.close()
        app.close()
    bundles = [json.loads(p.read_text()) for p in (tmp_path / "fhir").glob("*-*.json")]
    asam = "https://carejourney.org/fhir/CodeSystem/asam-level"
    codes = sorted(
        c["code"]
        for b in bundles
        for e in b["entry"]
        if "/stay/" in e["resource"]["identifier"][0]["value"]
        for c in e["resource"]["type"][0]["coding"]
        if c["system"] == asam
    )
    assert codes == ["2.1", "3.7", "3.7-WM"]  # defaults of detox, inpatient, iop
    sink = io.StringIO()
    write_teds(rows, sink)
    (row,) = read_teds(io.StringIO(sink.getvalue()))
    assert (row["SERVICES"], row["SERVICES_D"], row["DISYR"]) == ("2", "5", "2026")
