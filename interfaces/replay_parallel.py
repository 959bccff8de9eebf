"""The replay spread over worker processes: each rebuilds the patients of its share (by a
stable hash of the patient id) into its own scratch database, reading only its share's
events (`consumers/log_shares.py`); the shares are then merged (`consumers/replay_merge.py`:
counters summed over patients, `schema.ADDITIVE_TABLES`, are added up). A patient's events
stay in one worker, in log order, so the result is the one a single pass gives.

`rebuild_store` is `journey project --rebuild --workers N`: the merged file is then loaded
into the live store in one transaction (`consumers/replay_load.py`)."""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from config.settings import Settings
from consumers.log_shares import Share
from consumers.replay import rebuild_into
from consumers.replay_load import drop_secondary_indexes, load_rebuilt
from consumers.replay_merge import merge_shares
from infrastructure.sql import Database, connect
from interfaces.bootstrap import build_application
from interfaces.cli_progress import Progress
from projections.read_models.schema import READ_MODEL_TABLES, create_tables
from projections.read_models.view import open_view

DEFAULT_WORKERS = min(4, os.cpu_count() or 1)


def rebuild_share(database_url: str, stop: int, share: int, shares: int, out: str) -> int:
    """Worker: applies this share's events among notifications 1..stop into `out`. The
    store's tables exist: workers creating them at once race in PostgreSQL's catalog."""
    app = build_application(Settings(database_url=database_url), create_tables=False)
    scratch = connect(f"sqlite:///{out}")
    done = rebuild_into(app, scratch, stop, share=Share(share, shares), tick=_count_applied)
    scratch.close()
    app.close()
    return done


_applied: Any = None  # in each worker: the pool's shared count of events applied


def _share_count(counter: Any) -> None:
    global _applied  # noqa: PLW0603 - a pool initializer hands the worker its shared counter
    _applied = counter


def _count_applied(events: int) -> None:
    if _applied is not None:
        with _applied.get_lock():
            _applied.value += events


def rebuild_parallel(
    database_url: str,
    stop: int,
    target: Path,
    workers: int,
    *,
    indexed: bool = True,
    label: str = "replay",
) -> int:
    """Rebuilds notifications 1..stop into the SQLite file `target` with `workers`
    processes; `indexed=False` leaves out the secondary indexes (a file only read whole).
    Progress (events applied by all workers, a shared counter) is shown as `label`."""
    parts = [target.with_name(f"{target.stem}.part{n}.db") for n in range(workers)]
    for path in (target, *parts):
        path.unlink(missing_ok=True)
    context = multiprocessing.get_context("spawn")
    applied = context.Value("q", 0)
    with (
        context.Pool(workers, initializer=_share_count, initargs=(applied,)) as pool,
        Progress(label, stop, "events") as progress,
    ):
        jobs = [(database_url, stop, n, workers, str(parts[n])) for n in range(workers)]
        pending = pool.starmap_async(rebuild_share, jobs)
        while not pending.ready():
            pending.wait(0.25)
            progress.advance(applied.value - progress.done)
        counts = pending.get()
    scratch = connect(f"sqlite:///{target}")
    with scratch.transaction() as unit:
        create_tables(unit)
        drop_secondary_indexes(unit, READ_MODEL_TABLES)  # the merge is ~4x faster without
    merge_shares(parts, target)
    if indexed:
        with scratch.transaction() as unit:
            create_tables(unit)
    scratch.close()
    for path in parts:
        path.unlink(missing_ok=True)
    return sum(counts)


def rebuild_store(live: Database, settings: Settings, workers: int) -> int:
    """`journey project --rebuild --workers N`: replays the whole log with `workers`
    processes into a scratch SQLite file (in a temporary directory), then replaces the live
    rm_ tables by its rows and sets the read models' tracked position, in one transaction
    (`consumers/replay_load.py`); returns the number of events replayed."""
    app = build_application(settings)
    try:
        stop = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    with tempfile.TemporaryDirectory(prefix="journey-rebuild-") as work:
        scratch, began = Path(work) / "rebuild.db", time.perf_counter()
        count = rebuild_parallel(
            settings.database_url, stop, scratch, workers, indexed=False, label="rebuild"
        )
        seconds = time.perf_counter() - began
        _say(f"replayed {count} events (log 1..{stop}) with {workers} workers", count, seconds)
        began = time.perf_counter()
        view, factory = open_view(settings.database_url)
        try:
            rows = load_rebuilt(live, view, scratch, stop, _report_table)
        finally:
            factory.close()
        _say(f"loaded {rows} rows in one transaction", rows, time.perf_counter() - began)
    return count


def _report_table(table: str, rows: int, seconds: float) -> None:
    _say(f"  {table}: {rows} rows", rows, seconds)


def _say(what: str, count: int, seconds: float) -> None:
    rate = count / seconds if seconds else 0.0
    print(f"{what} in {seconds:.1f}s ({rate:,.0f}/s)", file=sys.stderr)
