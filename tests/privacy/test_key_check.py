"""The store's key check value: a process whose JOURNEY_CIPHER_KEY does not fit the store
refuses to start and writes nothing; stores written before the check value are adopted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from config.settings import Settings
from infrastructure.keys import StoreKeyError
from journey.application import JourneyApplication
from journey.commands import parse_command
from services.bootstrap import build_application
from tests.privacy.legacy import LEGACY_KEY, PATIENTS, legacy_store
from tests.privacy.support import raw_rows, tables

NOW = datetime(2026, 3, 1, tzinfo=UTC)
KEY, OTHER_KEY = AESCipher.create_key(32), AESCipher.create_key(32)


def admit(pid: str = "p-1") -> object:
    return parse_command(
        {
            "command": "admit",
            "patient_id": pid,
            "level": "detox",
            "occurred_at": "2026-01-01T10:00:00-07:00",
            "timezone": "America/Phoenix",
        }
    )


def refused(store_url: str, key: str | None, *words: str) -> None:
    """Starting with `key` raises a StoreKeyError naming JOURNEY_CIPHER_KEY; nothing written."""
    before = tables(store_url)
    with pytest.raises(StoreKeyError) as error:
        build_application(Settings(database_url=store_url, cipher_key=key))
    assert "JOURNEY_CIPHER_KEY" in str(error.value)
    for word in words:
        assert word in str(error.value)
    assert tables(store_url) == before


def test_an_encrypted_store_refuses_another_key_no_key_and_a_malformed_key(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app(cipher_key=KEY)
    app.handle(admit(), now=NOW)  # type: ignore[arg-type]
    app.close()
    refused(store_url, OTHER_KEY, "not the key of this store")
    refused(store_url, None, "encrypted")
    refused(store_url, "not-base64!", "malformed")
    refused(store_url, AESCipher.create_key(32)[:20], "malformed")
    again = make_app(cipher_key=KEY)
    assert again.history("p-1")[0].payload.timezone == "America/Phoenix"  # type: ignore[union-attr]


def test_a_plain_store_refuses_a_key(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    make_app().handle(admit(), now=NOW)  # type: ignore[arg-type]
    refused(store_url, KEY, "plain")
    assert raw_rows(store_url, "SELECT value FROM journey_meta WHERE name = 'key_check'") == [
        ("plain",)
    ]


def test_an_empty_new_store_records_the_check_value_of_its_first_key(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    make_app(cipher_key=KEY)
    (value,) = raw_rows(store_url, "SELECT value FROM journey_meta WHERE name = 'key_check'")
    assert value[0].startswith("hmac-sha256:") and KEY not in value[0]
    refused(store_url, OTHER_KEY, "not the key of this store")


@pytest.mark.parametrize("kind", ["aes", "plain"])
def test_a_store_written_before_the_check_value_is_adopted_by_its_own_key_only(
    kind: str, store_url: str, tmp_path: Path
) -> None:
    url = legacy_store(kind, store_url, tmp_path)
    right, wrong = (LEGACY_KEY, OTHER_KEY) if kind == "aes" else (None, KEY)
    refused(url, wrong, "JOURNEY_CIPHER_KEY")
    if kind == "aes":
        refused(url, None, "encrypted")
    app = build_application(Settings(database_url=url, cipher_key=right))
    try:
        history = app.history(PATIENTS[0])
        assert len(history) == 201 and history[0].actor == "dr-legacy"
        patient = app.load_patient(PATIENTS[0])  # from the snapshot at version 200
        assert patient is not None and patient.version == 201
        app.handle(admit("p-new"), now=NOW)  # type: ignore[arg-type]
    finally:
        app.close()
    refused(url, wrong, "JOURNEY_CIPHER_KEY")
    reopened = build_application(Settings(database_url=url, cipher_key=right))
    try:
        assert len(reopened.history(PATIENTS[1])) == 1
        assert reopened.history("p-new")[0].version == 1
    finally:
        reopened.close()
