"""Master-key rotation: data keys re-wrapped under the new key in one transaction, the old
key refused afterwards, erased patients stay erased, read models rebuilt (new pseudonyms)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher

from audit.verify import verify_log
from config.settings import Settings
from infrastructure.erasure import erase_patient
from infrastructure.keys import StoreKeyError
from infrastructure.rotation import RotationRefused, rotate_master_key
from journey.application import JourneyApplication
from journey.errors import PatientErased
from services.bootstrap import build_application
from tests.privacy.legacy import LEGACY_KEY, legacy_store
from tests.privacy.support import raw_rows
from tests.readmodels.support import cohort, follow, load

OLD, NEW = AESCipher.create_key(32), AESCipher.create_key(32)


def test_rotation_rewraps_every_live_key_and_the_old_key_is_refused(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app(cipher_key=OLD)
    load(app, cohort(4, seed=2))
    patients = sorted({str(n.originator_id) for n in app.recorder.select_notifications(1, 999)})
    erase_patient(app, patients[0], "request", actor="admin")
    follow(app, store_url)
    before = raw_rows(store_url, "SELECT patient_id FROM rm_patients ORDER BY 1")
    histories = {p: app.history(p) for p in patients[1:]}
    assert rotate_master_key(app, NEW) == 3
    app.close()
    with pytest.raises(StoreKeyError):
        build_application(Settings(database_url=store_url, cipher_key=OLD))
    rotated = make_app(cipher_key=NEW)
    assert {p: rotated.history(p) for p in patients[1:]} == histories
    with pytest.raises(PatientErased):
        rotated.history(patients[0])
    assert verify_log(rotated).ok
    assert follow(rotated, store_url) == rotated.recorder.max_notification_id()  # rebuilt
    after = raw_rows(store_url, "SELECT patient_id FROM rm_patients ORDER BY 1")
    assert len(after) == len(before) == 3 and not set(after) & set(before)


def test_rotation_refuses_a_store_with_single_key_events(store_url: str, tmp_path: Path) -> None:
    url = legacy_store("aes", store_url, tmp_path)
    app = build_application(Settings(database_url=url, cipher_key=LEGACY_KEY))
    try:
        with pytest.raises(RotationRefused, match="per_patient_keys_only"):
            rotate_master_key(app, NEW)
    finally:
        app.close()
    again = build_application(Settings(database_url=url, cipher_key=LEGACY_KEY))
    again.close()  # nothing changed: the old key still opens it


def test_a_rotation_that_fails_midway_changes_nothing(
    make_app: Callable[..., JourneyApplication], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault after the data keys were re-wrapped (here: computing the new check value)
    rolls everything back: the old key still opens the store and reads every history."""
    app = make_app(cipher_key=OLD)
    load(app, cohort(3, seed=4))
    patients = sorted({str(n.originator_id) for n in app.recorder.select_notifications(1, 999)})
    histories = {p: app.history(p) for p in patients}

    def fault(master: bytes | None) -> str:
        raise OSError("disk failed mid-rotation")

    monkeypatch.setattr("infrastructure.rotation.keys.check_value", fault)
    with pytest.raises(OSError, match="mid-rotation"):
        rotate_master_key(app, NEW)
    monkeypatch.undo()
    app.close()
    with pytest.raises(StoreKeyError):
        build_application(Settings(database_url=store_url, cipher_key=NEW))
    reopened = make_app(cipher_key=OLD)
    assert {p: reopened.history(p) for p in patients} == histories
    assert verify_log(reopened).ok
    with pytest.raises(RotationRefused, match="new_key_differs"):
        rotate_master_key(reopened, OLD)
