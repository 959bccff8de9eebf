"""The least wall time `journey import` can take on this machine at its present CPU per
command, next to the 25% of raw inserts issue 14 asks for: whether any spreading of the
present work over the cores could meet it (docs/benchmarks.md, eighth pass).

An import is a serial start (interpreter, modules, store), a parallel middle (workers
deciding, the importing process writing) and a serial end (the commit, which checkpoints
the whole load from the WAL into the database). This measures each part on its own, in one
run, with the same commands (the demo cohort's first `--commands`):

- start: the wall time of `journey import` of an empty file on a fresh store;
- decide: the CPU of deciding every command in this process, exactly as a worker does
  (`services.bulk.decide.Decider` on the routed lines), split into the `record_session`
  lines taken straight to their rows (`SessionLines.row`) and the rest (every other
  command by the application's own rules, snapshots, batching);
- route: the CPU of reading the file and routing its lines to the workers;
- pipes: the CPU of pickling each task and its results and unpickling them again, what
  the queues between the processes do with them;
- write: the CPU of the importing process's writes of the decided rows
  (`BulkSession.append`: events, anchors, snapshots, keys, in one transaction);
- commit: the wall time of that transaction's commit, checkpoint and close, once the pages
  it wrote are on disk (`os.sync()` first: during an import the kernel writes them back
  while the workers still decide, so its commit finds them there);
- the import itself (`journey import FILE`, whole process) and the raw rate of the same
  rows (`bench_import.raw_insert_rate`), measured right after it.

The floor is start + commit + (route + decide + pipes + write) / cores: every core busy
all through the middle, nothing lost to waiting or to switching between the processes. When that
floor is above the target's wall time, the target is out of reach at this CPU per command,
however the work is spread; only less CPU per command closes the gap.

Each part is the least of `--repeat` runs (start: of 3), so that the floor stays a floor
on a machine whose speed drifts.

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.import_floor [--commands 100000]
[--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import pickle
import time
from datetime import UTC, datetime
from itertools import islice
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from audit.anchors import Row
from benchmarks.bench_import import TARGET, raw_insert_rate, stored_rows
from benchmarks.common import cohort_lines, run_cli, work_dir, write_lines
from config.settings import Settings
from infrastructure.bulk_store import bulk_session
from infrastructure.keystore import KeyRow
from journey.mapper import cyclic_gc_paused
from services.bulk import importer
from services.bulk.decide import Decider
from services.bulk.session_lines import SessionLines
from services.bulk.workers import LinesTask
from services.importing import ImportReport, decoded_lines
from services.runtime import Runtime

Rows = tuple[list[Row], list[Row], list[KeyRow]]


def _start(work: Path) -> float:
    """Least wall seconds of `journey import` of an empty file on a fresh store (of 3)."""
    empty = write_lines(work / "empty.jsonl", [])
    return min(
        run_cli(["import", str(empty)], f"sqlite:///{work / f'start-{n}.db'}") for n in range(3)
    )


def _decide(path: Path, store: Path) -> tuple[list[Rows], dict[str, Any]]:
    """Every line decided in this process as a worker decides it; the rows to write, chunk
    by chunk, and the CPU seconds of the parts."""
    spent = {"fast": 0.0, "encode": 0.0}
    row, encode = SessionLines.row, Decider._encode

    def timed_row(self: SessionLines, text: str, patient: Any) -> Any:
        began = time.perf_counter()  # (a cheaper clock than process_time: one process,
        try:  # nothing else running in it)
            return row(self, text, patient)
        finally:
            spent["fast"] += time.perf_counter() - began

    def timed_encode(self: Decider, *args: Any) -> None:
        began = time.perf_counter()
        try:
            encode(self, *args)
        finally:
            spent["encode"] += time.perf_counter() - began

    began = time.process_time()
    with path.open("rb") as source:
        numbered = enumerate(decoded_lines(source), start=1)
        blocks = iter(lambda: list(islice(numbered, importer.BATCH_LINES)), [])
        routed = [
            (chunk, task)
            for chunk, (task,) in (importer._route(block, None, 1) for block in blocks)
            if isinstance(task, LinesTask)
        ]
    route = time.process_time() - began
    lines = sum(len(task.lines) for _, task in routed)
    pipes = 0.0
    chunks: list[Rows] = []
    report = ImportReport()
    with Runtime(Settings(database_url=f"sqlite:///{store}")) as runtime:
        decider = Decider(
            runtime.application, datetime.now(UTC), load_existing=False, keep=1_000_000
        )
        SessionLines.row = timed_row  # type: ignore[method-assign]
        Decider._encode = timed_encode  # type: ignore[method-assign,assignment]
        try:
            with cyclic_gc_paused():
                began = time.process_time()
                for chunk, task in routed:
                    batches = decider.decide_lines(task.lines, task.actor)
                    chunks.append(importer._merge(chunk, [batches], report))
                    pipes -= time.process_time()  # the task and its batches across a pipe
                    pickle.loads(ForkingPickler.dumps(task))
                    pickle.loads(ForkingPickler.dumps(batches))
                    pipes += time.process_time()
                total = time.process_time() - began - pipes
        finally:
            SessionLines.row = row  # type: ignore[method-assign]
            Decider._encode = encode  # type: ignore[method-assign]
    taken = decider.lines.taken if decider.lines is not None else 0
    parts = {
        "total": total,
        "route": route,
        "pipes": pipes,
        "lines": lines,
        "fast": spent["fast"],
        "taken": taken,
        "encode": spent["encode"],
        "snapshots": sum(len(snapshots) for _, snapshots, _ in chunks),
        "rest": total - spent["fast"] - spent["encode"],
        "accepted": report.accepted,
        "rejected": len(report.rejected),
    }
    return chunks, parts


def _write(chunks: list[Rows], store: Path) -> tuple[float, float]:
    """CPU seconds of appending the rows in one transaction, and the wall seconds of its
    commit, checkpoint and close."""
    runtime = Runtime(Settings(database_url=f"sqlite:///{store}")).__enter__()
    with cyclic_gc_paused():
        session_context = bulk_session(runtime.application, atomic=True)
        session = session_context.__enter__()
        began = time.process_time()
        for events, snapshots, keys in chunks:
            session.append(events, snapshots, keys)
        write = time.process_time() - began
        os.sync()  # what the kernel writes back while an import's workers still decide
        ended = time.perf_counter()
        session_context.__exit__(None, None, None)
    runtime.__exit__(None, None, None)  # the last connection: SQLite checkpoints here too
    return write, time.perf_counter() - ended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="decide and write: the least of")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = work_dir("import-floor-")
    path = write_lines(work / "commands.jsonl", cohort_lines(args.commands))
    imported = work / "import.db"
    wall = run_cli(["import", str(path)], f"sqlite:///{imported}")
    raw = raw_insert_rate(stored_rows(imported), work / "raw.db", batch=2_000)
    start = _start(work)
    runs = range(args.repeat)
    chunks, decide = min(
        (_decide(path, work / f"decide-{n}.db") for n in runs), key=lambda r: r[1]["total"]
    )
    writes = [_write(chunks, work / f"write-{n}.db") for n in runs]
    write, commit = min(w for w, _ in writes), min(c for _, c in writes)
    middle = (decide["route"] + decide["total"] + decide["pipes"] + write) / cores
    floor = start + commit + middle
    target = args.commands / (TARGET * raw)
    per_line = decide["total"] / decide["lines"] * 1e6
    fast = decide["fast"] / max(decide["taken"], 1) * 1e6
    others = decide["lines"] - decide["taken"]
    rest = decide["rest"] / max(others, 1) * 1e6
    print(f"{args.commands} commands (demo cohort), {cores} cores")
    print(f"journey import, whole process: {wall:.2f} s = {args.commands / wall / raw:.1%} of raw")
    print(f"raw inserts of the same rows: {raw:,.0f} rows/s; {TARGET:.0%} of it: {target:.2f} s")
    print(f"parts, each measured alone (the least of {args.repeat} runs, start of 3):")
    print(f"  start   {start:6.2f} s wall (journey import of an empty file)")
    print(f"  decide  {decide['total']:6.2f} s CPU, {per_line:.1f} us a line, of which:")
    print(
        f"          {decide['fast']:6.2f} s {decide['taken']:,} record_session lines straight"
        f" to their rows ({fast:.1f} us each)"
    )
    print(
        f"          {decide['encode']:6.2f} s rows of the other commands' events and"
        f" {decide['snapshots']} snapshots"
    )
    print(
        f"          {decide['rest']:6.2f} s the {others:,} other lines' parsing and rules"
        f" ({rest:.1f} us a line at most), and every line's batching"
    )
    print(f"  route   {decide['route']:6.2f} s CPU (reading the file, routing lines to workers)")
    print(f"  pipes   {decide['pipes']:6.2f} s CPU (each task and its results pickled, unpickled)")
    print(f"  write   {write:6.2f} s CPU (events, anchors, snapshots, keys; one transaction)")
    print(f"  commit  {commit:6.2f} s wall (commit, WAL checkpoint, close)")
    print(
        f"floor: start + commit + (route + decide + pipes + write) / {cores} cores = {floor:.2f} s"
        f" = {args.commands / floor / raw:.1%} of raw (target {TARGET:.0%}: {target:.2f} s)"
    )
    verdict = "below" if floor <= target else "above"
    print(f"the floor is {verdict} the target's wall time")
    if decide["rejected"] or decide["accepted"] != args.commands:
        print(f"(accepted {decide['accepted']}, rejected {decide['rejected']})")


if __name__ == "__main__":
    main()
