"""The history read path (`JourneyApplication.history`: `EventMapper.to_envelopes`, envelopes
built straight from the decoded stored state) against the plain path (each row through
eventsourcing's `Mapper.to_domain_event`, then `to_envelope`): the same envelopes, byte for
byte, and the same journey, session and care views for every as-of and known-at, on SQLite
and PostgreSQL, plain and encrypted stores, the stores older versions wrote (tests/fixtures),
and the same errors for an altered row or an erased patient."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

from config.settings import Settings
from devtools.demo.care import CareProfile
from devtools.demo.cohort import CohortProfile, generate_cohort
from infrastructure.erasure import erase_patient
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.envelopes import to_envelope
from journey.errors import PatientErased
from journey.events import EventEnvelope
from projections.care_view import care_view
from projections.journey import project_journey
from projections.session_view import session_log_view
from services.bootstrap import build_application
from tests.app.test_care_program import PROGRAM
from tests.privacy.legacy import LEGACY_KEY, PATIENTS, legacy_store

KEY = "q0PqLh7SZQ3v0bfQ6j2c3Vq3mN9Vv1x8d2cXcJ3w0mU="
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
START = datetime(2026, 3, 2, 12, tzinfo=UTC)  # recording times: START + n days


def with_program(app: JourneyApplication, patient_id: str = "p-1") -> JourneyApplication:
    """`app` with the care program (tests/app/test_care_program.PROGRAM) stored for
    `patient_id`, a day apart from START."""
    for n, raw in enumerate(PROGRAM):
        app.handle(parse_command({**raw, "patient_id": patient_id}), now=START + timedelta(n))
    return app


def plain_path(app: JourneyApplication, patient_id: str) -> list[EventEnvelope]:
    """The envelopes as the history was read before the fast path."""
    return [to_envelope(e) for e in app.events.get(patient_id)]  # type: ignore[arg-type]


def wire(envelopes: list[EventEnvelope]) -> list[tuple[str, Any, Any, Any]]:
    """Each envelope's JSON and its instance state (values, their types, fields set)."""
    return [
        (
            e.model_dump_json(),
            [(k, type(v).__name__, v) for k, v in e.payload.__dict__.items()],
            (e.__pydantic_fields_set__, e.payload.__pydantic_fields_set__),
            [(k, type(v).__name__, v) for k, v in e.__dict__.items() if k != "payload"],
        )
        for e in envelopes
    ]


def views(envelopes: list[EventEnvelope], moments: list[datetime]) -> list[str]:
    """The journey, session and care views at every as-of x known-at among `moments`."""
    out = []
    for as_of in moments:
        for known_at in [None, *moments]:
            for view in (
                project_journey(envelopes, as_of=as_of, known_at=known_at, now=START),
                session_log_view(envelopes, as_of=as_of, known_at=known_at),
                care_view(envelopes, as_of=as_of, known_at=known_at),
            ):
                out.append("none" if view is None else view.model_dump_json())
    return out


def assert_same(app: JourneyApplication, patient_id: str, moments: list[datetime]) -> None:
    fast = app.history(patient_id)
    plain = plain_path(app, patient_id)
    assert len(fast) == len(plain) > 0
    assert fast == plain
    rows = app.recorder.select_events(patient_id)
    assert wire(app.mapper.to_envelopes(rows)) == wire(plain)  # type: ignore[attr-defined]
    assert wire(fast) == wire(plain)
    assert views(fast, moments) == views(plain, moments)


def varied(app: JourneyApplication) -> list[str]:
    """Patients of the demo cohort with its clinical program, and one patient whose program,
    sessions, corrections, voids, discharge and readmission are recorded at distinct times."""
    profile = CohortProfile(care=CareProfile())
    commands = list(generate_cohort(4, seed=5, until=date(2026, 11, 1), profile=profile))
    results = app.handle_many([parse_command(c) for c in commands], atomic=True)
    assert not [r for r in results if isinstance(r, Exception)]
    steps: list[dict[str, Any]] = [
        *PROGRAM,
        *[
            {
                "command": "record_session",
                "session_id": f"s-{n}",
                "format": "individual" if n % 2 else "group",
                "approach": "cbt",
                "duration_minutes": 50 + n,
                "occurred_at": f"2026-01-{8 + n:02d}T15:00:00-07:00",
            }
            for n in range(6)
        ],
        {"command": "correct_session", "session_id": "s-1", "reason": "typo", "approach": "dbt"},
        {"command": "void_session", "session_id": "s-2", "reason": "wrong patient"},
        {
            "command": "correct_session",
            "session_id": "s-3",
            "reason": "late",
            "occurred_at": "2026-01-11T16:00:00-07:00",
            "duration_minutes": 45,
        },
        {"command": "discharge", "reason": "completed", "occurred_at": "2026-02-01T10:00:00-07:00"},
        {"command": "admit", "level": "outpatient", "occurred_at": "2026-03-01T10:00:00-07:00"},
    ]
    for n, raw in enumerate(steps):
        app.handle(parse_command({**raw, "patient_id": "p-varied"}), now=START + timedelta(days=n))
    return ["p-varied", *sorted({c["patient_id"] for c in commands})]


MOMENTS = [
    START + timedelta(days=3, hours=1),
    START + timedelta(days=12, hours=1),
    datetime(2026, 2, 15, tzinfo=UTC),
    datetime(2027, 1, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("cipher_key", [None, KEY], ids=["plain", "encrypted"])
def test_the_fast_path_reads_what_the_plain_path_reads(
    make_app: Callable[..., JourneyApplication], cipher_key: str | None
) -> None:
    patients = varied(make_app(cipher_key=cipher_key))
    reader = make_app(cipher_key=cipher_key)  # cold: nothing of them in memory
    for patient_id in patients:
        assert_same(reader, patient_id, MOMENTS)
    types = {e.type for p in patients for e in reader.history(p)}
    assert {"SessionCorrected", "SessionEnteredInError", "TreatmentPlanReviewed"} <= types


@pytest.mark.parametrize("kind", ["aes", "plain"])
def test_stores_written_before_per_patient_keys_read_the_same(
    kind: str, store_url: str, tmp_path: Path
) -> None:
    url = legacy_store(kind, store_url, tmp_path)
    key = LEGACY_KEY if kind == "aes" else None
    app = build_application(Settings(database_url=url, cipher_key=key))
    try:
        for patient_id in PATIENTS:
            assert_same(app, patient_id, [datetime(2030, 1, 1, tzinfo=UTC)])
    finally:
        app.close()


# stores written by earlier versions (tests/fixtures)
FIXTURE_STORES = ["main_f282db8", "main_f4bc79b_asam", "main_ea820f5_asam", "main_dba9df2_snapshot"]


def fixture_store(fixture: str, tmp_path: Path) -> Path:
    """A copy of the fixture's store, to read (and, reading, migrate) freely."""
    store = tmp_path / "store.db"
    shutil.copyfile(FIXTURES / fixture / "store.db", store)
    return store


@pytest.mark.parametrize("fixture", FIXTURE_STORES)
def test_old_fixture_stores_read_the_same(fixture: str, tmp_path: Path) -> None:
    store = fixture_store(fixture, tmp_path)
    with sqlite3.connect(store) as db:
        patients = [p for (p,) in db.execute("SELECT DISTINCT originator_id FROM stored_events")]
    db.close()
    app = build_application(Settings(database_url=f"sqlite:///{store}"))
    try:
        for patient_id in patients:
            assert_same(app, patient_id, [datetime(2030, 1, 1, tzinfo=UTC)])
    finally:
        app.close()


def _alter(store: Path, patient_id: str, version: int, state: bytes) -> None:
    with sqlite3.connect(store) as db:
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, patient_id, version),
        )
    db.close()


@pytest.mark.parametrize("cipher_key", [None, KEY], ids=["plain", "encrypted"])
def test_an_altered_row_fails_with_the_plain_paths_error(
    tmp_path: Path, cipher_key: str | None
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/s.db", cipher_key=cipher_key)
    writer = with_program(build_application(settings))
    writer.close()
    with sqlite3.connect(tmp_path / "s.db") as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE originator_version = 3"
        ).fetchone()
    db.close()
    _alter(tmp_path / "s.db", "p-1", 3, state[:-1] + bytes([state[-1] ^ 1]))
    errors = []
    for read in (lambda a: a.history("p-1"), lambda a: plain_path(a, "p-1")):
        app = build_application(settings)
        with pytest.raises(MapperDeserialisationError) as caught:
            read(app)
        errors.append(str(caught.value))
        app.close()
    assert errors[0] == errors[1] and "version 3" in errors[0]


def test_an_erased_patient_fails_as_on_the_plain_path(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = with_program(make_app(cipher_key=KEY))
    erase_patient(app, "p-1", "request of the patient", actor="dpo")
    for read in (lambda a: a.history("p-1"), lambda a: plain_path(a, "p-1")):
        with pytest.raises(PatientErased):
            read(make_app(cipher_key=KEY))


def test_the_sqlite_recorder_selects_what_eventsourcing_selects(tmp_path: Path) -> None:
    """The anchored SQLite recorder's `select_events` (rows built without the dataclass's
    `__init__`) against eventsourcing's own, for every filter."""
    app = build_application(Settings(database_url=f"sqlite:///{tmp_path}/s.db"))
    try:
        with_program(app)
        library = SQLiteApplicationRecorder.select_events
        for query in (
            {},
            {"gt": 2},
            {"lte": 4},
            {"gt": 1, "lte": 5, "desc": True},
            {"desc": True, "limit": 2},
            {"gt": 9},
        ):
            ours = app.recorder.select_events("p-1", **query)  # type: ignore[arg-type]
            theirs = library(app.recorder, "p-1", **query)  # type: ignore[arg-type]
            assert [vars(s) for s in ours] == [vars(s) for s in theirs]
            assert ours == theirs and all(type(s) is StoredEvent for s in ours)
        assert len(app.recorder.select_events("p-1")) == len(PROGRAM)
    finally:
        app.close()
