"""Analytics over the read models on PostgreSQL at scale: building the data set, query
times, and whether the read models keep up with live traffic.

Run (PostgreSQL at JOURNEY_TEST_POSTGRES_URL, e.g. from `make services-up`):
    .venv/bin/python -m benchmarks.bench_analytics                  # 100,000 patients
    .venv/bin/python -m benchmarks.bench_analytics --patients 5000 --live-seconds 20
    .venv/bin/python -m benchmarks.bench_analytics --keep           # leave the database
    .venv/bin/python -m benchmarks.bench_analytics --reuse URL      # skip step 1
    .venv/bin/python -m benchmarks.bench_analytics --reuse URL --live-seconds 0  # queries only

1. Build: the deterministic demo cohort (`--patients`, stays stretched by `--stay-scale`
   so that 100,000 patients give over 10,000,000 events) is stored with the bulk import
   path (`bulk_load_cohort`, every domain rule applied, events and anchors by COPY), then
   the read models are rebuilt from the log (`journey project --rebuild --workers 2`).
2. Queries: each analytics query, median of `--runs` runs, at T = the cohort's end and at
   a mid-history T.
3. Live: a writer process stores a second cohort's commands at `--rate` commands/s for
   `--live-seconds` (`benchmarks/live_writer.py`) while the log follower applies them in
   this process; prints both rates, the follower's lag (events stored, not yet applied)
   sampled every second, and how long it took to catch up once the writer stopped.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from benchmarks.common import UNTIL, timed
from benchmarks.live_writer import paced_write
from config.settings import Settings
from consumers.read_model_service import ReadModelService
from devtools import provision
from devtools.demo.bulk import bulk_load_cohort
from devtools.demo.cohort import CohortProfile
from infrastructure.sql import Unit, connect
from projections.analytics.attendance import attendance
from projections.analytics.care_standards import care_standards, overdue_counts
from projections.analytics.census import census_at, census_daily
from projections.analytics.intensity import intensity
from projections.analytics.length_of_stay import length_of_stay
from projections.analytics.retention import retention
from projections.analytics.transitions import transitions
from projections.read_models.positions import stored_position
from projections.read_models.schema import create_tables
from services.bootstrap import build_application
from services.replay_parallel import rebuild_store
from services.runtime import Runtime

MONTH, YEAR, TWO_DAYS = timedelta(days=32), timedelta(days=367), timedelta(days=2)


def build(url: str, args: argparse.Namespace) -> None:
    """Step 1: the cohort by the bulk import path, then the read models from the log."""
    settings = Settings(database_url=url)
    profile = CohortProfile(stay_scale=args.stay_scale)
    report, seconds = timed(
        lambda: bulk_load_cohort(args.patients, until=UNTIL, id_prefix="bench",
                                 profile=profile, settings=settings, workers=args.workers)
    )  # fmt: skip
    assert not report.rejected, report.rejected[:3]
    rate = report.accepted / seconds
    print(f"cohort: {args.patients} patients, {report.accepted} events stored by the bulk "
          f"import in {seconds:.0f}s ({rate:,.0f} events/s)", flush=True)  # fmt: skip
    rebuild_read_models(url, args.workers)


def rebuild_read_models(url: str, workers: int) -> None:
    with Runtime(Settings(database_url=url)) as runtime:
        db, settings = runtime.database, runtime.settings
        read, seconds = timed(lambda: rebuild_store(db, settings, workers))
    print(f"read models rebuilt from the log: {read} events in {seconds:.0f}s "
          f"({read / seconds:,.0f} events/s)", flush=True)  # fmt: skip


Query = Callable[[Unit], Any]


def queries(t: datetime) -> dict[str, tuple[Query, str, tuple[Any, ...]]]:
    """Each query with its physical limit: a `SELECT count(*)` of the rows it reads."""
    day = t.date()
    month, cut = date(day.year, day.month, 1), day - TWO_DAYS
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return {
        "census --at": (lambda u: census_at(u, t),
            "SELECT count(*) FROM rm_stay_days WHERE day < ?", (day,)),
        "census --from/--to (31 days)": (
            lambda u: census_daily(u, t, day - MONTH, day - TWO_DAYS),
            "SELECT count(*) FROM rm_census_deltas WHERE local_date <= ?", (day - TWO_DAYS,)),
        "census --from/--to (a year)": (
            lambda u: census_daily(u, t, day - YEAR, day - TWO_DAYS),
            "SELECT count(*) FROM rm_census_deltas WHERE local_date <= ?", (day - TWO_DAYS,)),
        "los --at": (lambda u: length_of_stay(u, t),
            "SELECT (SELECT count(*) FROM rm_stay_lengths WHERE month < ?)"
            " + (SELECT count(*) FROM rm_episode_lengths WHERE month < ?)", (month, month)),
        "transitions (a quarter)": (
            lambda u: transitions(u, t, day - timedelta(days=92), day),
            "SELECT count(*) FROM rm_transition_days WHERE local_date >= ? AND local_date <= ?",
            (day - timedelta(days=92), cut)),
        "retention --at": (lambda u: retention(u, t),
            "SELECT count(*) FROM rm_chains WHERE started_at <= ?", (t - timedelta(days=90),)),
        "intensity --at": (lambda u: intensity(u, t),
            "SELECT (SELECT count(*) FROM rm_week_counts) + (SELECT count(*) FROM rm_week_spans)"
            " + (SELECT count(*) FROM rm_attendance_days)", ()),
        "  of which attendance": (lambda u: attendance(u, t),
            "SELECT count(*) FROM rm_attendance_days WHERE day < ?", (day,)),
        "care-standards --at": (lambda u: care_standards(u, t),
            "SELECT (SELECT count(*) FROM rm_care_week_counts)"
            " + (SELECT count(*) FROM rm_care_spans) + (SELECT count(*) FROM rm_overdue_days"
            " WHERE day < ?) + (SELECT count(*) FROM rm_overdue_spans WHERE starts_at >= ?"
            " AND starts_at <= ?) + (SELECT count(*) FROM rm_overdue_spans WHERE ends_at >= ?"
            " AND ends_at <= ?) + (SELECT count(*) FROM rm_referrals WHERE referred_at <= ?)",
            (day, midnight, t, midnight, t, t)),
        "  of which overdue": (lambda u: overdue_counts(u, t),
            "SELECT (SELECT count(*) FROM rm_overdue_days WHERE day < ?)"
            " + (SELECT count(*) FROM rm_overdue_spans WHERE starts_at >= ? AND starts_at <= ?)"
            " + (SELECT count(*) FROM rm_overdue_spans WHERE ends_at >= ? AND ends_at <= ?)",
            (day, midnight, t, midnight, t)),
    }  # fmt: skip


def time_queries(url: str, t: datetime, runs: int) -> None:
    """Each query's median and max next to its limit's median, measured in the same run."""
    print(f"\nqueries at T = {t.isoformat()} (median of {runs} runs; limit = a count(*) of"
          " the rows the query reads)")  # fmt: skip
    with Runtime(Settings(database_url=url)) as runtime:
        for name, (query, limit, params) in queries(t).items():
            samples, floors = [], []
            for _ in range(runs):
                with runtime.database.transaction() as unit:
                    samples.append(timed(lambda q=query, u=unit: q(u))[1])  # type: ignore[misc]
                    floors.append(timed(lambda u=unit, s=limit, p=params: u.one(s, p))[1])  # type: ignore[misc]
            median, worst = statistics.median(samples) * 1000, max(samples) * 1000
            floor = statistics.median(floors) * 1000
            print(f"  {name:30s} {median:9.1f} ms   (max {worst:6.1f})   limit {floor:6.1f} ms"
                  f"   x{median / floor:5.1f}")  # fmt: skip


def live(url: str, rate: float, seconds: float) -> None:
    """The paced writer in its own process vs the read-model service's poller in this one."""
    app = build_application(Settings(database_url=url))
    follower = ReadModelService(app, url)
    follower.prepare()
    follower.step()  # tables and position in place before the clock starts
    before = follower.position()
    context = multiprocessing.get_context("spawn")
    results: Any = context.Queue()
    writer = context.Process(target=paced_write, args=(url, rate, seconds, results))
    lags: list[int] = []
    started = last_sample = time.perf_counter()
    writer.start()
    while writer.is_alive():
        if not follower.step():
            time.sleep(0.05)
        if time.perf_counter() - last_sample >= 1.0:
            last_sample = time.perf_counter()
            lags.append((app.recorder.max_notification_id() or 0) - follower.position())
    sent, wrote = results.get(timeout=10)
    writer.join()
    stopped = time.perf_counter()
    head = app.recorder.max_notification_id() or 0
    while follower.position() < head:
        follower.step()
    caught_up = time.perf_counter() - stopped
    applied = follower.position() - before
    print(f"\nlive: the writer stored {sent} commands in {wrote:.1f}s ({sent / wrote:,.0f}/s, "
          f"target {rate:,.0f}/s); the follower applied {applied} events in "
          f"{time.perf_counter() - started:.1f}s")  # fmt: skip
    if lags:
        print(f"  lag sampled every second: median {statistics.median(lags):,.0f} events, "
              f"max {max(lags):,} ({len(lags)} samples); caught up {caught_up:.2f}s after "
              "the writer stopped")  # fmt: skip
    follower.close()
    app.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--stay-scale", type=float, default=1.08)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=float, default=1_000)
    parser.add_argument("--live-seconds", type=float, default=60)
    parser.add_argument("--reuse", metavar="URL", help="a database built by an earlier --keep")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    args = parser.parse_args()
    if args.reuse:  # a database from `--keep` here, or from bench_bulk_import --keep
        if _position(args.reuse) < _log_head(args.reuse):
            rebuild_read_models(args.reuse, args.workers)
        run(args.reuse, args)
        return
    with provision.postgres_server() as server:
        url = provision.create_database(server, prefix="bench_analytics")
        try:
            build(url, args)
            run(url, args)
        finally:
            if args.keep:
                print(f"\nkept: {url}")
            else:
                provision.drop_database(url)


def _position(url: str) -> int:
    with Runtime(Settings(database_url=url)) as runtime, runtime.database.transaction() as unit:
        create_tables(unit)
        position = stored_position(unit)
    return position or 0


def _log_head(url: str) -> int:
    with Runtime(Settings(database_url=url)) as runtime:
        return runtime.application.recorder.max_notification_id() or 0


def run(url: str, args: argparse.Namespace) -> None:
    db = connect(url)
    with db.transaction() as unit:
        row = unit.one("SELECT COUNT(*) FROM rm_patients")
        position = stored_position(unit) or 0
    db.close()
    assert row is not None
    print(f"read models: {row[0]:,} patients, log position {position:,}")
    end = datetime.combine(UNTIL, datetime.min.time(), tzinfo=UTC)
    time_queries(url, end, args.runs)
    middle = datetime.combine(date(2025, 12, 15), datetime.min.time(), tzinfo=UTC)
    time_queries(url, middle, args.runs)
    if args.live_seconds > 0:  # `--live-seconds 0`: the queries only
        live(url, args.rate, args.live_seconds)


if __name__ == "__main__":
    main()
