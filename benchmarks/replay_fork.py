"""What forking the replay's workers gives `journey replay` (`SharePool`,
services/replay_parallel.py): the whole replay of the same store with its workers forked
(as it runs) and spawned (`start_method` answering "spawn" in the child, as beside another
thread), in interleaved pairs whose order swaps every other pair, so that a machine whose
speed drifts moves both. Prints each pair's wall time and CPU (user + sys of the replay and
its workers) and the means: the figures behind docs/benchmarks.md, ninth pass.

With `--pieces`, also how long a pool of two takes to run its first task when forked and
when spawned (best of 3), from a process that imported what `journey replay` imports.

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.replay_fork [--events 200000]
[--pairs 10] [--pieces] [--reuse STORE]   (STORE: a store kept by bench_replay --keep)
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.bench_replay import build
from benchmarks.common import children_cpu, interleaved, work_dir
from services import replay_parallel

CHILD = "--child"


def _child(mode: str) -> None:
    """`journey replay` in this process, its workers spawned for mode "spawn"."""
    if mode == "spawn":
        replay_parallel.start_method = lambda: "spawn"  # type: ignore[attr-defined]
    sys.argv = ["interfaces", "replay"]
    runpy.run_module("interfaces", run_name="__main__")


def _replay(mode: str, store: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one replay in a subprocess."""
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}"}
    env.pop("JOURNEY_CIPHER_KEY", None)
    command = [sys.executable, "-m", "benchmarks.replay_fork", CHILD, mode]
    before, started = children_cpu(), time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started, children_cpu() - before


def _started() -> float:
    return time.perf_counter()


def _pieces() -> None:
    """A pool of two until its first task has run, forked and spawned (best of 3)."""
    print("a pool of two until its first task ran (best of 3), s:")
    for method in ("fork", "spawn"):
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            with multiprocessing.get_context(method).Pool(2) as pool:
                best = min(best, pool.apply(_started) - began)
        print(f"  {method:<6}{best:7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--pieces", action="store_true")
    parser.add_argument("--reuse", type=Path, help="a store kept by bench_replay --keep")
    args = parser.parse_args()
    store = args.reuse
    if store is None:
        store = work_dir("replay-fork-") / "events.db"
        build(store, args.events)
    print(f"journey replay of {store}, {args.pairs} interleaved pairs")
    interleaved(("fork", "spawn"), lambda mode, _: _replay(mode, store), args.pairs, alternate=True)
    if args.pieces:
        _pieces()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CHILD:
        _child(sys.argv[2])
    else:
        main()
