"""The read models are a limited data set: keyed pseudonyms instead of patient, clinician
and session ids, no free text; read models of the earlier format (clear ids) are rebuilt
automatically at the next start."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eventsourcing.cryptography import AESCipher

from audit.pseudonyms import pseudonym, pseudonym_key
from config.settings import Settings
from infrastructure.keys import parse_master_key
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models.schema import FORMAT_VERSION, READ_MODEL_TABLES
from services.bootstrap import build_application
from tests.privacy.legacy import FIXTURES, PATIENTS
from tests.privacy.support import raw_rows
from tests.readmodels.support import follow, rebuilt

KEY = AESCipher.create_key(32)
SECRETS = ("p-visible", "dr-visible", "sess-visible", "moved for a family reason")


def commands() -> list[Any]:
    raw: list[dict[str, Any]] = [
        {"command": "admit", "patient_id": "p-visible", "level": "inpatient",
         "occurred_at": "2026-01-05T10:00:00Z", "timezone": "America/Chicago"},
        {"command": "record_session", "patient_id": "p-visible", "session_id": "sess-visible",
         "format": "individual", "approach": "cbt", "duration_minutes": 50,
         "clinician_id": "dr-visible", "occurred_at": "2026-01-06T10:00:00Z"},
        {"command": "transition", "patient_id": "p-visible", "to_level": "iop",
         "reason": "moved for a family reason", "occurred_at": "2026-01-08T10:00:00Z"},
    ]  # fmt: skip
    return [parse_command(c) for c in raw]


def every_rm_value(store_url: str) -> list[str]:
    return [
        str(value)
        for table in READ_MODEL_TABLES
        for row in raw_rows(store_url, f"SELECT * FROM {table}")
        for value in row
    ]


def test_read_models_hold_keyed_pseudonyms_and_no_free_text(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app(cipher_key=KEY)
    app.handle_many(commands(), atomic=True)
    follow(app, store_url)
    values = every_rm_value(store_url)
    assert not [v for v in values if any(s in v for s in SECRETS)]
    master = parse_master_key(KEY)
    assert master is not None
    expected = pseudonym(pseudonym_key(master), "p-visible")
    assert raw_rows(store_url, "SELECT patient_id, current_level FROM rm_patients") == [
        (expected, "iop")
    ]
    (session,) = raw_rows(store_url, "SELECT clinician_id, duration_minutes FROM rm_sessions")
    assert session == (pseudonym(pseudonym_key(master), "dr-visible", "clinician"), 50)
    assert rebuilt(app, store_url)["rm_patients"][0][0] == expected  # a rebuild agrees


def test_a_plain_store_pseudonymizes_with_its_own_random_key(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    app.handle_many(commands(), atomic=True)
    follow(app, store_url)
    assert not [v for v in every_rm_value(store_url) if any(s in v for s in SECRETS)]
    ((key,),) = raw_rows(store_url, "SELECT value FROM journey_meta WHERE name = 'pseudonym_key'")
    ((patient,),) = raw_rows(store_url, "SELECT patient_id FROM rm_patients")
    assert patient == pseudonym(bytes.fromhex(key), "p-visible")


def test_read_models_of_the_earlier_format_are_rebuilt_at_the_next_start(tmp_path: Path) -> None:
    store = tmp_path / "old.db"
    shutil.copyfile(FIXTURES / "main_plain.db", store)  # projected by the earlier version
    url = f"sqlite:///{store}"
    assert sorted(r[0] for r in raw_rows(url, "SELECT patient_id FROM rm_patients")) == list(
        PATIENTS
    )
    app = build_application(Settings(database_url=url))
    try:
        assert follow(app, url) == 202  # dropped, then rebuilt from position 0
    finally:
        app.close()
    ids = {r[0] for r in raw_rows(url, "SELECT patient_id FROM rm_patients")}
    assert len(ids) == 2 and not ids & set(PATIENTS)
    assert all(i.startswith("ps_") for i in ids)
    assert raw_rows(url, "SELECT version FROM rm_format") == [(FORMAT_VERSION,)]
