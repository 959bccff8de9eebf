"""The replay spread over worker processes: each rebuilds the patients of its share (by a
stable hash of the patient id) into its own scratch database, reading only its share's
events (`consumers/log_shares.py`); the shares are then merged (`consumers/replay_merge.py`:
counters summed over patients, `schema.ADDITIVE_TABLES`, are added up). A patient's events
stay in one worker, in log order, so the result is the one a single pass gives.

`rebuild_store` is `journey project --rebuild --workers N`: the merged file is then loaded
into the live store in one transaction (`consumers/replay_load.py`).

`rebuild_summed` is `journey replay`'s: each worker also sums its share of the ordinary
tables (the rows' sorted lines, `read_models/checksum.py`); a table's sum is then the digest
of every share's lines (a patient's rows are in one share), so those tables need neither
the merge nor a sum of the merged file. Only the additive tables are merged (and summed)."""

from __future__ import annotations

import gc
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import Settings
from consumers.log_shares import Share
from consumers.replay import rebuild_into
from consumers.replay_load import drop_secondary_indexes, load_rebuilt
from consumers.replay_merge import merge_shares
from infrastructure.sql import Database
from projections.read_models.checksum import TableSum, digest, sqlite_lines, table_sum
from projections.read_models.schema import ADDITIVE_TABLES, READ_MODEL_TABLES, create_tables
from projections.read_models.view import open_view
from services.bulk.orphans import start_method
from services.runtime import Runtime, open_scratch

WORKER_GC_THRESHOLD = 50_000
Tick = Callable[[int], None]  # hears how many more events were applied
Say = Callable[[str], None]  # hears a line of report
Lines = dict[str, list[str] | None]  # table: its rows' sorted lines (None: not summable so)


@dataclass(frozen=True)
class ShareJob:
    """One worker's task: the events of `share` (number, shares) among notifications
    1..stop into the file `out`; the sorted lines of the `summed` tables back."""

    database_url: str
    stop: int
    share: tuple[int, int]
    out: str
    set_based: bool = True
    summed: tuple[str, ...] = ()


def rebuild_share(job: ShareJob) -> tuple[int, Lines]:
    """Worker: runs `job`; returns the number of events applied and the lines.
    The store's tables exist: workers creating them at once race in PostgreSQL's catalog.
    A replay allocates many short-lived objects per event and keeps few: the collector
    runs every WORKER_GC_THRESHOLD allocations, not every 700 (about 10% of the time)."""
    gc.freeze()  # what the imports made: never garbage, never scanned again
    gc.set_threshold(WORKER_GC_THRESHOLD, 10, 10)
    with Runtime(Settings(database_url=job.database_url), create_tables=False) as runtime:
        scratch = runtime.scratch(Path(job.out))
        count = rebuild_into(
            runtime.application,
            scratch,
            job.stop,
            share=Share(*job.share),
            tick=_count_applied,
            set_based=job.set_based,
            indexed=False,  # the merge copies the rows; the target is indexed afterwards
        )
        return count, {table: sqlite_lines(scratch, table) for table in job.summed}


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
    parts = _part_paths(target, workers)
    try:
        jobs = [
            ShareJob(database_url, stop, (n, workers), str(p), set_based)
            for n, p in enumerate(parts)
        ]
        counts = _run_workers(jobs, tick)
        _merge(parts, target, READ_MODEL_TABLES, indexed=indexed)
    finally:
        for path in parts:
            path.unlink(missing_ok=True)
    return sum(count for count, _ in counts)


@dataclass(frozen=True)
class Summed:
    """What `rebuild_summed` did: events applied, each table's sum, and which tables were
    summed from the workers' lines (the others from the merged file)."""

    events: int
    sums: dict[str, TableSum]
    from_workers: frozenset[str]


def rebuild_summed(
    database_url: str,
    stop: int,
    target: Path,
    workers: int,
    tables: Sequence[str],
    *,
    keep: bool = False,
    tick: Tick | None = None,
    pool: SharePool | None = None,
) -> Summed:
    """`rebuild_parallel` and the sums of `tables`: an ordinary table is summed in the
    workers (each its share's rows) and, unless `keep` (the file is wanted whole and
    indexed), not merged into `target`; the additive ones are merged and summed there.
    `pool`: its workers (`workers` of them, started before the store was opened)."""
    ordinary = tuple(t for t in tables if t not in ADDITIVE_TABLES)
    parts = _part_paths(target, workers)
    try:
        jobs = [
            ShareJob(database_url, stop, (n, workers), str(p), summed=ordinary)
            for n, p in enumerate(parts)
        ]
        counts = _run_workers(jobs, tick, pool)
        lines = [found for _, found in counts]
        whole = frozenset(t for t in ordinary if all(found[t] is not None for found in lines))
        merged = READ_MODEL_TABLES if keep else tuple(t for t in tables if t not in whole)
        _merge(parts, target, merged, indexed=keep)
    finally:
        for path in parts:
            path.unlink(missing_ok=True)
    sums = {t: digest(t, [line for found in lines for line in found[t] or ()]) for t in whole}
    with closing(open_scratch(target)) as scratch:
        sums.update((t, table_sum(scratch, t)) for t in tables if t not in whole)
    return Summed(sum(count for count, _ in counts), sums, whole)


def _part_paths(target: Path, workers: int) -> list[Path]:
    parts = [target.with_name(f"{target.stem}.part{n}.db") for n in range(workers)]
    for path in (target, *parts):
        path.unlink(missing_ok=True)
    return parts


class SharePool:
    """The worker processes of one parallel replay, closed with the block.

    Entered before the caller opens any connection to a store or starts a thread, they are
    forked (`start_method`): they start with the caller's modules, where a spawned worker
    starts an interpreter and imports them again (0.65 s of wall time before the first
    share here, in a replay of about 8 s). A fork copies every lock as it is at that
    moment: forked while the parent's thread summing the live tables was in SQLite's
    `connect`, each worker waited there forever. So `method` is "spawn" wherever the
    caller cannot promise that (`_run_workers` without a pool: a store already open)."""

    def __init__(self, workers: int, *, method: str | None = None) -> None:
        self.workers = workers
        self.method = method or start_method()
        self.applied: Any = None  # the workers' shared count of events applied
        self.pool: Any = None

    def __enter__(self) -> SharePool:
        context = multiprocessing.get_context(self.method)
        self.applied = context.Value("q", 0)
        self.pool = context.Pool(self.workers, initializer=_share_count, initargs=(self.applied,))
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.pool.terminate()  # as `with Pool()` does: the results were taken, or failed
        self.pool.join()


def _run_workers(
    jobs: Sequence[ShareJob], tick: Tick | None, pool: SharePool | None = None
) -> list[tuple[int, Lines]]:
    """Each worker's (events applied, lines of the summed tables), in share order; on
    `pool`'s workers (one job each), else on workers spawned for these jobs."""
    if pool is None:
        with SharePool(len(jobs), method="spawn") as spawned:
            return _run_workers(jobs, tick, spawned)
    if pool.workers != len(jobs):
        raise ValueError(f"{len(jobs)} shares for {pool.workers} workers")
    pending, told = pool.pool.map_async(rebuild_share, jobs, chunksize=1), 0
    while not pending.ready():
        pending.wait(0.25)
        if tick is not None:
            now = pool.applied.value
            tick(now - told)
            told = now
    return list(pending.get())


def _merge(parts: Sequence[Path], target: Path, tables: Sequence[str], *, indexed: bool) -> None:
    """Creates every table in `target` and merges the parts' rows of `tables` into it."""
    with closing(open_scratch(target)) as scratch:
        with scratch.transaction() as unit:
            create_tables(unit)
            drop_secondary_indexes(unit, READ_MODEL_TABLES)  # the merge is ~4x faster without
        merge_shares(parts, target, tables)
        if indexed:
            with scratch.transaction() as unit:
                create_tables(unit)


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
