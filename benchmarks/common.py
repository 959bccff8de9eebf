"""Helpers shared by the benchmarks: work directories, fresh stores, cohort files, timing."""

from __future__ import annotations

import atexit
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from itertools import islice
from pathlib import Path
from typing import TypeVar

from devtools import provision
from devtools.demo.cohort import generate_cohort

T = TypeVar("T")
UNTIL = date(2026, 11, 1)  # fixed, so every run measures the same cohort
KEEP_WORK = "JOURNEY_BENCH_KEEP_WORK"


def work_dir(prefix: str) -> Path:
    """A fresh directory for one run's stores and files, removed when the benchmark exits
    (left behind, they filled /tmp: about 29 GB over a few sessions); with
    JOURNEY_BENCH_KEEP_WORK=1 it is kept, to look at a run afterwards. (bench_replay keeps
    its own: `--keep` leaves the store for `--reuse`.)"""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.environ.get(KEEP_WORK) == "1":
        print(f"work dir {path}: kept ({KEEP_WORK}=1)")
    else:
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def cohort_lines(commands: int, *, seed: int = 7, patients: int | None = None) -> list[str]:
    """The first `commands` commands of the deterministic demo cohort, as JSON Lines."""
    stream: Iterator[dict[str, object]] = generate_cohort(
        patients or max(1, commands // 40), seed=seed, until=UNTIL, id_prefix="bench"
    )
    return [json.dumps(c) for c in islice(stream, commands)]


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def children_cpu() -> float:
    """User + system CPU seconds of this process's waited-for children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    return result, time.perf_counter() - start


def run_cli(args: list[str], database_url: str) -> float:
    """Runs `journey ARGS` in a subprocess on the given store; returns wall seconds."""
    env = {**os.environ, "JOURNEY_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "interfaces", *args]
    _, seconds = timed(lambda: subprocess.run(command, env=env, check=True, capture_output=True))
    return seconds


@contextmanager
def fresh_postgres(prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A new database on the tests' PostgreSQL server (devtools/provision.py), dropped afterwards
    unless `keep`: then its URL is printed, for another benchmark to reuse."""
    with provision.postgres_server() as server:
        url = provision.create_database(server, prefix=prefix)
        try:
            yield url
        finally:
            if keep:
                print(f"kept: JOURNEY_DATABASE_URL={url}")
            else:
                provision.drop_database(url)


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


Run = Callable[[str, int], tuple[float, float]]  # (mode, pair) -> wall s, CPU s


def interleaved(modes: tuple[str, str], run: Run, pairs: int, *, alternate: bool = False) -> None:
    """Pairs of runs of two modes, one after the other (`alternate`: the order swapped
    every other pair), so that a machine whose speed drifts moves both; prints each pair's
    wall and CPU seconds as it comes, the means, and what the first mode saves."""
    first, second = modes
    found: dict[str, list[tuple[float, float]]] = {first: [], second: []}
    print(f"{'pair':<6}{first + ' s':>11}{'cpu':>7}{second + ' s':>11}{'cpu':>7}")
    for pair in range(1, pairs + 1):
        order = modes[::-1] if alternate and pair % 2 == 0 else modes
        for mode in order:
            found[mode].append(run(mode, pair))
        (fw, fc), (sw, sc) = found[first][-1], found[second][-1]
        print(f"{pair:<6}{fw:>11.2f}{fc:>7.2f}{sw:>11.2f}{sc:>7.2f}")
    means = [[sum(v) / len(v) for v in zip(*runs, strict=True)] for runs in found.values()]
    (fw, fc), (sw, sc) = means
    print(f"{'mean':<6}{fw:>11.3f}{fc:>7.2f}{sw:>11.3f}{sc:>7.2f}")
    print(f"{first}: {1 - fw / sw:.1%} less wall time, {1 - fc / sc:.1%} less CPU than {second}")
