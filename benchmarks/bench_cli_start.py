"""Start of the `journey` process, two builds side by side: `journey --help` and
`journey import` of an empty and of a small file (fresh SQLite store), each run as an
operator runs it (`python -m interfaces` in a subprocess), the builds alternating (old,
new, then new, old), wall and CPU (user + sys of the process and its forked workers),
next to the bare interpreter's start measured in the same run. Also the modules each
build imports. Both builds run with their bytecode cached (a first, untimed run writes it).

    PYTHONPATH=$PWD python -m benchmarks.bench_cli_start --old /work/main --pairs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import children_cpu, cohort_lines, work_dir, write_lines

Sample = tuple[float, float]  # wall seconds, CPU seconds
JOURNEY = ["-m", "interfaces"]


def environment(build: Path, work: Path, db: Path) -> dict[str, str]:
    """The code of `build`, with bytecode cached for it under `work` (written by a first,
    untimed run, whatever PYTHONDONTWRITEBYTECODE says): no build is timed compiling its
    sources while the other reads stale or missing .pyc files."""
    db.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(build), COLUMNS="100", JOURNEY_DATABASE_URL=f"sqlite:///{db}")
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache" / build.as_posix().strip("/"))
    return env


def run(build: Path, python_args: list[str], work: Path, db: Path) -> Sample:
    """`python ARGS` with the code of `build` on the store `db` (made afresh); wall and
    CPU seconds."""
    env = environment(build, work, db)
    before, started = children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, *python_args], env=env, cwd=build, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started, children_cpu() - before


def modules(build: Path, args: list[str], work: Path) -> int:
    """How many modules `journey ARGS` imports (Python's own report)."""
    env = {**environment(build, work, work / "count.db"), "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(
        [sys.executable, *JOURNEY, *args],
        env=env, cwd=build, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return sum(1 for line in done.stderr.splitlines() if line.startswith("import time:")) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--old", type=Path, default=Path("/work/main"))
    parser.add_argument("--new", type=Path, default=Path.cwd())
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--lines", type=int, default=1_000)
    args = parser.parse_args()
    work = work_dir("bench-cli-start-")
    source = write_lines(work / "commands.jsonl", cohort_lines(args.lines))
    empty = write_lines(work / "empty.jsonl", [])
    cases = {
        "journey --help": ["--help"],
        "journey import (empty file)": ["import", str(empty)],
        f"journey import ({args.lines} lines)": ["import", str(source)],
    }
    builds = {"old": args.old.resolve(), "new": args.new.resolve()}
    for name, build in builds.items():  # untimed: each build's bytecode written once
        for case_args in cases.values():
            run(build, [*JOURNEY, *case_args], work, work / f"{name}.db")
    samples: dict[tuple[str, str], list[Sample]] = {}
    floor: list[Sample] = []
    for pair in range(args.pairs):
        order = list(builds) if pair % 2 == 0 else list(reversed(builds))
        floor.append(run(builds["new"], ["-c", "pass"], work, work / "none.db"))
        for case, case_args in cases.items():
            for name in order:
                sample = run(builds[name], [*JOURNEY, *case_args], work, work / f"{name}.db")
                samples.setdefault((case, name), []).append(sample)
    print(f"old: {builds['old']}  new: {builds['new']}  pairs: {args.pairs} (alternating)")
    print(f"{'':34}{'wall s (median, min)':>24}{'cpu s (median, min)':>24}{'modules':>9}")
    for case, case_args in cases.items():
        for name, build in builds.items():
            walls, cpus = zip(*samples[case, name], strict=True)
            count = modules(build, case_args, work)
            line = f"{case + ' ' + name:34}{_pair(walls):>24}{_pair(cpus):>24}"
            print(f"{line}{count:>9}")
    walls, cpus = zip(*floor, strict=True)
    print(f"{'limit: python -c pass':34}{_pair(walls):>24}{_pair(cpus):>24}")
    print("cpu: user + sys of the process and the workers it forks (journey import --bulk);")
    print("each build's bytecode cached (PYTHONPYCACHEPREFIX) by an untimed first run")


def _pair(values: tuple[float, ...]) -> str:
    return f"{statistics.median(values):.3f}, {min(values):.3f}"


if __name__ == "__main__":
    main()
