"""Replay throughput: rebuilding the read models from the event log alone, next to a raw
read-and-decode of the same stored events, in the same run (SQLite). Target: replay at 40%
or more of the raw rate. Each rate is printed from the wall clock and from the CPU time spent
(this process and its worker processes): on a shared machine the CPU figures are the stable
ones (the wall-clock rate of N workers is at most N times the CPU rate, on N idle cores).

Run: .venv/bin/python -m benchmarks.bench_replay [--events 1000000]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from benchmarks.common import cohort_lines, timed
from config.settings import Settings
from consumers.replay import rebuild_into
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from services.importing import import_lines
from services.replay_parallel import rebuild_parallel
from services.runtime import Runtime

T = TypeVar("T")


def read_and_decode(app: JourneyApplication, stop: int) -> int:
    """What any reader must do: page through the log, decode, make envelopes."""
    start, count = 1, 0
    while page := app.recorder.select_notifications(start=start, limit=5_000, stop=stop):
        for notification in page:
            to_envelope(app.mapper.to_domain_event(notification))  # type: ignore[arg-type]
        count += len(page)
        start = page[-1].id + 1
    return count


def cpu_seconds() -> float:
    """CPU time of this process and of its worker processes that have ended."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measured(action: Callable[[], T]) -> tuple[T, float, float]:
    """The result, wall seconds and CPU seconds of `action`."""
    began = cpu_seconds()
    result, seconds = timed(action)
    return result, seconds, cpu_seconds() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-replay-"))
    with Runtime(Settings(database_url=f"sqlite:///{work}/events.db")) as runtime:
        run(runtime, work, args.events)


def run(runtime: Runtime, work: Path, events: int) -> None:
    app = runtime.application
    report, seconds = timed(
        lambda: import_lines(app, cohort_lines(events), continue_on_error=True, batch_size=5_000)
    )
    stop = app.recorder.max_notification_id() or 0
    print(f"stored {stop} events ({report.summary()}) in {seconds:.0f} s")
    raw_count, raw_seconds, raw_cpu = measured(lambda: read_and_decode(app, stop))
    scratch = runtime.scratch(work / "replay.db")
    replayed, replay_seconds, replay_cpu = measured(lambda: rebuild_into(app, scratch, stop))
    url = runtime.settings.database_url
    workers = min(4, os.cpu_count() or 1)
    spread, spread_seconds, spread_cpu = measured(
        lambda: rebuild_parallel(url, stop, work / "par.db", workers)
    )
    assert spread == replayed == raw_count
    raw, raw_per_cpu = raw_count / raw_seconds, raw_count / raw_cpu
    print(f"{'events/s (share of raw)':<44}{'wall clock':>18}{'CPU time':>18}")
    print(f"{'raw read and decode (1 process)':<44}{raw:>18,.0f}{raw_per_cpu:>18,.0f}")
    for label, seconds, cpu in (
        ("replay, 1 process", replay_seconds, replay_cpu),
        (f"replay, {workers} worker processes (journey replay)", spread_seconds, spread_cpu),
    ):
        rate, per_cpu = replayed / seconds, replayed / cpu
        print(
            f"{label:<44}{rate:>11,.0f} ({rate / raw:.0%})"
            f"{per_cpu:>11,.0f} ({per_cpu / raw_per_cpu:.0%})"
        )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"(target: replay >= 40% of the raw rate; {os.cpu_count()} CPUs here, load {load})")


if __name__ == "__main__":
    main()
