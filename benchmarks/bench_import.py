"""`journey import` throughput on SQLite next to the raw SQLite insert rate of the same rows.

Each import is the real command line (`python -m interfaces import FILE`) in a subprocess,
timed end to end: process start, reading, parsing, every rule, hash chains, anchors, commit.
The limit is plain batched `executemany` inserts of the very rows the import stored,
measured in the same run, so a busy machine moves both figures; the ratio is what counts.
Beside it: the CPU each command took (user + sys of the import and its worker processes),
and the CPU per command the target allows on this machine's cores (25% of the raw rate,
every core busy), which a load on the machine moves less than the wall time.

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.bench_import [--commands 100000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from pathlib import Path

from benchmarks.common import (
    children_cpu,
    cohort_lines,
    run_cli,
    timed,
    work_dir,
    write_lines,
)

TARGET = 0.25  # of the raw rate (issue 14)

SCHEMA = (
    "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT,"
    " state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
MODES: dict[str, tuple[str, list[str]]] = {  # name: label, flags
    "default": ("journey import (default)", []),
    "plain": ("journey import --plain", ["--plain"]),
    "continue": ("journey import --continue-on-error", ["--continue-on-error"]),
}


def raw_insert_rate(rows: list[tuple[str, int, str, bytes]], db: Path, batch: int) -> float:
    """Rows per second for plain executemany inserts of the same rows, one commit a batch."""
    connection = sqlite3.connect(db, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(SCHEMA)

    def insert() -> None:
        for start in range(0, len(rows), batch):
            connection.execute("BEGIN")
            connection.executemany(
                "INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows[start : start + batch]
            )
            connection.execute("COMMIT")

    _, seconds = timed(insert)
    connection.close()
    return len(rows) / seconds


def stored_rows(db: Path) -> list[tuple[str, int, str, bytes]]:
    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
    ).fetchall()
    connection.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=100_000)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: %(default)s")
    args = parser.parse_args()
    work = work_dir("bench-import-")
    source = write_lines(work / "commands.jsonl", cohort_lines(args.commands))
    print(f"{args.commands} commands from the demo cohort generator -> {source}")
    modes = [MODES[name] for name in args.modes.split(",")]
    results, rows = [], None
    for number, (label, flags) in enumerate(modes):
        db = work / f"import-{number}.db"
        before = children_cpu()
        seconds = run_cli(["import", str(source), *flags], f"sqlite:///{db}")
        cpu = children_cpu() - before
        rows = rows or stored_rows(db)
        # the limit right after each import, so a load that drifts moves both figures
        raw = raw_insert_rate(rows, work / f"raw-{number}.db", batch=2_000)
        results.append((label, seconds, args.commands / seconds, raw, cpu))
    print(f"stored events: {len(rows or [])} (one per accepted command)")
    start = _start_cpu(work)
    cores = os.cpu_count() or 1
    head = f"{'mode':<34}{'seconds':>8}{'commands/s':>11}{'raw rows/s':>11}{'share':>7}"
    print(f"{head}{'cpu us/cmd':>11}{'budget':>8}")
    for label, seconds, rate, raw, cpu in results:
        budget = cores / (TARGET * raw) * 1e6
        line = f"{label:<34}{seconds:>8.2f}{rate:>11,.0f}{raw:>11,.0f}{rate / raw:>7.1%}"
        print(f"{line}{cpu / args.commands * 1e6:>11.1f}{budget:>8.1f}")
    print("raw: plain executemany of the same stored rows, 2,000 a transaction, measured")
    print("right after each import")
    print("(each journey import is timed end to end: process start, parse, rules, store)")
    print("cpu: user + sys of the import and its workers; budget: the CPU per command that")
    print(f"{TARGET:.0%} of the raw rate allows on {cores} cores, every core busy")
    print(f"process start (journey import of an empty file, fresh store): {start:.2f} s of CPU")
    share = start / args.commands * 1e6
    print(f"= {share:.1f} us of each command's CPU at {args.commands} commands")


def _start_cpu(work: Path) -> float:
    """CPU of `journey import` of an empty file on a fresh store: the part of every import
    that does not depend on its size (interpreter, modules, store creation)."""
    empty = write_lines(work / "empty.jsonl", [])
    before = children_cpu()
    run_cli(["import", str(empty)], f"sqlite:///{work / 'start.db'}")
    return children_cpu() - before


if __name__ == "__main__":
    main()
