"""Per-patient data keys: each patient's events and snapshots are encrypted with its own
key, wrapped by the master key in `journey_keys`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent

from infrastructure import keys
from journey.application import JourneyApplication
from journey.commands import parse_command
from tests.privacy.support import raw_rows

NOW = datetime(2026, 3, 1, tzinfo=UTC)
KEY = AESCipher.create_key(32)


def command(kind: str, pid: str, **fields: Any) -> Any:
    return parse_command({"command": kind, "patient_id": pid, **fields})


def admit(pid: str) -> Any:
    return command(
        "admit", pid, level="iop", occurred_at="2026-01-01T10:00:00Z", timezone="Europe/Oslo"
    )


def session(pid: str, sid: str) -> Any:
    return command(
        "record_session",
        pid,
        session_id=sid,
        format="individual",
        approach="cbt",
        duration_minutes=50,
        occurred_at="2026-01-02T10:00:00Z",
    )


def test_each_patient_has_its_own_wrapped_data_key(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app(cipher_key=KEY)
    app.handle_many([admit("p-1"), admit("p-2")], atomic=True, now=NOW)
    app.handle_many([session("p-1", f"s-{i}") for i in range(200)], atomic=True, now=NOW)
    rows = raw_rows(store_url, "SELECT patient_id, wrapped, erased_at FROM journey_keys")
    wrapped = {pid: bytes(w) for pid, w, erased in rows if erased is None}
    assert sorted(wrapped) == ["p-1", "p-2"]
    master = keys.parse_master_key(KEY)
    assert master is not None
    data_keys = {pid: keys.unwrap(master, pid, w) for pid, w in wrapped.items()}
    assert data_keys["p-1"] != data_keys["p-2"]
    events_table = app.recorder.events_table_name  # type: ignore[attr-defined]
    assert app.snapshots is not None
    snapshots_table = app.snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    states = raw_rows(store_url, f"SELECT originator_id, state FROM {events_table}")
    for pid, state in states:
        assert keys.is_patient_format(bytes(state))
        assert b'"timestamp"' in keys.open_content(data_keys[pid], pid, bytes(state))
        other = "p-2" if pid == "p-1" else "p-1"
        with pytest.raises(InvalidTag):
            keys.open_content(data_keys[other], pid, bytes(state))
    (snapshot,) = raw_rows(store_url, f"SELECT originator_id, state FROM {snapshots_table}")
    assert snapshot[0] == "p-1" and keys.is_patient_format(bytes(snapshot[1]))
    assert b"cbt" in keys.open_content(data_keys["p-1"], "p-1", bytes(snapshot[1]))
    app.repository.cache.get("p-1", evict=True)  # type: ignore[union-attr]
    patient = app.load_patient("p-1")
    assert patient is not None and patient.version == 201


def test_a_row_moved_to_another_patient_does_not_decrypt(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app(cipher_key=KEY)
    app.handle_many([admit("p-1"), admit("p-2")], atomic=True, now=NOW)
    (first,) = app.recorder.select_events("p-1")
    moved = StoredEvent("p-2", 1, first.topic, first.state)
    with pytest.raises(MapperDeserialisationError, match="cannot decrypt"):
        app.mapper.to_domain_event(moved)
