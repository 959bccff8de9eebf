"""The replay spread over worker processes: each rebuilds the patients of its share (by a
stable hash of the patient id) into its own scratch database, reading the whole log but
decoding only its own events; the shares are then merged. A patient's events stay in one
worker, in log order, so the result is the one a single pass gives."""

from __future__ import annotations

import multiprocessing
import sqlite3
import sys
import zlib
from pathlib import Path

from consumers.replay import BATCH, rebuild_into
from infrastructure.sql import connect
from interfaces.bootstrap import build_application
from journey.settings import Settings
from projections.read_models.schema import READ_MODEL_TABLES, create_tables


def _mine(patient_id: str, share: int, shares: int) -> bool:
    return zlib.crc32(patient_id.encode()) % shares == share


def rebuild_share(database_url: str, stop: int, share: int, shares: int, out: str) -> int:
    """Worker: applies this share's events among notifications 1..stop into `out`."""
    app = build_application(Settings(database_url=database_url))
    scratch = connect(f"sqlite:///{out}")
    progress = _report if share == 0 else None
    done = rebuild_into(app, scratch, stop, progress, keep=lambda pid: _mine(pid, share, shares))
    scratch.close()
    app.close()
    return done


def _report(position: int, stop: int, seconds: float) -> None:
    if position % 100_000 < BATCH or position == stop:
        rate = position / seconds if seconds else 0.0
        print(f"  {position}/{stop} log positions read, {rate:,.0f}/s", file=sys.stderr)


def _merge(parts: list[Path], target: Path) -> None:
    connection = sqlite3.connect(target)
    try:
        for n, part in enumerate(parts):
            connection.execute(f"ATTACH DATABASE ? AS p{n}", (str(part),))
            for table in READ_MODEL_TABLES:
                connection.execute(f"INSERT INTO {table} SELECT * FROM p{n}.{table}")
            connection.commit()
            connection.execute(f"DETACH DATABASE p{n}")
    finally:
        connection.close()


def rebuild_parallel(database_url: str, stop: int, target: Path, workers: int) -> int:
    """Rebuilds notifications 1..stop into the SQLite file `target` with `workers` processes."""
    parts = [target.with_name(f"{target.stem}.part{n}.db") for n in range(workers)]
    for path in (target, *parts):
        path.unlink(missing_ok=True)
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        jobs = [(database_url, stop, n, workers, str(parts[n])) for n in range(workers)]
        counts = pool.starmap(rebuild_share, jobs)
    scratch = connect(f"sqlite:///{target}")
    with scratch.transaction() as unit:
        create_tables(unit)
    scratch.close()
    _merge(parts, target)
    for path in parts:
        path.unlink(missing_ok=True)
    return sum(counts)
