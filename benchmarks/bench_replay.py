"""Replay throughput (SQLite): `journey replay` timed as a whole CLI run (a subprocess:
process start, worker processes, rebuild, merge and the table-by-table comparison with the
live read models), next to the raw rate of plain `sqlite3` + `json.loads` of the same
stored rows (the `state` column of every stored event), measured in the same run, just
before and just after the CLI run (the mean of the two is the limit). Target (issue 14):
the whole-process rate at 15% or more of that raw rate.

The store is the demo cohort's first N commands, imported, and its live read models built
(`journey project --rebuild --once --workers 2`). It is stored without a master key: its
events are plain JSON, so the raw reader decrypts nothing (the output says so). The
in-process figures (one process; the worker processes `journey replay` uses) are printed
too, from the wall clock and from the CPU time of this process and its workers.

Run: .venv/bin/python -m benchmarks.bench_replay [--events 200000] [--reuse FILE] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from benchmarks.common import cohort_lines, timed
from config.settings import Settings
from consumers.replay import rebuild_into
from services.importing import import_lines
from services.replay_parallel import rebuild_parallel
from services.runtime import Runtime
from services.worker_counts import DEFAULT_WORKERS

T = TypeVar("T")


def raw_read(db: Path) -> int:
    """The physical limit: plain sqlite3 + json.loads of every stored event's state."""
    count = 0
    with sqlite3.connect(db) as connection:
        for (state,) in connection.execute("SELECT state FROM stored_events"):
            json.loads(state)
            count += 1
    return count


def cpu_seconds() -> float:
    """CPU time of this process and of its worker processes that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(action: Callable[[], T]) -> tuple[T, float, float]:
    """The result, wall seconds and CPU seconds of `action`."""
    began = cpu_seconds()
    result, seconds = timed(action)
    return result, seconds, cpu_seconds() - began


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{db}"}
    for name in ("JOURNEY_CIPHER_KEY", "JOURNEY_KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    command = [sys.executable, "-m", "interfaces", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"journey {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done


def build(db: Path, events: int) -> None:
    with Runtime(Settings(database_url=f"sqlite:///{db}")) as runtime:
        lines = cohort_lines(events)
        report, seconds = timed(
            lambda: import_lines(
                runtime.application, lines, continue_on_error=True, batch_size=5_000
            )
        )
    print(f"stored {report.summary()} in {seconds:.0f} s")
    _, seconds = timed(lambda: cli(db, "project", "--rebuild", "--once", "--workers", "2"))
    print(f"live read models built (journey project --rebuild --workers 2) in {seconds:.0f} s")


def whole_process(db: Path) -> tuple[int, float, float]:
    """`journey replay` as a subprocess: (events, wall seconds, raw events/s around it)."""
    raw_before, before = timed(lambda: raw_read(db))
    done, seconds = timed(lambda: cli(db, "replay"))
    raw_after, after = timed(lambda: raw_read(db))
    last = [line for line in done.stderr.splitlines() if line.startswith("replayed ")]
    events = int(last[-1].split()[1])
    return events, seconds, (raw_before + raw_after) / (before + after)


def in_process(db: Path, work: Path, raw: float) -> None:
    with Runtime(Settings(database_url=f"sqlite:///{db}")) as runtime:
        app = runtime.application
        stop = app.recorder.max_notification_id() or 0
        scratch = runtime.scratch(work / "replay.db")
        one, one_seconds, one_cpu = measured(lambda: rebuild_into(app, scratch, stop))
    url, workers = f"sqlite:///{db}", DEFAULT_WORKERS
    spread, spread_seconds, spread_cpu = measured(
        lambda: rebuild_parallel(url, stop, work / "par.db", workers)
    )
    assert one == spread
    print(f"{'in-process rebuild (no comparison)':<48}{'wall events/s':>18}{'events/CPU s':>14}")
    for label, seconds, cpu in (
        ("1 process", one_seconds, one_cpu),
        (f"{workers} worker processes", spread_seconds, spread_cpu),
    ):
        rate = one / seconds
        print(f"  {label:<46}{rate:>10,.0f} ({rate / raw:4.1%}){one / cpu:>14,.0f}")


def run(db: Path, work: Path, *, in_process_too: bool) -> None:
    events, seconds, raw = whole_process(db)
    rate = events / seconds
    print("store: plain (no master key): the raw reader decrypts nothing, as the app does")
    print(f"{'raw sqlite3 + json.loads of the state column':<48}{raw:>10,.0f} events/s")
    print(
        f"{'journey replay, whole process (CLI subprocess)':<48}{rate:>10,.0f} events/s"
        f"  = {rate / raw:.1%} of raw  ({events} events in {seconds:.2f} s)"
    )
    if in_process_too:
        in_process(db, work, raw)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"(target: whole process >= 15% of raw; {os.cpu_count()} CPUs here, load {load})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--reuse", type=Path, help="a store built by an earlier --keep")
    parser.add_argument("--keep", action="store_true", help="keep the store; print its path")
    parser.add_argument("--no-in-process", action="store_true", help="CLI figure only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    db = args.reuse or work / "events.db"
    try:
        if args.reuse is None:
            build(db, args.events)
        run(db, work, in_process_too=not args.no_in_process)
    finally:
        if args.keep and args.reuse is None:
            for scratch in work.iterdir():
                if not scratch.name.startswith(db.name):  # events.db and its -wal, -shm
                    scratch.unlink()
            print(f"kept the store: --reuse {db}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
