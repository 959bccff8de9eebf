"""The journey folded from stored rows (`projections.stored_journey`, the path `show` and
the HTTP journey take) against the plain fold (`project_journey` of the envelopes eventsourcing's
Mapper gives): the same view, byte for byte, for every as-of x known-at, on SQLite and
PostgreSQL, plain and encrypted stores, the stores older versions wrote (upcast events), a
patient read again after new events, and the same errors for an altered row or an erased
patient. Each test also checks the fast path was taken: `patient_journey` never reads the
envelopes (`app.history` fails if called) and every current `SessionRecorded` row was
decoded flat."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import MapperDeserialisationError
from eventsourcing.utils import get_topic

from config.settings import Settings
from infrastructure.erasure import erase_patient
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.domain_events import SessionRecorded
from journey.errors import PatientErased, UnknownPatient
from journey.events import PAYLOAD_TYPES
from projections import stored_journey
from projections.journey import project_journey
from projections.queries import patient_journey
from services.bootstrap import build_application
from tests.app.test_care_program import PROGRAM
from tests.app.test_fast_history import (
    FIXTURES,
    KEY,
    MOMENTS,
    START,
    plain_path,
    varied,
    with_program,
)
from tests.privacy.legacy import LEGACY_KEY, PATIENTS, legacy_store


class Flat:
    """Counts the `SessionRecorded` rows the stored-row fold read flat (`taken`: decoded by
    `OrjsonTranscoder.decode_flat`, of the current version) or sent down the history read
    path (`declined`)."""

    def __init__(self) -> None:
        self.taken = 0
        self.declined = 0


@pytest.fixture
def flat(monkeypatch: pytest.MonkeyPatch) -> Flat:
    seen, original = Flat(), stored_journey._recorded

    def counted(state: dict[str, Any] | None) -> Any:
        found = original(state)
        if found is None:
            seen.declined += 1
        else:
            seen.taken += 1
        return found

    monkeypatch.setattr(stored_journey, "_recorded", counted)
    return seen


def no_envelopes(app: JourneyApplication) -> JourneyApplication:
    """`app` with its envelope read disabled: a journey read that falls back to it fails."""

    def history(patient_id: str) -> None:
        raise AssertionError(f"the journey of {patient_id} was folded from its envelopes")

    app.history = history  # type: ignore[method-assign,assignment]
    return app


def views(
    app: JourneyApplication, patient_id: str, moments: list[datetime]
) -> tuple[list[str], list[str]]:
    """The view of each as-of x known-at by the stored-row fold (through `patient_journey`,
    cold for the first) and by the plain fold of eventsourcing's envelopes."""
    plain = plain_path(app, patient_id)
    fast, slow = [], []
    for as_of in moments:
        for known_at in [None, *moments]:
            try:
                view = patient_journey(app, patient_id, as_of=as_of, known_at=known_at)
                fast.append(view.model_dump_json() + repr(view.model_dump()))
            except UnknownPatient:
                fast.append("unknown")
            now = datetime.now(UTC)
            expected = project_journey(plain, as_of=as_of, known_at=known_at, now=now)
            slow.append(
                "unknown"
                if expected is None
                else expected.model_dump_json() + repr(expected.model_dump())
            )
    return fast, slow


SESSION = {
    "command": "record_session",
    "session_id": "s-1",
    "format": "individual",
    "approach": "cbt",
    "duration_minutes": 50,
    "occurred_at": "2026-01-09T15:00:00-07:00",
}
SESSIONS = [
    SESSION,
    {**SESSION, "session_id": "s-2", "occurred_at": "2026-01-10T15:00:00-07:00"},
    {"command": "correct_session", "session_id": "s-1", "reason": "typo", "approach": "dbt"},
    {**SESSION, "session_id": "s-3", "occurred_at": "2026-01-11T15:00:00-07:00"},
    {"command": "void_session", "session_id": "s-2", "reason": "wrong patient"},
]


def kept(app: JourneyApplication, patient_id: str) -> stored_journey.StoredHistory:
    found: stored_journey.StoredHistory = app.folds.get(patient_id)
    return found


def stored_sessions(app: JourneyApplication, patient_id: str) -> tuple[int, int]:
    """The patient's SessionRecorded rows: those stored at the current class version, all."""
    opener = app.mapper.row_opener()  # type: ignore[attr-defined]
    versions = [
        orjson.loads(row.state if opener is None else opener(row)).get("class_version", 1)
        for row in app.recorder.select_events(patient_id)
        if row.topic == get_topic(SessionRecorded)
    ]
    return versions.count(SessionRecorded.class_version), len(versions)


@pytest.mark.parametrize("cipher_key", [None, KEY], ids=["plain", "encrypted"])
def test_the_stored_fold_gives_the_plain_folds_view(
    make_app: Callable[..., JourneyApplication], cipher_key: str | None, flat: Flat
) -> None:
    patients = varied(make_app(cipher_key=cipher_key))
    reader = no_envelopes(make_app(cipher_key=cipher_key))  # cold: nothing of them in memory
    sessions = 0
    for patient_id in patients:
        flat.taken = 0
        fast, slow = views(reader, patient_id, MOMENTS)
        assert fast == slow
        assert fast.count("unknown") < len(fast)
        assert (flat.taken, flat.taken) == stored_sessions(reader, patient_id)  # then kept
        sessions += flat.taken
    assert flat.declined == 0 and sessions > 100
    kinds = {type(item).__name__ for p in patients for _, item in kept(reader, p).sessions}
    assert kinds == {"SessionState", "SessionCorrected", "SessionEnteredInError"}
    others = {e.type for p in patients for e in kept(reader, p).others}
    every = {t.__name__ for t in PAYLOAD_TYPES}  # every event kind, read by one path or the other
    assert others == every - {"SessionRecorded", "SessionCorrected", "SessionEnteredInError"}


@pytest.mark.parametrize("cipher_key", [None, KEY], ids=["plain", "encrypted"])
def test_a_patient_read_again_after_new_events_reads_only_those(
    make_app: Callable[..., JourneyApplication], cipher_key: str | None, flat: Flat
) -> None:
    writer = make_app(cipher_key=cipher_key)
    reader = no_envelopes(make_app(cipher_key=cipher_key))
    steps = [*PROGRAM[:2], *SESSIONS, *PROGRAM[2:]]
    for n, raw in enumerate(steps):
        writer.handle(parse_command({**raw, "patient_id": "p-1"}), now=START + timedelta(n))
        if n % 2 == 0:  # read between writes: the kept rows, then the new ones
            taken = flat.taken
            fast, slow = views(reader, "p-1", MOMENTS)
            assert fast == slow
            assert kept(reader, "p-1").version == n + 1
            news = [s["command"] for s in steps[max(0, n - 1) : n + 1]]
            assert flat.taken - taken == news.count("record_session")
    assert (flat.taken, flat.declined) == (3, 0)
    reader.forget("p-1")
    with pytest.raises(KeyError):
        reader.folds.get("p-1")


@pytest.mark.parametrize("kind", ["aes", "plain"])
def test_stores_written_before_per_patient_keys_fold_the_same(
    kind: str, store_url: str, tmp_path: Path, flat: Flat
) -> None:
    url = legacy_store(kind, store_url, tmp_path)
    key = LEGACY_KEY if kind == "aes" else None
    app = no_envelopes(build_application(Settings(database_url=url, cipher_key=key)))
    try:
        for patient_id in PATIENTS:
            fast, slow = views(app, patient_id, [datetime(2030, 1, 1, tzinfo=UTC)])
            assert fast == slow and "unknown" not in fast
        current, every = map(sum, zip(*(stored_sessions(app, p) for p in PATIENTS), strict=True))
        assert (flat.taken, flat.declined) == (current, every - current)
    finally:
        app.close()


@pytest.mark.parametrize(
    "fixture",
    ["main_f282db8", "main_f4bc79b_asam", "main_ea820f5_asam", "main_dba9df2_snapshot"],
)
def test_old_fixture_stores_fold_the_same(fixture: str, tmp_path: Path, flat: Flat) -> None:
    """Events of older class versions (upcast on the history read path) and current ones."""
    store = tmp_path / "store.db"
    shutil.copyfile(FIXTURES / fixture / "store.db", store)
    with sqlite3.connect(store) as db:
        patients = [p for (p,) in db.execute("SELECT DISTINCT originator_id FROM stored_events")]
    db.close()
    app = no_envelopes(build_application(Settings(database_url=f"sqlite:///{store}")))
    try:
        for patient_id in patients:
            moments = [datetime(2025, 6, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)]
            fast, slow = views(app, patient_id, moments)
            assert fast == slow and fast.count("unknown") < len(fast)
        current, every = map(sum, zip(*(stored_sessions(app, p) for p in patients), strict=True))
        assert (flat.taken, flat.declined) == (current, every - current)
        assert every > 0
    finally:
        app.close()


def _flip_last_byte(state: bytes) -> bytes:
    return state[:-1] + bytes([state[-1] ^ 1])


def _bad_instant(state: bytes) -> bytes:
    return state.replace(b'"_data_":"20', b'"_data_":"x0', 1)


@pytest.mark.parametrize(
    ("cipher_key", "alter"),
    [(None, _flip_last_byte), (None, _bad_instant), (KEY, _flip_last_byte)],
    ids=["plain-json", "plain-instant", "encrypted"],
)
def test_an_altered_row_fails_with_the_plain_paths_error(
    tmp_path: Path, cipher_key: str | None, alter: Callable[[bytes], bytes]
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/s.db", cipher_key=cipher_key)
    writer = build_application(settings)
    for n, raw in enumerate([*PROGRAM, SESSION]):
        writer.handle(parse_command({**raw, "patient_id": "p-1"}), now=START + timedelta(n))
    writer.close()
    with sqlite3.connect(tmp_path / "s.db") as db:
        version, state = db.execute(
            "SELECT originator_version, state FROM stored_events"
            " WHERE topic LIKE '%SessionRecorded' ORDER BY originator_version LIMIT 1"
        ).fetchone()
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_version = ?",
            (alter(state), version),
        )
    db.close()
    errors = []
    for read in (
        lambda a: patient_journey(no_envelopes(a), "p-1"),
        lambda a: plain_path(a, "p-1"),
    ):
        app = build_application(settings)
        with pytest.raises(MapperDeserialisationError) as caught:
            read(app)
        errors.append(str(caught.value))
        app.close()
    assert errors[0] == errors[1] and f"version {version}" in errors[0]


def test_an_erased_patient_fails_as_on_the_plain_path(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = with_program(make_app(cipher_key=KEY))
    reader = no_envelopes(make_app(cipher_key=KEY))
    patient_journey(reader, "p-1")  # kept by the reader, then erased by another application
    erase_patient(app, "p-1", "request of the patient", actor="dpo")
    with pytest.raises(PatientErased):
        patient_journey(reader, "p-1")
    with pytest.raises(PatientErased):
        patient_journey(no_envelopes(make_app(cipher_key=KEY)), "p-1")
    with pytest.raises(PatientErased):
        plain_path(make_app(cipher_key=KEY), "p-1")
