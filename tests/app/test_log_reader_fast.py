"""The log reader (`consumers.log_reader.LogReader.page`: envelopes built straight from each
notification's decoded state, `EventMapper.envelope_reader`) against the plain path (each
notification through eventsourcing's `Mapper.to_domain_event`, then `to_envelope`): the
same envelopes byte for byte, and the same patients set aside as erased, on SQLite and
PostgreSQL, plain and encrypted stores, stores written before per-patient keys, and stores
older versions wrote (tests/fixtures). Every follower of the log reads through it: the
relay, the read models' poller and their rebuilds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from eventsourcing.persistence import Notification

from config.settings import Settings
from consumers.log_reader import LogReader
from infrastructure.erasure import erase_patient
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from journey.errors import PatientErased
from journey.events import EventEnvelope
from services.bootstrap import build_application
from tests.app.test_fast_history import FIXTURE_STORES, KEY, fixture_store, varied, wire
from tests.privacy.legacy import LEGACY_KEY, legacy_store

PAGE = 37  # several pages, each ending anywhere in a patient's history


def plain_page(
    app: JourneyApplication, notifications: list[Notification]
) -> tuple[list[EventEnvelope], list[str]]:
    """The page as the log reader read it before the fast path."""
    events: list[EventEnvelope] = []
    erased: dict[str, None] = {}
    for notification in notifications:
        try:
            events.append(to_envelope(app.mapper.to_domain_event(notification)))  # type: ignore[arg-type]
        except PatientErased:
            erased[str(notification.originator_id)] = None
    return events, list(erased)


def assert_reads_as_plain(app: JourneyApplication) -> int:
    """Every page of the log read both ways; returns the events read."""
    read = 0
    for page in LogReader(app, batch=PAGE).pages(1):
        events, erased = plain_page(app, page.notifications)
        assert wire(page.events) == wire(events)
        assert page.erased == erased
        read += len(page.events)
    return read


@pytest.mark.parametrize("cipher_key", [None, KEY], ids=["plain", "encrypted"])
def test_the_log_reads_as_on_the_plain_path(
    make_app: Callable[..., JourneyApplication], cipher_key: str | None
) -> None:
    writer = make_app(cipher_key=cipher_key)
    varied(writer)
    stored = writer.recorder.max_notification_id()
    assert assert_reads_as_plain(make_app(cipher_key=cipher_key)) == stored


def test_an_erased_patient_is_set_aside_as_on_the_plain_path(
    make_app: Callable[..., JourneyApplication],
) -> None:
    """Its events (sealed with a key that is gone) and its erasure marker are not read,
    and the patient is listed once, where the plain path lists it."""
    writer = make_app(cipher_key=KEY)
    patients = varied(writer)
    erase_patient(writer, patients[1], "request of the patient", actor="dpo")
    reader = make_app(cipher_key=KEY)
    assert assert_reads_as_plain(reader) > 0
    pages = list(LogReader(reader, batch=PAGE).pages(1))
    assert [p for page in pages for p in page.erased if p == patients[1]]
    assert all(e.patient_id != patients[1] for page in pages for e in page.events)


@pytest.mark.parametrize("kind", ["aes", "plain"])
def test_stores_written_before_per_patient_keys_read_as_on_the_plain_path(
    kind: str, store_url: str, tmp_path: Path
) -> None:
    url = legacy_store(kind, store_url, tmp_path)
    app = build_application(
        Settings(database_url=url, cipher_key=LEGACY_KEY if kind == "aes" else None)
    )
    try:
        assert assert_reads_as_plain(app) > 0
    finally:
        app.close()


@pytest.mark.parametrize("fixture", FIXTURE_STORES)
def test_old_fixture_stores_read_as_on_the_plain_path(fixture: str, tmp_path: Path) -> None:
    app = build_application(Settings(database_url=f"sqlite:///{fixture_store(fixture, tmp_path)}"))
    try:
        assert assert_reads_as_plain(app) > 0
    finally:
        app.close()
