"""Erasure and the key check at the edges: HTTP (role admin, 410 Gone afterwards, the
access trail) and the command line (exit codes, messages), on real stores."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app
from services.bootstrap import build_application
from tests.cli_support import run_journey
from tests.privacy.support import raw_rows

KEY, OTHER_KEY = AESCipher.create_key(32), AESCipher.create_key(32)
KEYS = "k-admin=admin-ann:admin;k-clin=dr-a:clinician;k-audit=aud-1:auditor"
ADMIT = {"level": "detox", "occurred_at": "2026-01-01T10:00:00Z", "timezone": "Europe/Oslo"}


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    settings = Settings(database_url=store_url, api_keys=KEYS, cipher_key=KEY)
    application = build_application(settings)
    with TestClient(create_app(application, settings)) as test_client:
        yield test_client
    application.close()


def as_(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def test_http_erasure_is_admin_only_then_the_patient_is_gone(
    client: TestClient, store_url: str
) -> None:
    assert client.post("/v1/patients/p-1/admissions", json=ADMIT, headers=as_("k-clin")).is_success
    url = "/v1/patients/p-1/erasure"
    assert client.post(url, json={"reason": "request"}, headers=as_("k-clin")).status_code == 403
    assert client.post(url, json={}, headers=as_("k-admin")).status_code == 422
    assert (
        client.post(url, json={"reason": "x", "why": 1}, headers=as_("k-admin")).status_code == 422
    )
    done = client.post(url, json={"reason": "patient request"}, headers=as_("k-admin"))
    assert done.status_code == 200, done.text
    assert done.json()["erased_version"] == 1
    for path in ("journey", "history"):
        gone = client.get(f"/v1/patients/p-1/{path}", headers=as_("k-audit"))
        assert gone.status_code == 410
        assert gone.headers["content-type"] == "application/problem+json"
        assert "erased" in gone.json()["detail"]
    again = client.post(url, json={"reason": "again"}, headers=as_("k-admin"))
    assert again.status_code == 410
    command = client.post(
        "/v1/patients/p-1/sessions",
        json={"session_id": "s", "format": "group", "approach": "cbt", "duration_minutes": 60,
              "occurred_at": "2026-01-01T12:00:00Z"},
        headers=as_("k-clin"),
    )  # fmt: skip
    assert command.status_code == 410
    trail = raw_rows(
        store_url,
        "SELECT actor, outcome FROM audit_access_log WHERE action = 'patient.erase' ORDER BY at",
    )
    assert [t[0] for t in trail] == ["dr-a", "admin-ann", "admin-ann", "admin-ann", "admin-ann"]
    assert trail[3][1] == "ok" and trail[4][1] != "ok"


def journey(store: Path, *args: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    settings = {"JOURNEY_API_KEYS": KEYS, "JOURNEY_CIPHER_KEY": key}
    return run_journey(f"sqlite:///{store}", *args, env=settings, timeout=120)


def test_cli_erase_then_reads_exit_3_and_verify_passes(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    commands = tmp_path / "c.jsonl"
    commands.write_text(json.dumps({"command": "admit", "patient_id": "p-1", **ADMIT}) + "\n")
    assert journey(store, "import", str(commands)).returncode == 0
    done = journey(store, "erase", "p-1", "--reason", "patient request", "--actor", "admin-ann")
    assert done.returncode == 0, done.stderr
    assert "erased patient p-1" in done.stdout
    report = ["audit-report", "p-1", "--out", str(tmp_path / "r.html")]
    again = ["erase", "p-1", "--reason", "again", "--actor", "admin-ann"]
    for read in (["show", "p-1"], ["history", "p-1"], report, again):
        gone = journey(store, *read)
        assert gone.returncode == 3, gone.stderr
        assert "erased" in gone.stderr
    assert not (tmp_path / "r.html").exists()
    trail = raw_rows(
        f"sqlite:///{store}",
        "SELECT actor, outcome FROM audit_access_log WHERE action = 'patient.erase' ORDER BY at",
    )
    assert [t[0] for t in trail] == ["admin-ann", "admin-ann"]
    assert trail[0][1] == "ok" and trail[1][1] != "ok"
    verified = journey(store, "verify", "--all")
    assert verified.returncode == 0, verified.stderr
    assert "ERASED: patient p-1" in verified.stdout and "OK" in verified.stdout


def test_cli_refuses_erasure_on_a_plain_store_and_a_key_that_does_not_fit(tmp_path: Path) -> None:
    store = tmp_path / "plain.db"
    commands = tmp_path / "c.jsonl"
    commands.write_text(json.dumps({"command": "admit", "patient_id": "p-1", **ADMIT}) + "\n")
    assert journey(store, "import", str(commands), key=None).returncode == 0
    refused = journey(store, "erase", "p-1", "--reason", "request", key=None)
    assert refused.returncode == 4 and "encryption at rest" in refused.stderr
    for key in (KEY, "garbage"):
        wrong = journey(store, "show", "p-1", key=key)
        assert wrong.returncode == 7, wrong.stderr
        assert "JOURNEY_CIPHER_KEY" in wrong.stderr and "Traceback" not in wrong.stderr
    encrypted = tmp_path / "encrypted.db"
    assert journey(encrypted, "import", str(commands)).returncode == 0
    served = journey(encrypted, "serve", "--port", "0", key=OTHER_KEY)
    assert served.returncode == 7 and "not the key of this store" in served.stderr
    assert "API on" not in served.stderr


def test_cli_rotate_key_then_only_the_new_key_opens_the_store(tmp_path: Path) -> None:
    store = tmp_path / "journey.db"
    commands = tmp_path / "c.jsonl"
    commands.write_text(json.dumps({"command": "admit", "patient_id": "p-1", **ADMIT}) + "\n")
    assert journey(store, "import", str(commands)).returncode == 0
    os.environ["JOURNEY_NEW_CIPHER_KEY"] = OTHER_KEY
    try:
        rotated = journey(store, "rotate-key", "--actor", "ops-olga")
    finally:
        del os.environ["JOURNEY_NEW_CIPHER_KEY"]
    assert rotated.returncode == 0, rotated.stderr
    assert "re-wrapped 1 data keys" in rotated.stdout
    assert journey(store, "show", "p-1").returncode == 7
    shown = journey(store, "show", "p-1", "--json", key=OTHER_KEY)
    assert shown.returncode == 0 and json.loads(shown.stdout)["status"] == "active"
