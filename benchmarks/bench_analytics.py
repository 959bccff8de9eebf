"""Analytics over the read models on PostgreSQL: query times and read-model catch-up.

Run (PostgreSQL at JOURNEY_TEST_POSTGRES_URL, e.g. from `make services-up`):
    .venv/bin/python -m benchmarks.bench_analytics [--patients 5000] [--runs 5]

1. Load: the deterministic demo cohort (`--patients`) is stored with the fast path
   (`handle_many(..., atomic=False)` in batches) into a fresh database.
2. Rebuild: the read models are rebuilt from the log (`rebuild`): events/s.
3. Queries: each analytics query, median of `--runs` runs, at T = the cohort's end and at
   a mid-history T (the read models are not refreshed between runs).
4. Live: while a writer thread applies a second cohort's commands as fast as it can, the
   log follower runs in the main thread; reports the writer's and the follower's events/s
   and the follower's lag (events behind) when the writer stops.
The target of the issue is 100,000 patients / 10,000,000 events; print what was run.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.common import UNTIL, timed
from consumers.projector_log import LogFollower, follow_log, rebuild
from infrastructure.sql import Unit, connect
from interfaces.bootstrap import build_application
from interfaces.demo_cohort import generate_cohort
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.settings import Settings
from projections.analytics.attendance import attendance
from projections.analytics.census import census_at, census_daily
from projections.analytics.intensity import intensity
from projections.analytics.length_of_stay import length_of_stay
from projections.analytics.retention import retention
from projections.analytics.transitions import transitions
from tests import infra

BATCH = 1_000
MONTH, TWO_DAYS = timedelta(days=32), timedelta(days=2)


def load(app: JourneyApplication, patients: int, prefix: str, batch: int = BATCH) -> int:
    """Stores the cohort with the fast path; returns the number of commands."""
    commands = [
        parse_command(c) for c in generate_cohort(patients, seed=7, until=UNTIL, id_prefix=prefix)
    ]
    for start in range(0, len(commands), batch):
        results = app.handle_many(commands[start : start + batch], atomic=False)
        assert not any(isinstance(r, Exception) for r in results)
    return len(commands)


def queries(t: datetime) -> dict[str, Callable[[Unit], Any]]:
    day = t.date()
    return {
        "census --at": lambda u: census_at(u, t),
        "census --from/--to (31 days)": lambda u: census_daily(u, t, day - MONTH, day - TWO_DAYS),
        "los --at": lambda u: length_of_stay(u, t),
        "transitions (a quarter)": lambda u: transitions(u, t, day - timedelta(days=92), day),
        "retention --at": lambda u: retention(u, t),
        "intensity --at": lambda u: intensity(u, t),
        "  of which attendance": lambda u: attendance(u, t),
    }  # fmt: skip


def time_queries(url: str, t: datetime, runs: int) -> None:
    db = connect(url)
    print(f"\nqueries at T = {t.isoformat()} (median of {runs} runs)")
    for name, query in queries(t).items():
        samples = []
        for _ in range(runs):
            with db.transaction() as unit:
                samples.append(timed(lambda q=query, u=unit: q(u))[1])  # type: ignore[misc]
        median, worst = statistics.median(samples) * 1000, max(samples) * 1000
        print(f"  {name:30s} {median:9.1f} ms   (max {worst:.1f})")
    db.close()


def live(app: JourneyApplication, url: str, patients: int) -> None:
    """Writer thread (second cohort) vs log follower in this thread."""
    db = connect(url)
    follower = LogFollower(app, db)
    before, done = follower.position(), threading.Event()
    written: dict[str, float] = {}

    def writer() -> None:
        started = time.perf_counter()
        written["commands"] = load(app, patients, "live", batch=200)
        written["seconds"] = time.perf_counter() - started
        done.set()

    thread = threading.Thread(target=writer)
    started = time.perf_counter()
    thread.start()
    applied = 0
    while not done.is_set():
        applied += follower.step()
    lag = app.recorder.max_notification_id() - follower.position()  # behind when the writer stopped
    applied += follow_log(follower, once=True)
    seconds = time.perf_counter() - started
    thread.join()
    events = follower.position() - before
    print(f"\nlive: writer stored {events} events in {written['seconds']:.1f}s "
          f"({events / written['seconds']:.0f} events/s) while the follower applied them "
          f"({applied} read, {events / seconds:.0f} events/s overall); lag when the writer "
          f"stopped: {lag} events")  # fmt: skip
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--live-patients", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with infra.postgres_server() as server:
        url = infra.create_database(server, prefix="bench_analytics")
        try:
            run(url, args)
        finally:
            infra.drop_database(url)


def run(url: str, args: argparse.Namespace) -> None:
    app = build_application(Settings(database_url=url))
    try:
        commands, seconds = timed(lambda: load(app, args.patients, "bench"))
        events = app.recorder.max_notification_id()
        print(f"cohort: {args.patients} patients, {commands} commands, {events} events, "
              f"stored in {seconds:.1f}s ({events / seconds:.0f} events/s)")  # fmt: skip
        db = connect(url)
        read, seconds = timed(lambda: rebuild(LogFollower(app, db)))
        db.close()
        print(f"rebuild: {read} events in {seconds:.1f}s ({read / seconds:.0f} events/s)")
        end = datetime.combine(UNTIL, datetime.min.time(), tzinfo=UTC)
        time_queries(url, end, args.runs)
        time_queries(
            url, datetime.combine(date(2025, 12, 15), datetime.min.time(), tzinfo=UTC), args.runs
        )
        live(app, url, args.live_patients)
    finally:
        app.close()


if __name__ == "__main__":
    main()
