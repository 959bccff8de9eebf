"""Kafka relay: throughput next to a raw kafka-python producer, and end-to-end latency.

Run (a broker at JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS, e.g. from `make services-up`):
    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.bench_relay [--commands 20000]
        [--repeat 3] [--seconds 20] [--rate 1000]

1. Throughput: the demo cohort (patients interleaved, as live traffic is) is stored, then
   a relay built and run with `run(once=True)` publishes it as `journey relay` runs it
   (batches prepared one ahead in its worker process; events + one summary per patient
   per batch, flush and position per batch). A raw KafkaProducer with the same settings
   then sends the very same records (keys, headers, values) to fresh topics and flushes.
   Relay and raw runs alternate; the best of each is compared (goal: relay >= 80% of raw).
2. Latency (benchmarks/relay_latency.py): a `journey relay` subprocess runs while commands
   are applied at the offered rate; a consumer process stamps each event's arrival.
   Latency = arrival - the moment the command was stored (goal: p99 < 50 ms at 1,000
   commands/s); the achieved writing rate is printed next to the offered one. The writer
   stores each command in its own transaction, then (`--writer both`, default) again with
   group commit, as the HTTP endpoints do.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import uuid
from itertools import zip_longest
from pathlib import Path

from kafka import KafkaProducer

from benchmarks.common import cohort_lines, timed, work_dir
from benchmarks.raw_latency import measure_raw_latency
from benchmarks.relay_latency import Trace, measure_latency
from config.settings import Settings
from consumers.log_reader import LogReader
from journey.application import JourneyApplication
from publishing.history_cache import HistoryCache
from publishing.publisher import checksums_in_c, producer_config
from publishing.relay import Relay, RelayConfig, RelayReport
from publishing.relay_batch import Outgoing, build_batch
from publishing.topics import TopicNames, delete_topics, ensure_topics
from services.bootstrap import build_application
from services.importing import import_lines


def interleaved(lines: list[str]) -> list[str]:
    """Round-robin over patients, each patient's commands kept in order."""
    by_patient: dict[str, list[str]] = {}
    for line in lines:
        by_patient.setdefault(line.split('"patient_id":')[1].split('"')[1], []).append(line)
    rounds = zip_longest(*by_patient.values())
    return [line for batch in rounds for line in batch if line is not None]


_MADE: list[TopicNames] = []  # deleted when the benchmark ends


def fresh_topics(bootstrap: str, label: str) -> TopicNames:
    prefix = f"bench.{label}.{uuid.uuid4().hex[:8]}"
    names = TopicNames(f"{prefix}.events", f"{prefix}.state", f"{prefix}.anchors")
    _MADE.append(names)
    ensure_topics(bootstrap, names)
    return names


def delete_fresh_topics(bootstrap: str) -> None:
    """Deletes the run's topics (every producer and consumer of them is closed by then). Left
    behind, they piled up on the local broker: 8,410 partitions and 7.6 GB after a few
    sessions. (They did not slow later runs: latency runs with 9,289 partitions on the
    broker were as fast as on a fresh one, docs/benchmarks.md, sixth pass.)"""
    try:
        print(f"deleted the run's {len(delete_topics(bootstrap, _MADE))} topics")
    finally:
        _MADE.clear()


def same_records(app: JourneyApplication, batch_size: int, topics: TopicNames) -> list[Outgoing]:
    """The records the relay publishes, rebuilt with its own batch logic (untimed)."""
    histories = HistoryCache(lambda pid, v: [], max_patients=10**9)
    records: list[Outgoing] = []
    for page in LogReader(app, batch=batch_size).pages(1):
        records += build_batch(page, histories, topics).records
    return records


def raw_rate(bootstrap: str, records: list[Outgoing], events: int) -> float:
    """The same records from a bare producer, in a heap frozen as the relay's is (its
    records are then never scanned by the collector)."""
    producer = KafkaProducer(**producer_config(bootstrap))
    gc.freeze()

    def send_all() -> None:
        futures = [
            producer.send(o.topic, key=o.record.key, value=o.record.value, headers=o.record.headers)
            for o in records
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=0)

    _, seconds = timed(send_all)
    producer.close()
    return events / seconds


def relay_rate(
    app: JourneyApplication, settings: Settings, bootstrap: str, batch_size: int
) -> tuple[float, str]:
    """A relay from position 0 to fresh topics (its position is per events topic), as
    `journey relay` runs it: batches prepared ahead in its worker process."""
    topics = fresh_topics(bootstrap, "relay")
    config = RelayConfig(bootstrap, topics, batch_size=batch_size, create_topics=False)

    def run() -> RelayReport:  # as `journey relay` runs it (interfaces/cli_relay.py)
        relay = Relay(app, config, settings)
        gc.freeze()
        return relay.run(once=True)

    result, seconds = timed(run)  # with its start
    return result.events / seconds, str(result)


def stored_cohort(settings: Settings, commands: int) -> tuple[JourneyApplication, int]:
    """The store of the settings holding the benchmark's cohort (its first `commands`
    commands, patients interleaved), and how many events it holds."""
    app = build_application(settings)
    report = import_lines(app, interleaved(cohort_lines(commands)), continue_on_error=True)
    return app, report.accepted


def throughput(bootstrap: str, commands: int, batch_size: int, repeat: int, work: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{work}/throughput.db")
    app, events = stored_cohort(settings, commands)
    records = same_records(app, batch_size, fresh_topics(bootstrap, "raw"))
    relay_rates, raw_rates = [], []
    for _ in range(repeat):  # alternated, so both see the same machine load
        rate, summary = relay_rate(app, settings, bootstrap, batch_size)
        relay_rates.append(rate)
        raw_rates.append(raw_rate(bootstrap, records, events))
    relay, raw = max(relay_rates), max(raw_rates)
    print(f"{events} events stored; relay batch {batch_size}: {summary}")
    print(f"throughput, best of {repeat} alternated runs:{'events/s':>18}")
    print(f"{'relay (read log, decode, summaries, send, position)':<52}{relay:>10,.0f}")
    print(f"{f'raw KafkaProducer, same {len(records)} records':<52}{raw:>10,.0f}")
    print(f"{'relay / raw':<52}{relay / raw:>10.1%}   (goal >= 80%)")
    print(
        f"  all runs: relay {[round(r) for r in relay_rates]}, raw {[round(r) for r in raw_rates]}"
    )
    app.close()


PURE_PYTHON_CHECKSUMS = Path(__file__).resolve().parent / "pure_python_checksums"


def _restart_without_crc32c() -> None:
    """This benchmark again, its sitecustomize first on PYTHONPATH (inherited by the relay
    and the consumer): kafka-python then checksums in pure Python in every process."""
    path = os.pathsep.join(
        p for p in (str(PURE_PYTHON_CHECKSUMS), os.environ.get("PYTHONPATH")) if p
    )
    command = [sys.executable, "-m", "benchmarks.bench_relay", *sys.argv[1:]]
    os.execve(sys.executable, command, {**os.environ, "PYTHONPATH": path})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="commands per second")
    parser.add_argument("--poll-interval", type=float, default=0.01)
    parser.add_argument(
        "--writer",
        choices=["single", "group", "both"],
        default="both",
        help="latency: one transaction per command, group commit, or both runs",
    )
    parser.add_argument(
        "--trace-relay",
        action="store_true",
        help="latency: print the relay's step and garbage-collection timings",
    )
    parser.add_argument(
        "--no-freeze", action="store_true", help="with --trace-relay: no gc.freeze() in the relay"
    )
    parser.add_argument(
        "--pure-python-checksums",
        action="store_true",
        help="every process of the run as if the crc32c package were missing (the comparison)",
    )
    args = parser.parse_args()
    if args.pure_python_checksums and args.trace_relay:
        parser.error("--pure-python-checksums and --trace-relay each need their sitecustomize")
    if args.pure_python_checksums and checksums_in_c():
        _restart_without_crc32c()
    bootstrap = os.environ.get("JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    work = work_dir("bench-relay-")
    checksums = "C (crc32c)" if checksums_in_c() else "pure Python (crc32c missing)"
    print(f"python {sys.version.split()[0]}, broker {bootstrap}, work dir {work}")
    print(f"kafka-python record checksums: {checksums}, for the relay and the raw producer")
    try:
        run(args, bootstrap, work)
    finally:
        delete_fresh_topics(bootstrap)


def run(args: argparse.Namespace, bootstrap: str, work: Path) -> None:
    if args.repeat > 0:
        throughput(bootstrap, args.commands, args.batch_size, args.repeat, work)
    for writer in ("single", "group"):
        if args.seconds > 0 and args.writer in (writer, "both"):
            topics = fresh_topics(bootstrap, f"latency-{writer}")
            load, poll = (args.seconds, args.rate), args.poll_interval
            trace = Trace(work / f"relay-trace-{writer}.txt", args.no_freeze)
            measure_latency(
                bootstrap, topics, work, load, poll, group=writer == "group",
                trace=trace if args.trace_relay else None,
            )  # fmt: skip
    if args.seconds > 0 and args.writer != "single":
        raw_latency_limit(bootstrap, work, (args.seconds, args.rate))


def raw_latency_limit(bootstrap: str, work: Path, load: tuple[float, float]) -> None:
    """The grouped run's event records (its store), sent again by a raw producer."""
    app = build_application(Settings(database_url=f"sqlite:///{work}/latency-group.db"))
    topics = fresh_topics(bootstrap, "latency-raw")
    records = [o for o in same_records(app, 5_000, topics) if o.topic == topics.events]
    app.close()
    measure_raw_latency(bootstrap, topics.events, records, load)


if __name__ == "__main__":
    main()
