"""Replay throughput: rebuilding the read models from the event log alone, next to a raw
read-and-decode of the same stored events, in the same run (SQLite). Target: replay at 40%
or more of the raw rate.

Run: .venv/bin/python -m benchmarks.bench_replay [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from benchmarks.common import cohort_lines, timed
from consumers.replay import rebuild_into
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from journey.settings import Settings
from services.bootstrap import build_application
from services.importing import import_lines
from services.replay_parallel import rebuild_parallel


def read_and_decode(app: JourneyApplication, stop: int) -> int:
    """What any reader must do: page through the log, decode, make envelopes."""
    start, count = 1, 0
    while page := app.recorder.select_notifications(start=start, limit=5_000, stop=stop):
        for notification in page:
            to_envelope(app.mapper.to_domain_event(notification))  # type: ignore[arg-type]
        count += len(page)
        start = page[-1].id + 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    app = build_application(Settings(database_url=f"sqlite:///{work}/events.db"))
    report, seconds = timed(
        lambda: import_lines(
            app, cohort_lines(args.events), continue_on_error=True, batch_size=5_000
        )
    )
    stop = app.recorder.max_notification_id() or 0
    print(f"stored {stop} events ({report.summary()}) in {seconds:.0f} s")
    raw_count, raw_seconds = timed(lambda: read_and_decode(app, stop))
    scratch = connect(f"sqlite:///{work}/replay.db")
    replayed, replay_seconds = timed(lambda: rebuild_into(app, scratch, stop))
    url = f"sqlite:///{work}/events.db"
    workers = min(4, os.cpu_count() or 1)
    spread, spread_seconds = timed(lambda: rebuild_parallel(url, stop, work / "par.db", workers))
    assert spread == replayed == raw_count
    raw = raw_count / raw_seconds
    print(f"{'raw read and decode (1 process)':<44}{raw:>10,.0f} events/s")
    for label, seconds in (
        ("replay, 1 process", replay_seconds),
        (f"replay, {workers} worker processes (journey replay)", spread_seconds),
    ):
        rate = replayed / seconds
        print(f"{label:<44}{rate:>10,.0f} events/s  {rate / raw:>4.0%} of raw")
    print(f"(target: replay >= 40% of the raw rate; {os.cpu_count()} CPUs here)")


if __name__ == "__main__":
    main()
