"""Erasure (crypto-shredding): the patient's data key is destroyed, its events stay and
still verify, reads and commands answer PatientErased (410), the read models and the
state topic forget the patient."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from audit.verify import verify_log, verify_patient
from config.settings import Settings
from consumers.log_reader import LogReader, Slice
from infrastructure.erasure import ErasureNeedsEncryption, erase_patient
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from journey.errors import PatientErased, UnknownPatient
from projections.queries import patient_journey
from publishing.history_cache import HistoryCache
from publishing.relay_batch import build_batch
from publishing.topics import TopicNames
from services.bootstrap import build_application
from tests.privacy.support import raw_rows
from tests.readmodels.support import cohort, dump, follow, load, rebuilt, rows

KEY = AESCipher.create_key(32)
NOW = datetime(2026, 11, 2, tzinfo=UTC)


def loaded(make_app: Callable[..., JourneyApplication]) -> tuple[JourneyApplication, str, str]:
    """An encrypted store with a small cohort; two of its patients."""
    app = make_app(cipher_key=KEY)
    load(app, cohort(6, seed=3))
    patients = sorted({str(n.originator_id) for n in app.recorder.select_notifications(1, 500)})
    return app, patients[0], patients[1]


def test_an_erased_patient_is_gone_for_reads_and_commands_and_the_log_still_verifies(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app, erased, kept = loaded(make_app)
    head = app.recorder.max_notification_id()
    version = len(app.history(erased))
    marker = erase_patient(app, erased, "patient request 2026-11", actor="admin-ann", now=NOW)
    assert marker.erased_version == version
    for reader in (app, make_app(cipher_key=KEY)):  # this process, and a fresh one
        with pytest.raises(PatientErased, match="erased"):
            reader.history(erased)
        with pytest.raises(PatientErased):
            patient_journey(reader, erased)
        assert reader.history(kept)
    with pytest.raises(PatientErased):
        app.handle(_admit(erased))
    with pytest.raises(PatientErased):
        erase_patient(app, erased, "again", actor="admin-ann")
    with pytest.raises(UnknownPatient, match="no patient"):
        erase_patient(app, "nobody", "request", actor="admin-ann")
    assert app.recorder.max_notification_id() == head + 1  # the events stay; one marker
    (key_row,) = raw_rows(
        store_url, "SELECT wrapped, erased_at FROM journey_keys WHERE patient_id = ?", (erased,)
    )
    assert key_row[0] is None and key_row[1] == NOW.isoformat()
    whole = verify_log(app)
    assert whole.ok, whole.first()
    assert list(whole.erased) == [erased] and marker.chain_head in whole.erased[erased]
    one = verify_patient(make_app(cipher_key=KEY), erased)
    assert one.ok and one.events == version + 1 and erased in one.erased


def test_a_plain_store_refuses_erasure_and_stores_nothing(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    app.handle(_admit("p-1"))
    with pytest.raises(ErasureNeedsEncryption, match="encryption at rest"):
        erase_patient(app, "p-1", "request", actor="admin")
    assert app.recorder.max_notification_id() == 1


def test_the_log_follower_drops_the_erased_patient_from_every_read_model(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app, erased, kept = loaded(make_app)
    follow(app, store_url, batch_size=50)
    assert rows(store_url, "SELECT count(*) FROM rm_patients")[0][0] == 6
    erase_patient(app, erased, "request", actor="admin")
    follow(app, store_url, batch_size=50)
    after = dump(store_url)
    assert len(after["rm_patients"]) == 5
    assert rebuilt(app, store_url) == after  # counters too: as if it had never been
    other = build_application(Settings(database_url=store_url, cipher_key=KEY))
    try:
        assert other.history(kept)
    finally:
        other.close()


def test_the_relay_batch_ends_with_a_tombstone_on_the_state_topic(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app, erased, _ = loaded(make_app)
    erase_patient(app, erased, "request", actor="admin")
    page = LogReader(app, batch=10_000).page(1)

    def history(patient_id: str, version: int) -> Any:
        return [to_envelope(e) for e in app.events.get(patient_id, lte=version)]

    topics = TopicNames()
    batch = build_batch(page, HistoryCache(history), topics)
    state = [o.record for o in batch.records if o.topic == topics.state]
    assert [r.value for r in state if r.key == erased.encode()] == [None]
    events = [o.record for o in batch.records if o.topic == topics.events]
    assert all(r.key != erased.encode() for r in events)
    assert len(state) == 6 and batch.events == len(events)


def _admit(pid: str) -> Any:
    from journey.commands import parse_command

    return parse_command(
        {
            "command": "admit",
            "patient_id": pid,
            "level": "detox",
            "occurred_at": "2026-01-01T10:00:00Z",
            "timezone": "UTC",
        }
    )


def test_the_bulk_import_refuses_commands_for_an_erased_patient(store_url: str) -> None:
    import json

    from services.bulk.importer import bulk_import_lines

    settings = Settings(database_url=store_url, cipher_key=KEY)
    app = build_application(settings)
    try:
        app.handle(_admit("p-gone"))
        erase_patient(app, "p-gone", "request", actor="admin")
    finally:
        app.close()
    line = json.dumps(
        {"command": "admit", "patient_id": "p-gone", "level": "iop", "timezone": "UTC",
         "occurred_at": "2026-02-01T10:00:00Z"}
    )  # fmt: skip
    report = bulk_import_lines([line], settings=settings, workers=0, continue_on_error=True)
    assert [type(r.error) for r in report.rejected] == [PatientErased]


def test_a_patient_of_a_single_key_store_can_be_erased_and_the_log_still_verifies(
    store_url: str, tmp_path: Any
) -> None:
    """Its events (encrypted with the master key itself) cannot be shredded, but the
    service forgets the patient all the same (docs/privacy.md says so)."""
    from tests.privacy.legacy import LEGACY_KEY, PATIENTS, legacy_store

    url = legacy_store("aes", store_url, tmp_path)
    app = build_application(Settings(database_url=url, cipher_key=LEGACY_KEY))
    try:
        marker = erase_patient(app, PATIENTS[0], "request", actor="admin")
        assert marker.erased_version == 201
        with pytest.raises(PatientErased):
            app.history(PATIENTS[0])
        with pytest.raises(PatientErased):
            app.load_patient(PATIENTS[0])  # its snapshot too
        assert len(app.history(PATIENTS[1])) == 1
        result = verify_log(app)
        assert result.ok and list(result.erased) == [PATIENTS[0]], result.first()
    finally:
        app.close()


def test_an_import_rejects_the_lines_of_an_erased_patient_and_applies_the_others(
    make_app: Callable[..., JourneyApplication],
) -> None:
    import json

    from services.importing import import_lines

    app = make_app(cipher_key=KEY)
    app.handle(_admit("p-gone"))
    erase_patient(app, "p-gone", "request", actor="admin")
    lines = [json.dumps({**_admit_fields(pid)}) for pid in ("p-gone", "p-new")]
    report = import_lines(app, lines, continue_on_error=True)
    assert report.accepted == 1 and [type(r.error) for r in report.rejected] == [PatientErased]
    assert app.history("p-new")


def _admit_fields(pid: str) -> dict[str, Any]:
    return {
        "command": "admit",
        "patient_id": pid,
        "level": "detox",
        "occurred_at": "2026-01-01T10:00:00Z",
        "timezone": "UTC",
    }


def test_a_patient_erased_while_the_relay_builds_its_batch_gets_a_tombstone(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app, erased, _ = loaded(make_app)
    notifications = app.recorder.select_notifications(1, 10_000)
    envelopes = {n.id: to_envelope(app.mapper.to_domain_event(n)) for n in notifications}
    erase_patient(app, erased, "request", actor="admin")  # after decoding, before summaries

    def history(patient_id: str, version: int) -> Any:
        return [to_envelope(e) for e in app.events.get(patient_id, lte=version)]

    topics = TopicNames()
    new = [n for n in notifications if envelopes[n.id].version > 1]  # histories must load
    page = Slice(new[-1].id, new, [envelopes[n.id] for n in new])
    batch = build_batch(page, HistoryCache(history), topics)
    state = [o.record for o in batch.records if o.topic == topics.state]
    assert [r.value for r in state if r.key == erased.encode()] == [None]
