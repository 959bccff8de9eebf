"""The replay spread over worker processes: each rebuilds the patients of its share (by a
stable hash of the patient id) into its own scratch database, reading only its share's
events (`consumers/log_shares.py`); the shares are then merged (`consumers/replay_merge.py`:
counters summed over patients, `schema.ADDITIVE_TABLES`, are added up). A patient's events
stay in one worker, in log order, so the result is the one a single pass gives.

`rebuild_store` is `journey project --rebuild --workers N`: the merged file is then loaded
into the live store in one transaction (`consumers/replay_load.py`)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from config.settings import Settings
from consumers.log_shares import Share
from consumers.replay import rebuild_into
from consumers.replay_load import drop_secondary_indexes, load_rebuilt
from consumers.replay_merge import merge_shares
from infrastructure.sql import Database
from projections.read_models.schema import READ_MODEL_TABLES, create_tables
from projections.read_models.view import open_view
from services.runtime import Runtime, open_scratch

DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
WORKER_GC_THRESHOLD = 50_000
Tick = Callable[[int], None]  # hears how many more events were applied
Say = Callable[[str], None]  # hears a line of report


def rebuild_share(
    database_url: str, stop: int, share: tuple[int, int], out: str, set_based: bool = True
) -> int:
    """Worker: applies the events of `share` (number, shares) among notifications 1..stop
    into `out`. The store's tables exist: workers creating them at once race in
    PostgreSQL's catalog.
    A replay allocates many short-lived objects per event and keeps few: the collector
    runs every WORKER_GC_THRESHOLD allocations, not every 700 (about 10% of the time)."""
    gc.freeze()  # what the imports made: never garbage, never scanned again
    gc.set_threshold(WORKER_GC_THRESHOLD, 10, 10)
    with Runtime(Settings(database_url=database_url), create_tables=False) as runtime:
        return rebuild_into(
            runtime.application,
            runtime.scratch(Path(out)),
            stop,
            share=Share(*share),
            tick=_count_applied,
            set_based=set_based,
            indexed=False,  # the merge copies the rows; the target is indexed afterwards
        )


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
    tick: Tick | None = None,
    set_based: bool = True,
) -> int:
    """Rebuilds notifications 1..stop into the SQLite file `target` with `workers`
    processes; `indexed=False` leaves out the secondary indexes (a file only read whole).
    `tick` hears the events applied by all workers (a shared counter). `set_based=False`:
    the workers take the plain path (`consumers.replay.rebuild_into`)."""
    parts = [target.with_name(f"{target.stem}.part{n}.db") for n in range(workers)]
    for path in (target, *parts):
        path.unlink(missing_ok=True)
    context = multiprocessing.get_context("spawn")
    applied = context.Value("q", 0)
    with context.Pool(workers, initializer=_share_count, initargs=(applied,)) as pool:
        jobs = [
            (database_url, stop, (n, workers), str(parts[n]), set_based) for n in range(workers)
        ]
        pending, told = pool.starmap_async(rebuild_share, jobs), 0
        while not pending.ready():
            pending.wait(0.25)
            if tick is not None:
                now = applied.value
                tick(now - told)
                told = now
        counts = pending.get()
    with closing(open_scratch(target)) as scratch:
        with scratch.transaction() as unit:
            create_tables(unit)
            drop_secondary_indexes(unit, READ_MODEL_TABLES)  # the merge is ~4x faster without
        merge_shares(parts, target)
        if indexed:
            with scratch.transaction() as unit:
                create_tables(unit)
    for path in parts:
        path.unlink(missing_ok=True)
    return sum(counts)


def rebuild_store(
    live: Database,
    settings: Settings,
    workers: int,
    *,
    stop: int | None = None,
    tick: Tick | None = None,
    say: Say | None = None,
) -> int:
    """`journey project --rebuild --workers N`: replays the log up to `stop` (default its
    head) with `workers` processes into a scratch SQLite file (in a temporary directory),
    then replaces the live rm_ tables by its rows and sets the log follower's position, in
    one transaction (`consumers/replay_load.py`); returns the number of events replayed.
    `say` hears what was done, with its duration and rate."""
    if stop is None:
        with Runtime(settings) as runtime:
            stop = runtime.application.recorder.max_notification_id() or 0

    def report(what: str, count: int, seconds: float) -> None:
        if say is not None:
            rate = count / seconds if seconds else 0.0
            say(f"{what} in {seconds:.1f}s ({rate:,.0f}/s)")

    with tempfile.TemporaryDirectory(prefix="journey-rebuild-") as work:
        scratch, began = Path(work) / "rebuild.db", time.perf_counter()
        count = rebuild_parallel(
            settings.database_url, stop, scratch, workers, indexed=False, tick=tick
        )
        seconds = time.perf_counter() - began
        report(f"replayed {count} events (log 1..{stop}) with {workers} workers", count, seconds)
        began = time.perf_counter()
        view, factory = open_view(settings.database_url)
        try:
            rows = load_rebuilt(
                live, view, scratch, stop, lambda table, n, s: report(f"  {table}: {n} rows", n, s)
            )
        finally:
            factory.close()
        report(f"loaded {rows} rows in one transaction", rows, time.perf_counter() - began)
    return count
