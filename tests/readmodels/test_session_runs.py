"""The set-based replay path (SessionRecorded decoded into columns, applied in runs:
`projections/read_models/session_runs.py`) builds exactly the read models of the plain
path (every event an envelope, applied one by one), compared row for row on every rm_
table: a demo cohort interleaved patient by patient, a hand-written patient with odd
sessions (out of order, at a stay's first and last instants, across weeks and stays,
corrected, voided, with a primary therapist), an encrypted store with an
erased patient, the worker processes' path, and stores written by earlier versions."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cryptography import AESCipher

from config.settings import Settings
from consumers.replay import rebuild_into
from consumers.replay_columns import SESSION_TOPIC
from devtools.demo.cohort import generate_cohort
from infrastructure.erasure import erase_patient
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.read_models import session_runs
from projections.read_models.checksum import table_sum
from projections.read_models.schema import ADDITIVE_TABLES, READ_MODEL_TABLES
from services.bootstrap import build_application
from services.replay_parallel import rebuild_parallel, rebuild_summed
from services.runtime import open_scratch
from tests.readmodels.support import Rows, dump

KEY = AESCipher.create_key(32)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ODD = "odd-1"


def _odd_patient() -> list[dict[str, Any]]:
    """Sessions at every edge the counters have, with a primary therapist."""

    def session(sid: str, at: str, **more: Any) -> dict[str, Any]:
        base = {"command": "record_session", "patient_id": ODD, "session_id": sid,
                "format": "individual", "approach": "cbt", "duration_minutes": 60,
                "occurred_at": at, "clinician_id": "c-1"}  # fmt: skip
        return {**base, **more}

    def event(command: str, at: str, **more: Any) -> dict[str, Any]:
        return {"command": command, "patient_id": ODD, "occurred_at": at, **more}

    return [
        event(
            "admit",
            "2026-01-05T10:00:00+00:00",
            level="iop",
            age_group="adult",
            timezone="Pacific/Auckland",
        ),
        session("o-1", "2026-01-05T10:00:00+00:00"),  # at the admission instant
        event("assign_primary_therapist", "2026-01-06T09:00:00+00:00", clinician_id="c-1"),
        session("o-2", "2026-01-08T11:00:00+00:00"),
        session("o-3", "2026-01-07T11:00:00+00:00"),  # out of order
        session("o-4", "2026-01-11T11:30:00+00:00"),  # Monday in Auckland, Sunday in UTC
        session("o-6", "2026-01-09T11:00:00+00:00", status="no_show"),
        session("o-7", "2026-01-09T12:00:00.250000+00:00", format="group", approach="cbt"),
        session("o-8", "2026-01-10T12:00:00+00:00", clinician_id="c-2"),
        session("o-9", "2026-01-10T13:00:00+00:00", approach="yoga"),  # not counted
        {
            "command": "correct_session",
            "patient_id": ODD,
            "session_id": "o-2",
            "reason": "moved",
            "occurred_at": "2026-01-13T11:00:00+00:00",
        },
        {"command": "void_session", "patient_id": ODD, "session_id": "o-3", "reason": "error"},
        event("transition", "2026-01-20T10:00:00+00:00", to_level="outpatient", reason="step"),
        session("o-10", "2026-01-20T10:00:00+00:00"),  # at the transition instant
        session("o-11", "2026-01-19T10:00:00+00:00"),  # in the stay before, recorded after
        session("o-12", "2026-01-27T10:00:00+00:00", duration_minutes=180),
        session("o-13", "2026-01-28T10:00:00+00:00", duration_minutes=180),
        session("o-14", "2026-01-29T10:00:00+00:00", duration_minutes=180),
        event("discharge", "2026-02-02T10:00:00+00:00", reason="completed"),
        session("o-15", "2026-02-02T10:00:00+00:00"),  # at the discharge instant
        session("o-16", "2026-02-01T10:00:00+00:00", status="cancelled"),
        event(
            "admit",
            "2026-02-10T10:00:00+00:00",
            level="php",
            age_group="adult",
            timezone="Pacific/Auckland",
        ),
        session("o-17", "2026-02-10T10:00:00+00:00", clinician_id=None),
        session("o-18", "2026-02-11T10:00:00+00:00"),
    ]


def _interleaved(patients: int, seed: int) -> list[dict[str, Any]]:
    """The cohort's commands with the patients' streams taken in turn (runs of sessions
    of many patients, broken by other events), then the odd patient's."""
    streams: dict[str, list[dict[str, Any]]] = {}
    for raw in generate_cohort(patients, seed=seed, until=date(2026, 3, 1)):
        streams.setdefault(raw["patient_id"], []).append(raw)
    mixed: list[dict[str, Any]] = []
    while any(streams.values()):
        for stream in streams.values():
            mixed.extend(stream[:3])
            del stream[:3]
    return mixed + _odd_patient()


def _store(app: JourneyApplication, patients: int = 12, seed: int = 11) -> None:
    results = app.handle_many(
        [parse_command(c) for c in _interleaved(patients, seed)],
        atomic=False,
        now=datetime(2026, 3, 2, tzinfo=UTC),
    )
    rejected = [r for r in results if isinstance(r, Exception)]
    assert not rejected, rejected[:3]


def _counting(applied: list[object]) -> Callable[..., int]:
    """`session_runs.apply_session_run`, noting each session it applies."""
    apply = session_runs.apply_session_run

    def counted(unit: Any, run: Any) -> int:
        applied.extend(run)
        return apply(unit, run)

    return counted


def _both_paths(
    app: JourneyApplication, tmp_path: Path, *, columns: bool = True
) -> tuple[dict[str, Rows], int]:
    """Every rm_ table rebuilt by each path; asserts they are equal; (tables, events)."""
    stop = app.recorder.max_notification_id() or 0
    found, applied = [], []
    for set_based in (False, True):
        scratch = connect(f"sqlite:///{tmp_path}/{'set' if set_based else 'plain'}.db")
        try:
            with pytest.MonkeyPatch.context() as patch:  # counts the sessions applied in runs
                patch.setattr(session_runs, "apply_session_run", _counting(applied))
                assert rebuild_into(app, scratch, stop, set_based=set_based) == stop
        finally:
            scratch.close()
        found.append(dump(f"sqlite:///{tmp_path}/{'set' if set_based else 'plain'}.db"))
    plain, set_based = found
    for table in READ_MODEL_TABLES:
        assert set_based[table] == plain[table], table
    rows = app.recorder.select_notifications(start=1, limit=stop)
    stored = sum(1 for row in rows if row.topic == SESSION_TOPIC)
    if columns:  # the set path applied most sessions in runs (erased patients' are skipped)
        assert len(applied) > 0.5 * stored
    return plain, stop


def test_the_set_based_path_builds_the_plain_paths_rows(
    make_app: Callable[..., JourneyApplication], store_url: str, tmp_path: Path
) -> None:
    app = make_app()
    _store(app)
    tables, stop = _both_paths(app, tmp_path)
    assert len(tables["rm_sessions"]) > 0.8 * stop  # mostly sessions, in many runs
    for table in ("rm_attendance_days", "rm_week_counts", "rm_care_weeks", "rm_weeks"):
        assert tables[table], table
    # the primary therapist's sessions count in the care weeks
    assert any(row[3] > 0 for row in tables["rm_care_weeks"])
    # and the worker processes (set-based) give the same rows
    for set_based in (True, False):
        target = tmp_path / f"spread-{set_based}.db"
        assert rebuild_parallel(store_url, stop, target, workers=2, set_based=set_based) == stop
        spread = dump(f"sqlite:///{target}")
        assert {t: spread[t] for t in READ_MODEL_TABLES} == {
            t: tables[t] for t in READ_MODEL_TABLES
        }


def test_an_encrypted_store_with_an_erased_patient(
    make_app: Callable[..., JourneyApplication], tmp_path: Path
) -> None:
    app = make_app(cipher_key=KEY)
    _store(app, patients=6, seed=4)
    erase_patient(app, "demo-000002", "patient request", actor="admin-ann")
    tables, _ = _both_paths(app, tmp_path)
    kept = {row[0] for row in tables["rm_sessions"]}
    assert len(kept) == 6  # five cohort patients and the odd one; the erased one left out


@pytest.mark.parametrize("fixture", ["main_f282db8", "main_ea820f5_asam"])
def test_stores_written_by_earlier_versions(fixture: str, tmp_path: Path) -> None:
    """Events of an older class version take the plain path inside the set-based one."""
    store = tmp_path / "store.db"
    shutil.copyfile(FIXTURES / fixture / "store.db", store)
    app = build_application(Settings(database_url=f"sqlite:///{store}"))
    try:
        tables, _ = _both_paths(app, tmp_path, columns=False)  # older sessions: per event
    finally:
        app.close()
    assert tables["rm_sessions"]


def test_the_workers_sums_are_the_merged_files(
    make_app: Callable[..., JourneyApplication], store_url: str, tmp_path: Path
) -> None:
    """`journey replay` with workers sums the ordinary tables in the workers (not merged)
    and the additive ones in the merged file: the sums of the whole merged file."""
    app = make_app()
    _store(app, patients=6, seed=5)
    stop = app.recorder.max_notification_id() or 0
    merged = tmp_path / "merged.db"
    assert rebuild_parallel(store_url, stop, merged, workers=2) == stop
    with closing(open_scratch(merged)) as db:
        expected = {t: table_sum(db, t) for t in READ_MODEL_TABLES}
    assert expected["rm_sessions"].rows > 0.8 * stop
    ordinary = set(READ_MODEL_TABLES) - set(ADDITIVE_TABLES)
    for keep in (False, True):
        target = tmp_path / f"summed-{keep}.db"
        summed = rebuild_summed(store_url, stop, target, 2, READ_MODEL_TABLES, keep=keep)
        assert summed.events == stop
        assert summed.sums == expected
        assert summed.from_workers == ordinary  # no table fell back to the merged file
        rows = dump(f"sqlite:///{target}")
        if keep:  # the file is the whole rebuild
            assert rows == dump(f"sqlite:///{merged}")
        else:  # only the additive tables were merged
            assert not any(rows[t] for t in ordinary)
            assert all(rows[t] == dump(f"sqlite:///{merged}")[t] for t in ADDITIVE_TABLES)


def test_stay_boundaries_take_the_weeks_from_the_unit(
    make_app: Callable[..., JourneyApplication], tmp_path: Path
) -> None:
    """A stay boundary restates the patient's weeks from the ones the unit read and wrote
    (not a read of rm_weeks), on both paths: the rows above are equal, and here no such
    read runs (SQLite's trace of the scratch connection)."""
    app = make_app()
    _store(app, patients=4, seed=9)
    stop = app.recorder.max_notification_id() or 0
    for set_based in (False, True):
        scratch = connect(f"sqlite:///{tmp_path}/traced-{set_based}.db")
        statements: list[str] = []
        with scratch.transaction() as unit:
            unit.connection.set_trace_callback(statements.append)
        try:
            assert rebuild_into(app, scratch, stop, set_based=set_based) == stop
        finally:
            scratch.close()
        assert any("INSERT INTO rm_weeks" in s for s in statements)  # the trace saw the writes
        assert not [s for s in statements if s.startswith("SELECT week_start FROM rm_weeks")]
