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

from audit.verify import verify_log
from config.settings import Settings
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


def _fast_import(url: str, lines: list[str], out: Any) -> None:
    """In a process of its own: the clock frozen at RECORDED, no thread but the main one."""
    import eventsourcing.domain

    from services.bulk import orphans as workers

    eventsourcing.domain.datetime_now_with_tzinfo = lambda: RECORDED
    assert workers.start_method() == "fork"
    report = bulk_import_lines(
        lines, settings=Settings(database_url=url), workers=2, now=NOW, recorded_by=BY
    )
    out.put((report.applied, report.accepted, report.duplicates))


def _fast(url: str, lines: list[str]) -> tuple[bool, int, int]:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_fast_import, args=(url, lines, out))
    process.start()
    try:
        result: tuple[bool, int, int] = out.get(timeout=300)
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
    applied, accepted, duplicates = _fast(fast_url, lines)
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
    applied, accepted, _ = _fast(fast_url, lines[half:])
    assert applied and expected.applied and accepted == expected.accepted
    _same_store(plain_url, fast_url, open_app)


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
