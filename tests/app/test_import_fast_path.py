"""`journey import`'s default path (the bulk path: commands decided in forked worker
processes, rows written by the importing process) stores exactly what the plain path
stores: with the same recording clock (forked workers inherit it; the fast path runs in a
fresh single-threaded process, as the CLI does, so that it forks) every table of the store
is the same to the byte, on a fresh store and on one whose patients the import continues.
On the command line: the same rejections, exit code and empty store as `--plain`, and an
input the bulk path cannot take is imported by the plain path instead."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.cipher import AESCipher

from audit.verify import verify_log
from config.settings import Settings
from infrastructure import keys
from services.bulk.importer import BATCH_LINES, bulk_import_lines
from services.importing import import_lines
from tests.analytics.scenarios import scenarios
from tests.app.bulk_support import (
    NOW,
    RECORDED,
    Opener,
    Stores,
    anchors,
    cohort_lines,
    histories,
    log_rows,
    snapshot_rows,
)
from tests.app.test_bulk_import import ADMIT, MIXED, SESSION
from tests.cli_support import run_journey

PATIENTS = 30
KEY = AESCipher.create_key(32)
BY = "os:importer"
RANDOM_KEY = "pseudonym_key"  # journey_meta: drawn when a store is created, per store


def _lines() -> list[str]:
    return cohort_lines(PATIENTS) + [json.dumps(c) for c in scenarios()]


def _tables(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite store (sorted: some tables have no rowid; the
    log's order is compared by `log_rows`)."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {
            n: sorted(connection.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names
        }
    finally:
        connection.close()


def _fast_import(url: str, lines: list[str], out: Any, options: dict[str, Any]) -> None:
    """In a process of its own: the clock frozen at RECORDED, no thread but the main one."""
    import eventsourcing.domain

    from services.bulk import orphans as workers

    eventsourcing.domain.datetime_now_with_tzinfo = lambda: RECORDED
    assert workers.start_method() == "fork"
    settings = Settings(database_url=url, cipher_key=options.get("cipher_key"))
    report = bulk_import_lines(
        lines,
        settings=settings,
        workers=2,
        now=NOW,
        recorded_by=BY,
        continue_on_error=options.get("continue_on_error", False),
    )
    rejected = [(r.line, str(r.error)) for r in report.rejected]
    out.put((report.applied, report.accepted, report.duplicates, rejected))


def _fast(url: str, lines: list[str], **options: Any) -> tuple[bool, int, int, list[Any]]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_fast_import, args=(url, lines, out, options))
    process.start()
    try:
        result: tuple[bool, int, int, list[Any]] = out.get(timeout=300)
    finally:
        process.join(timeout=60)
    assert process.exitcode == 0
    return result


def _same_store(plain_url: str, fast_url: str, open_app: Opener) -> None:
    """The same bytes: every table on SQLite; the log, anchors and snapshots on PostgreSQL."""
    plain, fast = open_app(plain_url), open_app(fast_url)
    assert log_rows(fast) == log_rows(plain) != []
    assert anchors(fast) == anchors(plain)
    assert snapshot_rows(fast) == snapshot_rows(plain) != []  # patients past 200 events
    if plain_url.startswith("sqlite"):
        fast_tables, plain_tables = _tables(fast_url), _tables(plain_url)
        for tables in (fast_tables, plain_tables):  # a random key made with each store
            tables["journey_meta"] = [r for r in tables["journey_meta"] if r[0] != RANDOM_KEY]
        assert fast_tables == plain_tables
    result = verify_log(fast)
    assert result.ok and result.events == len(log_rows(plain)), result.first()


@pytest.mark.usefixtures("frozen_clock")
def test_worker_processes_store_the_plain_paths_bytes(two_stores: Stores, open_app: Opener) -> None:
    plain_url, fast_url = two_stores
    lines = _lines()
    expected = import_lines(open_app(plain_url), lines, now=NOW, recorded_by=BY)
    applied, accepted, duplicates, _ = _fast(fast_url, lines)
    assert applied and expected.applied
    assert (accepted, duplicates) == (expected.accepted, expected.duplicates)
    _same_store(plain_url, fast_url, open_app)


@pytest.mark.usefixtures("frozen_clock")
def test_patients_already_stored_are_continued_to_the_byte(
    two_stores: Stores, open_app: Opener
) -> None:
    """Both stores hold the first part (plain path); the rest by each path: the same bytes."""
    plain_url, fast_url = two_stores
    lines = _lines()
    half = len(lines) // 2  # in the middle of a patient's commands
    for url in two_stores:
        assert import_lines(open_app(url), lines[:half], now=NOW, recorded_by=BY).applied
    expected = import_lines(open_app(plain_url), lines[half:], now=NOW, recorded_by=BY)
    applied, accepted, _, _ = _fast(fast_url, lines[half:])
    assert applied and expected.applied and accepted == expected.accepted
    _same_store(plain_url, fast_url, open_app)


# What may follow a recorded session, as (label, how the line is changed): a retry, a clash,
# sessions the patient's history rejects, lines rejected on their own, and an instant
# whose offset has seconds (stored as its text, hashed in UTC).
TROUBLE: list[tuple[str, dict[str, Any] | str]] = [
    ("retry", {}),
    ("same id, other content", {"duration_minutes": 7}),
    ("in the future", {"session_id": "x-1", "occurred_at": "2030-01-01T00:00:00+00:00"}),
    ("before the earliest", {"session_id": "x-2", "occurred_at": "1980-01-01T00:00:00+00:00"}),
    ("outside every episode", {"session_id": "x-3", "occurred_at": "1995-01-01T00:00:00Z"}),
    ("unknown patient", {"patient_id": "nobody", "session_id": "x-4"}),
    ("not in the catalog", {"session_id": "x-5", "format": "telepathy"}),
    ("not json", "{not json"),
    ("offset with seconds", {"session_id": "x-6", "occurred_at": "2026-03-01T10:00:00+05:30:15"}),
]


def _troubled(lines: list[str]) -> list[str]:
    """The lines with one of TROUBLE after every 97th recorded session, in turn (each
    patient's troubled sessions get their own ids)."""
    result, sessions = [], 0
    for line in lines:
        result.append(line)
        command = json.loads(line)
        if command["command"] != "record_session":
            continue
        sessions += 1
        if sessions % 97:
            continue
        _label, change = TROUBLE[(sessions // 97) % len(TROUBLE)]
        if isinstance(change, str):
            result.append(change)
            continue
        changed = command | change
        if "session_id" in change:
            changed["session_id"] = f"{change['session_id']}-{sessions}"
        result.append(json.dumps(changed))
    return result


@pytest.mark.usefixtures("frozen_clock")
def test_rejections_and_duplicates_mid_chunk_store_the_plain_paths_bytes(
    two_stores: Stores, open_app: Opener
) -> None:
    """Retries, clashes, sessions the patient's history rejects and bad lines among the
    sessions: atomic, the same lines rejected and nothing stored; with
    --continue-on-error, the same lines rejected and the same bytes stored."""
    plain_url, fast_url = two_stores
    lines = _troubled(_lines())
    assert len(lines) - len(_lines()) >= 3 * len(TROUBLE)  # each kind, several times
    expected = import_lines(open_app(plain_url), lines, now=NOW, recorded_by=BY)
    applied, accepted, duplicates, rejected = _fast(fast_url, lines)
    assert not applied and not expected.applied
    assert rejected == [(r.line, str(r.error)) for r in expected.rejected] != []
    assert (accepted, duplicates) == (expected.accepted, expected.duplicates)
    assert log_rows(open_app(fast_url)) == [] == log_rows(open_app(plain_url))
    expected = import_lines(
        open_app(plain_url), lines, now=NOW, recorded_by=BY, continue_on_error=True
    )
    applied, accepted, duplicates, rejected = _fast(fast_url, lines, continue_on_error=True)
    assert rejected == [(r.line, str(r.error)) for r in expected.rejected]
    rules = {str(r.error).split("[")[-1] for r in expected.rejected}
    assert {"not_in_future]", "within_episode]", "not_before_earliest]"} <= rules
    assert {"unique_session_id]", "catalog_value]", "json_invalid]"} <= rules
    assert (accepted, duplicates) == (expected.accepted, expected.duplicates)
    assert duplicates >= 3
    _same_store(plain_url, fast_url, open_app)


@pytest.mark.usefixtures("frozen_clock")
def test_an_encrypted_store_holds_the_plain_paths_events(
    two_stores: Stores, open_app: Opener
) -> None:
    """Encrypted rows differ (a new data key per patient, random nonces): their decrypted
    events are the same, recording time and chain hashes included, and verify."""
    plain_url, fast_url = two_stores
    lines = _troubled(_lines())
    plain = open_app(plain_url, cipher_key=KEY)
    expected = import_lines(plain, lines, now=NOW, recorded_by=BY, continue_on_error=True)
    applied, accepted, duplicates, rejected = _fast(
        fast_url, lines, continue_on_error=True, cipher_key=KEY
    )
    assert applied and rejected == [(r.line, str(r.error)) for r in expected.rejected] != []
    assert (accepted, duplicates) == (expected.accepted, expected.duplicates)
    fast = open_app(fast_url, cipher_key=KEY)
    assert all(keys.is_patient_format(row[4]) for row in log_rows(fast))
    assert histories(fast) == histories(plain)
    assert [r[:4] for r in log_rows(fast)] == [r[:4] for r in log_rows(plain)]
    result = verify_log(fast)
    assert result.ok and result.events == len(log_rows(plain)), result.first()


def _import(tmp_path: Path, name: str, text: str, *flags: str, **env: str) -> tuple[Any, str]:
    source = tmp_path / f"{name}.jsonl"
    source.write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path}/{name}.db"
    return run_journey(url, "import", str(source), *flags, env=env), url


def test_cli_rejections_are_the_plain_paths(tmp_path: Path, open_app: Opener) -> None:
    """Atomic: the same lines named (line, field, rule), exit 1, nothing stored; with
    --continue-on-error the same lines rejected and the same histories stored."""
    text = "\n".join(MIXED) + "\n"
    fast, fast_url = _import(tmp_path, "fast", text)
    plain, plain_url = _import(tmp_path, "plain", text, "--plain")
    assert (fast.returncode, plain.returncode) == (1, 1)
    assert fast.stderr == plain.stderr
    assert "line 10: format: " in fast.stderr and "nothing imported" in fast.stderr
    assert log_rows(open_app(fast_url)) == log_rows(open_app(plain_url)) == []
    fast, fast_url = _import(tmp_path, "fast-c", text, "--continue-on-error", "--bulk")
    plain, plain_url = _import(tmp_path, "plain-c", text, "--continue-on-error")
    assert (fast.returncode, plain.returncode) == (1, 1)
    assert fast.stderr == plain.stderr
    drop = {"recorded_at", "event_id", "chain_hash"}
    assert histories(open_app(fast_url), drop=drop) == histories(open_app(plain_url), drop=drop)


def test_cli_input_the_bulk_path_cannot_take_is_imported_by_the_plain_path(
    tmp_path: Path, open_app: Opener
) -> None:
    """A patient back in a later chunk of lines when its worker keeps no patient: `--bulk`
    refuses (exit 1, nothing stored); the default imports it all by the plain path."""
    blank = "\n" * BATCH_LINES  # skipped by both paths, but the session is in the next chunk
    text = json.dumps(ADMIT) + "\n" + blank + json.dumps(SESSION) + "\n"
    keep_none = {"JOURNEY_AGGREGATE_CACHE_SIZE": "0"}
    refused, refused_url = _import(tmp_path, "bulk", text, "--bulk", **keep_none)
    assert refused.returncode == 1 and "bulk_patient_grouped" in refused.stderr
    assert log_rows(open_app(refused_url)) == []
    done, url = _import(tmp_path, "default", text, **keep_none)
    assert done.returncode == 0, done.stderr
    assert [r[1:3] for r in log_rows(open_app(url))] == [("p-1", 1), ("p-1", 2)]


def test_workers_are_spawned_beside_other_threads() -> None:
    """A lock held by another thread at a fork stays held in the child: no fork then."""
    from services.bulk import orphans as workers

    assert workers.start_method() == "fork" or threading.active_count() > 1
    gate = threading.Event()
    beside = threading.Thread(target=gate.wait)
    beside.start()
    try:
        assert workers.start_method() == "spawn"
    finally:
        gate.set()
        beside.join()
