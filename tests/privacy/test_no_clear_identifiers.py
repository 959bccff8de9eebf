"""Greps an encrypted SQLite store (database file and WAL) after a demo cohort with
clinician ids, time zones and free-text reasons was imported, projected and read.

No clinician id, session id, actor or free text is anywhere in clear. Patient ids stay
only where docs/privacy.md says and why (the event, snapshot, anchor and key tables' id
columns; the access trail keeps a keyed pseudonym and seals the id); time zones and
coded values (levels, approaches) only in the read models, which need them for the local
dates of the cohort figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eventsourcing.cryptography import AESCipher
from fastapi.testclient import TestClient

from config.settings import Settings
from devtools.demo.care import CareProfile
from devtools.demo.cohort import CohortProfile, generate_cohort
from interfaces.api import create_app
from services.bootstrap import build_application
from services.importing import import_lines
from tests.privacy.support import raw_rows
from tests.readmodels.support import UNTIL, follow

KEY = AESCipher.create_key(32)
PATIENT_ID_PLACES = {
    ("stored_events", "originator_id"),
    ("stored_snapshots", "originator_id"),
    ("audit_anchors", "originator_id"),
    ("journey_keys", "patient_id"),
}
TIMEZONE_PLACES = {
    "rm_patients",
    "rm_weeks",
    "rm_census_deltas",
    "rm_week_counts",
    "rm_week_spans",
    # care-standards' weekly read model (format 5): pseudonymized, as rm_weeks
    "rm_care_weeks",
    "rm_care_week_counts",
    "rm_care_spans",
}


def cohort() -> list[dict[str, Any]]:
    """A demo cohort, with its clinical program (therapists, plans with goal and objective
    descriptions, referrals), whose sessions name clinicians and whose ids are easy to grep."""
    profile = CohortProfile(care=CareProfile())
    commands = list(
        generate_cohort(12, seed=11, until=UNTIL, id_prefix="pt-secret", profile=profile)
    )
    for n, c in enumerate(commands):
        for field in ("clinician_id", "to_clinician_id", "plan_id", "referral_id"):
            if c.get(field) and c["command"] != "record_session":
                c[field] = f"{field.split('_')[0]}-secret-{c[field]}"
        for goal in c.get("goals", []):
            goal["description"] = f"desc-secret goal {goal['goal_id']}"
            for objective in goal["objectives"]:
                objective["description"] = "desc-secret objective"
        if "session_id" in c:
            c["session_id"] = f"sess-secret-{c['session_id']}"
        if c["command"] == "record_session":
            c["clinician_id"] = f"dr-secret-{n % 5}"
        if c["command"] == "transition":
            c["reason"] = f"free-text-secret {n}"
        c["actor"] = f"actor-secret-{n % 3}"
    return commands


def test_an_encrypted_store_file_holds_no_identifier_in_clear(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    url = f"sqlite:///{store}"
    settings = Settings(database_url=url, cipher_key=KEY, api_keys="k=aud:auditor")
    app = build_application(settings)
    commands = cohort()
    report = import_lines(app, [json.dumps(c) for c in commands])
    assert report.applied and not report.rejected
    follow(app, url)
    patients = sorted({c["patient_id"] for c in commands})
    with TestClient(create_app(app, settings)) as client:
        for pid in patients:
            assert client.get(f"/v1/patients/{pid}/journey", headers={"X-API-Key": "k"}).is_success
    app.close()
    zones = sorted({c["timezone"] for c in commands if c.get("timezone")})
    assert len(zones) > 1

    raw = b"".join(p.read_bytes() for p in tmp_path.glob("journey.db*"))
    assert {c["command"] for c in commands} >= {"create_treatment_plan", "refer"}
    journey = (b"dr-secret", b"sess-secret", b"actor-secret", b"free-text-secret")
    program = (b"clinician-secret", b"to-secret", b"plan-secret", b"referral-secret")
    for never in (*journey, *program, b"desc-secret"):
        assert never not in raw, never

    for table, column, value in _text_values(url):
        if (table, column) not in PATIENT_ID_PLACES:
            assert "pt-secret" not in value, (table, column)
        if table not in TIMEZONE_PLACES or column != "timezone":
            assert not any(zone in value for zone in zones), (table, column)


def _text_values(url: str) -> list[tuple[str, str, str]]:
    """Every value of every column of every table, as text (blobs decoded loosely)."""
    tables = [r[0] for r in raw_rows(url, "SELECT name FROM sqlite_master WHERE type='table'")]
    values = []
    for table in tables:
        columns = [r[1] for r in raw_rows(url, f"PRAGMA table_info({table})")]
        for row in raw_rows(url, f"SELECT * FROM {table}"):
            for column, value in zip(columns, row, strict=True):
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                values.append((table, column, text))
    return values
