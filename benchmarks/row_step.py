"""What the compiled row step (`services/bulk/_rowstep.c`) gives `journey import`: the whole
import of the same commands, with the step and with the Python writing alone
(`session_lines.compiled_step` set to None in the child, as on a machine without a C
compiler), in interleaved pairs on fresh SQLite stores, so that a machine whose speed
drifts moves both. Prints each pair's wall time and CPU (user + sys of the import and its
workers) and the means: the figures behind the README's "5% of the wall time, 6% of its
CPU" (docs/benchmarks.md, eighth pass).

With `--pieces`, also the C calls of one `record_session` line's step, each timed alone
(`timeit`, least of 5): what that step would cost if nothing else did.

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.row_step [--commands 100000] [--pairs 8]
[--pieces]
"""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
import time
import timeit
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path

import orjson

from benchmarks.common import children_cpu, cohort_lines, interleaved, work_dir, write_lines
from services.bulk import session_lines

CHILD = "--child"


def _child(mode: str, path: str) -> None:
    """`journey import path` in this process, the compiled step off for mode "python"."""
    if mode == "python":
        session_lines.compiled_step = None
    sys.argv = ["interfaces", "import", path]
    runpy.run_module("interfaces", run_name="__main__")


def _import(mode: str, path: Path, store: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds of one import in a subprocess."""
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}"}
    command = [sys.executable, "-m", "benchmarks.row_step", CHILD, mode, str(path)]
    before, started = children_cpu(), time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    return time.perf_counter() - started, children_cpu() - before


def _pieces(line: str) -> None:
    """The C calls of one line's step, each timed alone, in µs."""
    values = orjson.loads(line)
    at = datetime.fromisoformat(values["occurred_at"])
    now = datetime.now(UTC)
    head = sha256(b"").hexdigest()
    fields = {**values, "occurred_at": at.astimezone(UTC), "timestamp": now}
    content = orjson.dumps({"fields": fields, "patient_id": values["patient_id"]})
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": now}, **values}
    cases = {
        "orjson.loads(line)": lambda: orjson.loads(line),
        "datetime.fromisoformat": lambda: datetime.fromisoformat(values["occurred_at"]),
        "at.astimezone(UTC)": lambda: at.astimezone(UTC),
        "datetime.now(UTC)": lambda: datetime.now(UTC),
        "orjson.dumps(chain content)": lambda: orjson.dumps({"fields": fields}),
        "sha256 chain hash": lambda: sha256(head.encode() + b"\n" + content).hexdigest(),
        "orjson.dumps(stored state)": lambda: orjson.dumps(state),
        "repr(at.timestamp()) (fingerprint)": lambda: repr(at.timestamp()),
    }
    total = 0.0
    print("one record_session line's C calls, each alone (least of 5 x 100,000), µs:")
    for name, call in cases.items():
        micro = min(timeit.repeat(call, number=100_000, repeat=5)) * 10
        total += micro
        print(f"  {name:<36}{micro:6.2f}")
    print(f"  {'sum':<36}{total:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--pieces", action="store_true")
    args = parser.parse_args()
    if session_lines.compiled_step is None:  # nothing to compare (make bench goes on)
        print("row_step: the compiled step is not built here (no C compiler or OpenSSL headers)")
        return
    work = work_dir("row-step-")
    lines = cohort_lines(args.commands)
    path = write_lines(work / "commands.jsonl", lines)
    print(f"journey import of {args.commands} commands, {args.pairs} interleaved pairs")
    interleaved(
        ("compiled", "python"),
        lambda mode, pair: _import(mode, path, work / f"{mode}-{pair}.db"),
        args.pairs,
    )
    if args.pieces:
        _pieces(next(line for line in lines if '"record_session"' in line))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == CHILD:
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
