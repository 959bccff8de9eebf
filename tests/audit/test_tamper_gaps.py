"""The gaps of issue 10 in tamper evidence, closed (SQL edits on SQLite and PostgreSQL; the
published head on Kafka is in tests/kafka/test_anchor_head.py): an emptied store against
an exported head, edited snapshots, rows that no longer decode, unknown patients, and what
`journey verify` says it compared."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from audit.verify import verify_log, verify_patient
from interfaces.cli_verify import read_anchors
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.domain_events import PatientSnapshot
from journey.errors import Conflict, UnknownPatient
from tests.audit.helpers import (
    NOW,
    discharged_after_200_events,
    edit_snapshot,
    journey,
    reopen,
    snapshots_table,
)
from tests.audit.test_tamper_evidence import load, raw, run

FIXTURE = Path(__file__).parents[1] / "fixtures" / "main-f282db8-snapshots.sqlite"
TRANSITION = {"command": "transition", "patient_id": "snap-1", "to_level": "outpatient",
              "occurred_at": "2026-10-01T10:00:00Z"}  # fmt: skip


def test_an_emptied_store_is_broken_against_the_exported_anchors(
    make_app: Callable[..., JourneyApplication], store_url: str, tmp_path: Path
) -> None:
    load(make_app())
    exported = tmp_path / "anchors.jsonl"
    assert journey(store_url, "anchors", "--out", str(exported)).returncode == 0
    same = journey(store_url, "verify", "--all", "--anchors", str(exported))
    assert same.returncode == 0, same.stderr
    assert "10 exported anchors up to position 10" in same.stdout
    assert "every exported anchor matches the store" in same.stdout
    for table in ("{table}", "audit_anchors", snapshots_table(store_url)):
        run(store_url, f"DELETE FROM {table}")
    emptied = journey(store_url, "verify", "--all", "--anchors", str(exported))
    assert emptied.returncode == 5, emptied.stdout
    assert "BROKEN: the log: 0 events checked" in emptied.stdout
    assert "log is shorter than the exported anchors: the store holds no anchored event" in (
        emptied.stderr
    )
    result = verify_log(make_app(), read_anchors(exported))
    first = result.first()
    assert first is not None and (first.patient_id, first.version, first.position) == (
        "p-a",
        1,
        1,
    )  # the first exported anchor the store lost


def test_a_shorter_store_is_broken_against_the_exported_anchors(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    load(app)
    exported = app.recorder.select_anchors(1, 100)  # type: ignore[attr-defined]
    run(store_url, "DELETE FROM {table} WHERE originator_id = {p}", "p-b")
    run(store_url, "DELETE FROM audit_anchors WHERE originator_id = {p}", "p-b")
    app = make_app()
    assert verify_log(app).ok  # the tail went with its anchors: consistent with itself
    first = verify_log(app, exported).first()
    assert first is not None and (first.patient_id, first.version, first.position) == ("p-b", 1, 6)
    assert "the store ends at position 5" in first.reason


REWRITES = {  # how a row's state is rewritten -> (SQLite, PostgreSQL) expression
    "as_text": ("CAST(state AS TEXT)", "decode('00ff10', 'hex')"),
    "text_literal": ("'not an event'", "convert_to('not an event', 'UTF8')"),
    "empty_object": ("CAST('{{}}' AS BLOB)", "convert_to('{{}}', 'UTF8')"),
}


@pytest.mark.parametrize("how", list(REWRITES))
def test_an_undecodable_row_is_a_break_naming_its_place(
    make_app: Callable[..., JourneyApplication], store_url: str, how: str
) -> None:
    load(make_app())
    expression = REWRITES[how][0 if store_url.startswith("sqlite") else 1]
    run(
        store_url,
        f"UPDATE {{table}} SET state = {expression}"
        " WHERE originator_id = {p} AND originator_version = 3",
        "p-b",
    )
    app = make_app()
    for result in (verify_log(app), verify_patient(app, "p-b")):
        first = result.first()
        assert first is not None and (first.patient_id, first.version, first.position) == (
            "p-b",
            3,
            8,
        ), result.breaks
    assert verify_patient(app, "p-a").ok
    broken = journey(store_url, "verify", "--all")
    assert broken.returncode == 5, broken.stderr
    assert "BROKEN: patient p-b version 3 (log position 8): stored " in broken.stderr


def test_an_edited_snapshot_is_caught_and_not_used(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    discharged_after_200_events(app)
    load(app)
    clean = verify_log(app)
    assert clean.ok and clean.snapshots == 1, clean.breaks
    assert app.snapshots is not None
    (row,) = app.snapshots.recorder.select_events("snap-1")
    taken = app.mapper.to_domain_event(row)
    assert isinstance(taken, PatientSnapshot) and taken.digest_problem() is None
    edit_snapshot(app, store_url, "snap-1", reopen)
    fresh = make_app()
    with pytest.raises(Conflict, match="transition needs an open episode"):
        fresh.handle(parse_command(TRANSITION), now=NOW)
    result = verify_log(fresh)
    first = result.first()
    assert first is not None and (first.patient_id, first.version, first.position) == (
        "snap-1",
        200,
        200,
    )
    assert "snapshot differs from the state rebuilt from events 1..200" in first.reason
    assert "(episodes, level, stay_started_at)" in first.reason
    one = verify_patient(fresh, "snap-1").first()
    assert one is not None and one.reason == first.reason


def test_a_snapshot_edited_with_a_recomputed_digest_is_still_caught(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    discharged_after_200_events(app)
    edit_snapshot(app, store_url, "snap-1", reopen, redigest=True)
    first = verify_log(make_app()).first()
    assert first is not None and (first.patient_id, first.version) == ("snap-1", 200)
    assert "snapshot differs from the state rebuilt" in first.reason


def test_a_store_of_the_previous_version_verifies_and_its_snapshot_is_checked(
    tmp_path: Path,
) -> None:
    store = tmp_path / "old.db"
    shutil.copy(FIXTURE, store)
    url = f"sqlite:///{store}"
    done = journey(url, "verify", "--all")
    assert done.returncode == 0, done.stderr
    assert "OK: the log: 202 events verified" in done.stdout
    assert "snapshots:      1 snapshots, each compared with the state rebuilt" in done.stdout
    assert journey(url, "verify", "snap-1").returncode == 0
    with raw(url) as (conn, _, _):
        (old,) = conn.execute("SELECT state FROM stored_snapshots").fetchone()
    assert b'"digest"' not in old and b"class_version" not in old  # a version 1 snapshot
    assert "status=discharged" in journey(url, "show", "snap-1").stdout
    with raw(url) as (conn, _, _):
        changed = conn.execute(
            "UPDATE stored_snapshots SET state = CAST(replace(replace(CAST(state AS TEXT),"
            ' \'"level":null,"stay_started_at":null\', \'"level":"iop","stay_started_at":'
            '{"_type_":"datetime_iso","_data_":"2026-01-05T09:00:00+00:00"}\'),'
            ' \',{"_type_":"datetime_iso","_data_":"2026-04-25T09:00:00+00:00"}]]\','
            " ',null]]') AS BLOB)"
        ).rowcount
    assert changed == 1
    broken = journey(url, "verify", "--all")
    assert broken.returncode == 5
    assert "patient snap-1 version 200 (log position 200): snapshot differs" in broken.stderr
    refused = journey(url, "import", "-", stdin=json.dumps(TRANSITION))
    assert refused.returncode == 1 and "transition needs an open episode" in refused.stderr


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_verify_says_what_it_compared(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    discharged_after_200_events(app)
    done = journey(store_url, "verify", "--all")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines.pop() == "OK: the access trail: 0 rows verified"  # --all checks it too
    assert lines[0].startswith("OK: the log: 200 events verified; anchor head ")
    assert lines[1:] == [
        "compared:",
        "  events:         200 events of 1 patients: every chain hash recomputed from the"
        " stored content",
        f"  anchors:        200 anchors, each recomputed from its row and the anchor before it;"
        f" head {app.recorder.select_anchors(200, 1)[0].running_hash} at position 200",  # type: ignore[attr-defined]
        "  snapshots:      1 snapshots, each compared with the state rebuilt from its patient's"
        " events up to its version",
        "  exported head:  none given (journey verify --all --anchors FILE)",
        "  published head: no published anchor head to compare; tail truncation cannot be"
        " detected (JOURNEY_KAFKA_BOOTSTRAP_SERVERS unset)",
    ]


def test_an_unknown_patient_is_unknown_not_ok(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    app = make_app()
    load(app)
    with pytest.raises(UnknownPatient):
        verify_patient(app, "no-such-patient")
    done = journey(store_url, "verify", "no-such-patient")
    assert done.returncode == 3, done.stdout
    assert "no patient 'no-such-patient'" in done.stderr
    run(store_url, "DELETE FROM {table} WHERE originator_id = {p}", "p-a")
    gone = verify_patient(make_app(), "p-a")  # its anchors remain: deleted, not unknown
    assert not gone.ok and "anchored event is missing (deleted)" in str(gone.first())


@pytest.mark.parametrize("how", ["rewritten_row", "events_deleted"])
def test_a_snapshot_that_does_not_fit_its_events_is_a_break(
    make_app: Callable[..., JourneyApplication], store_url: str, how: str
) -> None:
    app = make_app()
    discharged_after_200_events(app)
    sqlite = store_url.startswith("sqlite")
    if how == "rewritten_row":
        garbage = "CAST(state AS TEXT)" if sqlite else "decode('00ff10', 'hex')"
        run(store_url, f"UPDATE {snapshots_table(store_url)} SET state = {garbage}")
        expected = ("snap-1", 200, 200)
    else:
        run(store_url, "DELETE FROM {table} WHERE originator_id = {p}", "snap-1")
        run(store_url, "DELETE FROM audit_anchors WHERE originator_id = {p}", "snap-1")
        expected = ("snap-1", 200, None)
    app = make_app()
    for result in (verify_log(app), verify_patient(app, "snap-1")):
        snapshot = [b for b in result.breaks if "snapshot" in b.reason]
        assert [(b.patient_id, b.version, b.position) for b in snapshot] == [expected], snapshot
    if how == "events_deleted":
        assert "but the patient's events end at 0" in snapshot[0].reason


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_an_unreachable_broker_is_exit_7_not_ok(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    load(make_app())
    done = journey(store_url, "verify", "--all", JOURNEY_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9")
    assert done.returncode == 7, done.stdout
    assert "cannot read the published anchor head from care-journey.anchors.v1" in done.stderr
