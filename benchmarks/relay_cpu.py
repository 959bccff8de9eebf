"""Where the relay's CPU goes in a catch-up, per event: the relay's process (sending, its
producer's thread), its preparing worker (reading, records, summaries, the pipe) and the
local broker. The figures behind docs/benchmarks.md's seventh pass: the relay/raw ratio is
bound by the busier of the relay's two processes, on 2 cores shared with the broker.

The benchmark's cohort (`bench_relay --commands N`, patients interleaved) is stored, then
published `--runs` times to fresh topics by a relay run as `bench_relay` runs it
(`bench_relay.relay_rate`). The relay's process time is this process's; the worker's is
its children's (it is joined when the relay closes); the broker's is read from /proc (the
JVM whose command line runs `kafka.Kafka`; "-" when there is none on this machine).

Run (a broker at JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS, e.g. from `make services-up`):
    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.relay_cpu [--commands 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from benchmarks.bench_relay import delete_fresh_topics, relay_rate, stored_cohort
from benchmarks.common import children_cpu, process_cpu, work_dir
from config.settings import Settings


def broker_cpu() -> float | None:
    """User + system seconds of the local broker's JVM, if one runs here."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return process_cpu(int(pid))
        except OSError:  # gone meanwhile, or not ours to read
            continue
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bootstrap = os.environ["JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS"]
    settings = Settings(database_url=f"sqlite:///{work_dir('relay-cpu-')}/t.db")
    app, events = stored_cohort(settings, args.commands)
    print(
        f"{events} events stored; CPU per event (µs), a relay catching up, batch {args.batch_size}"
    )
    print(f"{'run':<5}{'events/s':>10}{'wall':>8}{'relay':>8}{'worker':>8}{'broker':>8}")
    try:
        for run in range(1, args.runs + 1):
            broker, relay, worker = broker_cpu(), time.process_time(), children_cpu()
            rate, _ = relay_rate(app, settings, bootstrap, args.batch_size)
            relay, worker = time.process_time() - relay, children_cpu() - worker
            after = broker_cpu()
            used = (
                "-" if broker is None or after is None else f"{(after - broker) / events * 1e6:.1f}"
            )
            print(
                f"{run:<5}{rate:>10,.0f}{1e6 / rate:>8.1f}{relay / events * 1e6:>8.1f}"
                f"{worker / events * 1e6:>8.1f}{used:>8}"
            )
    finally:
        delete_fresh_topics(bootstrap)
        app.close()


if __name__ == "__main__":
    main()
