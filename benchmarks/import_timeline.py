"""Where the wall time of `journey import` goes, phase by phase: the figures behind the
import's timeline in docs/benchmarks.md (seventh pass), which say why the import stays
below 25% of raw inserts on 2 cores.

Each run is `journey import FILE` (the demo cohort's first `--commands` commands) in a
subprocess on a fresh SQLite store, as `bench_import` times it, with the bulk path's steps
timed from inside: `Deciders.begin` (the workers are forked and the store is open),
`Deciders._results` (the writer waiting for its workers), `SQLiteBulkWriter.append` (a
chunk written) and the end of `_load` (the commit, the WAL's checkpoint and the close),
and each worker's end and CPU. Nothing else is changed. The instants are
`time.monotonic()`, one clock for every process on Linux.

`--cache-mib N` sets SQLite's page cache of the load's connection to N MiB (the
experiment the docs report as noise), alternated run by run with the default cache.

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.import_timeline [--commands 100000]
[--runs 3] [--cache-mib 256]
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import children_cpu, cohort_lines, work_dir, write_lines
from infrastructure import bulk_store as store
from services.bulk import importer, workers

CHILD = "--child"
MARK = "timeline "


def _child(path: str, cache_mib: int) -> None:
    """`journey import path` in this process, its bulk steps timed; the marks go to
    stderr as one JSON line, each worker's as another."""
    marks: dict[str, Any] = {"waited": 0.0}

    def timed_method(owner: Any, name: str, after: Callable[[float, float], None]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.monotonic()
            result = original(*args, **kwargs)
            after(began, time.monotonic())
            return result

        setattr(owner, name, wrapper)

    timed_method(workers.Deciders, "begin", lambda b, e: marks.setdefault("begin", e))
    timed_method(
        workers.Deciders, "_results", lambda b, e: marks.update(waited=marks["waited"] + e - b)
    )
    timed_method(store.SQLiteBulkWriter, "append", lambda b, e: marks.update(appended=e))
    timed_method(importer, "_load", lambda b, e: marks.update(loaded=e))
    serve = workers._serve

    def timed_serve(*args: Any) -> None:
        serve(*args)
        line = {"worker_end": time.monotonic(), "worker_cpu": time.process_time()}
        print(MARK + json.dumps(line), file=sys.stderr, flush=True)

    workers._serve = timed_serve  # type: ignore[assignment]
    if cache_mib:
        transaction = store.SQLiteBulkWriter.transaction

        @contextmanager
        def cached(self: Any) -> Any:
            with transaction(self) as cursor:
                cursor.execute(f"PRAGMA cache_size = {-cache_mib * 1024}")
                yield cursor

        store.SQLiteBulkWriter.transaction = cached  # type: ignore[assignment,method-assign]
    sys.argv = ["interfaces", "import", path]
    try:
        runpy.run_module("interfaces", run_name="__main__")
    finally:
        print(MARK + json.dumps(marks), file=sys.stderr, flush=True)


def run(path: Path, store: Path, cache_mib: int) -> dict[str, Any]:
    """One import's phases, in seconds, and the CPU of it and of its workers."""
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}"}
    command = [sys.executable, "-m", "benchmarks.import_timeline", CHILD, str(path)]
    before, started = children_cpu(), time.monotonic()
    done = subprocess.run(
        [*command, str(cache_mib)], env=env, capture_output=True, text=True, check=True
    )
    ended, cpu = time.monotonic(), children_cpu() - before
    lines = [json.loads(s[len(MARK) :]) for s in done.stderr.splitlines() if s.startswith(MARK)]
    marks = lines[-1]
    ends = [w["worker_end"] for w in lines[:-1]]
    last_worker = max(ends) if ends else marks["begin"]
    return {
        "start": marks["begin"] - started,
        "decide": last_worker - marks["begin"],
        "tail": marks["appended"] - last_worker,
        "commit": marks["loaded"] - marks["appended"],
        "exit": ended - marks["loaded"],
        "wall": ended - started,
        "waited": marks["waited"],
        "workers": [w["worker_cpu"] for w in lines[:-1]],
        "cpu": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-mib", type=int, default=0)
    args = parser.parse_args()
    work = work_dir("import-timeline-")
    path = write_lines(work / "commands.jsonl", cohort_lines(args.commands))
    caches = [0, args.cache_mib] if args.cache_mib else [0]
    print(f"journey import of {args.commands} commands, seconds (2 cores: {os.cpu_count()})")
    print(
        f"{'run':<4}{'cache':>7}{'start':>7}{'decide':>8}{'tail':>6}{'commit':>8}{'exit':>6}"
        f"{'wall':>7}{'waited':>8}  worker cpu   cpu"
    )
    for number in range(1, args.runs + 1):
        for cache in caches:
            database = work / f"run-{number}-{cache}.db"
            t = run(path, database, cache)
            worker_cpu = " ".join(f"{c:.2f}" for c in t["workers"])
            print(
                f"{number:<4}{cache or '-':>7}{t['start']:>7.2f}{t['decide']:>8.2f}"
                f"{t['tail']:>6.2f}{t['commit']:>8.2f}{t['exit']:>6.2f}{t['wall']:>7.2f}"
                f"{t['waited']:>8.2f}  {worker_cpu:<11}{t['cpu']:>5.2f}"
            )
    print(
        "start: process start until the workers are forked and the store is open; decide:"
        " until the last worker ended;\ntail: chunks written after that; commit: the"
        " commit, WAL checkpoint and close; waited: the writer waiting for its workers;"
        "\ncache: the load's SQLite page cache in MiB (-: SQLite's default)"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == CHILD:
        _child(sys.argv[2], int(sys.argv[3]))
    else:
        main()
