"""Rebuilding the read models of a PostgreSQL store: `journey project --rebuild --once` with
`--workers 2` (worker processes into a scratch SQLite file, then one COPY transaction) next
to `--workers 1` (the log follower, today's path), each timed as a whole CLI run (process
start included), and the two results compared table by table.

The target (issue 14) is 10M events in under 8 minutes (20,833 events/s): the rate and the
10M time it extrapolates to are printed. `--keep` keeps the store (its URL is printed) and
`--reuse URL` rebuilds an existing store again (without storing anything into it first).

Run (PostgreSQL at JOURNEY_TEST_POSTGRES_URL, e.g. from `make services-up`):
    .venv/bin/python -m benchmarks.bench_rebuild [--events 200000] [--workers 2] [--no-baseline]
        [--keep | --reuse URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder

from benchmarks.common import cohort_lines, timed
from config.settings import Settings
from devtools import provision
from projections.read_models.checksum import TableSum
from services.bootstrap import build_application
from services.importing import import_lines
from services.replay import store_sums

TEN_MILLION = 10_000_000
TARGET = TEN_MILLION / 480  # events/s for 10M in 8 minutes


def store(url: str, events: int) -> int:
    """Stores the first `events` commands of the demo cohort; returns the log's length."""
    app = build_application(Settings(database_url=url))
    try:
        lines = cohort_lines(events)
        report, seconds = timed(
            lambda: import_lines(app, lines, continue_on_error=True, batch_size=5_000)
        )
        stored = app.recorder.max_notification_id() or 0
    finally:
        app.close()
    print(f"stored {stored} events ({report.summary()}) in {seconds:.0f} s")
    return stored


def rebuild(url: str, workers: int) -> float:
    """Runs `journey project --rebuild --once --workers N`; returns wall seconds."""
    env = {**os.environ, "JOURNEY_DATABASE_URL": url}
    env.pop("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", None)
    command = [sys.executable, "-m", "interfaces", "project", "--rebuild", "--once"]
    done, seconds = timed(
        lambda: subprocess.run(
            [*command, "--workers", str(workers)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    phases = [
        line for line in done.stderr.splitlines() if not line.startswith("  ") and "ETA" not in line
    ]
    print("\n".join(f"    {line}" for line in phases))
    return seconds


def stored_events(url: str) -> int:
    app = build_application(Settings(database_url=url))
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def raw_read(url: str) -> float:
    """The limit: events/s of psycopg fetching every stored event's state (binary, in
    pages of 20,000) and json.loads of each, in one process (the store has no master key:
    nothing to decrypt)."""
    app = build_application(Settings(database_url=url))
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        table = recorder.events_table_name
    finally:
        app.close()
    count, start = 0, 0
    with psycopg.connect(url) as connection, connection.cursor(binary=True) as cursor:
        began = time.perf_counter()
        while True:
            cursor.execute(
                f"SELECT notification_id, state FROM {table} WHERE notification_id > %s"
                " ORDER BY notification_id LIMIT 20000",
                (start,),
            )
            rows = cursor.fetchall()
            if not rows:
                break
            for _, state in rows:
                json.loads(bytes(state))
            count, start = count + len(rows), rows[-1][0]
        return count / (time.perf_counter() - began)


def run(url: str, args: argparse.Namespace, *, reuse: bool = False) -> None:
    events = stored_events(url) if reuse else store(url, args.events)
    raw = raw_read(url)
    rates: dict[int, float] = {}
    results: dict[int, dict[str, TableSum]] = {}
    for workers in (args.workers, *(() if args.no_baseline else (1,))):
        print(f"--rebuild --workers {workers}:")
        rates[workers] = events / rebuild(url, workers)
        results[workers] = store_sums(url)
    for workers, rate in rates.items():
        label = f"journey project --rebuild --workers {workers}"
        print(
            f"{label:<44}{rate:>10,.0f} events/s  ({events} events, PostgreSQL);"
            f" 10M events: {TEN_MILLION / rate / 60:.1f} min (target < 8 min: {TARGET:,.0f}/s)"
        )
        print(f"{'  share of the raw read below':<44}{rate / raw:>10.1%}")
    print(f"{'raw psycopg fetch + json.loads (1 process)':<44}{raw:>10,.0f} events/s")
    if len(results) == 2:
        same = results[args.workers] == results[1]
        print(f"read models and position identical on both paths: {same}")
    print(f"({os.cpu_count()} CPUs here)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-baseline", action="store_true", help="skip --workers 1")
    parser.add_argument("--keep", action="store_true", help="keep the store; print its URL")
    parser.add_argument("--reuse", metavar="URL", help="rebuild this store (stores nothing)")
    args = parser.parse_args()
    if args.reuse:
        run(args.reuse, args, reuse=True)
        return
    with provision.postgres_server() as server:
        url = provision.create_database(server, prefix="bench_rebuild")
        try:
            run(url, args)
        finally:
            if args.keep:
                print(f"kept the store: --reuse {url}")
            else:
                provision.drop_database(url)


if __name__ == "__main__":
    main()
