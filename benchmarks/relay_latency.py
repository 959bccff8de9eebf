"""Part 2 of bench_relay: command accepted -> downstream consumer latency.

A relay subprocess (`journey relay`) follows a fresh SQLite store while this process
applies commands at a steady offered rate: one transaction each (`application.handle`),
or, with `group`, the commands due by then in one transaction (`handle_many`, as the HTTP
endpoints group-commit concurrent requests);
a consumer in its own process (so it does not take the writer's interpreter lock) stamps
each event's first arrival. Both stamps are `time.perf_counter()` (CLOCK_MONOTONIC, one
clock for every process of the machine). Latency = arrival - the moment the command was
stored (and, printed too, arrival - the moment the command was due, which adds the wait
for the writer).
The writer stops after `seconds` even when it is short of commands; the achieved rate is
printed next to the offered one: the writer is the limit when it falls short."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer

from benchmarks.common import cohort_lines, percentile
from config.settings import Settings
from journey.commands import parse_command_json
from publishing.topics import TopicNames
from services.bootstrap import build_application

SETTLE_S = 3.0  # relay and consumer connected and idle before the first command
DRAIN_S = 10.0  # how long to wait for the last events downstream


def stamp_arrivals(bootstrap: str, topic: str, ready: Any, stop: Any, out: Any) -> None:
    """A downstream consumer process: when each ce_id first arrived, sent at `stop`."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        fetch_max_wait_ms=10,
    )
    arrived: dict[str, float] = {}
    consumer.poll(timeout_ms=500)  # joined and assigned
    ready.set()
    while not stop.is_set():
        for records in consumer.poll(timeout_ms=10).values():
            now = time.perf_counter()
            for record in records:
                ce_id = dict(record.headers)["ce_id"].decode()
                arrived.setdefault(ce_id, now)
    consumer.close()
    out.put(arrived)


TRACE_DIR = Path(__file__).resolve().parent / "relay_trace"  # its sitecustomize.py


@dataclass(frozen=True)
class Trace:
    """`--trace-relay`: the relay subprocess times its steps and collections into `out`
    (benchmarks/relay_trace); `no_freeze` leaves out its gc.freeze() for comparison."""

    out: Path
    no_freeze: bool = False

    def env(self) -> dict[str, str]:
        path = os.pathsep.join(p for p in (str(TRACE_DIR), os.environ.get("PYTHONPATH")) if p)
        flag = {"JOURNEY_BENCH_RELAY_NO_FREEZE": "1"} if self.no_freeze else {}
        return {"PYTHONPATH": path, "JOURNEY_BENCH_RELAY_TRACE": str(self.out), **flag}


def start_relay(
    bootstrap: str, topics: TopicNames, db: str, poll: float, trace: Trace | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JOURNEY_DATABASE_URL": db, "JOURNEY_KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    env.update(trace.env() if trace else {})
    command = [sys.executable, "-m", "interfaces", "relay", "--events-topic", topics.events,
               "--state-topic", topics.state, "--anchors-topic", topics.anchors,
               "--poll-interval", str(poll)]  # fmt: skip
    return subprocess.Popen(command, env=env)


def measure_latency(
    bootstrap: str,
    topics: TopicNames,
    work: Path,
    load: tuple[float, float],
    poll: float,
    *,
    group: bool = False,
    trace: Trace | None = None,
) -> None:
    seconds, rate = load
    db = f"sqlite:///{work}/latency-{'group' if group else 'single'}.db"
    app = build_application(Settings(database_url=db))
    count = int(seconds * rate)
    commands = [parse_command_json(line) for line in cohort_lines(count + 10, seed=11)][:count]
    relay = start_relay(bootstrap, topics, db, poll, trace)
    try:  # a relay left running would spin a core once the run's topics are deleted
        stamps, arrived = stamped_run(bootstrap, topics.events, app, commands, load, group=group)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    app.close()
    mode = "grouped: the commands due when the last group was stored, in one transaction"
    print(f"writer: {mode if group else 'one SQLite transaction per command'}")
    title = (
        f"latency, command accepted -> downstream consumer, relay idle poll {poll * 1000:.0f} ms"
    )
    report(stamps, arrived, rate, title)
    by_second(stamps.accepted, arrived, stamps.start)
    if trace is not None:
        freeze = "without" if trace.no_freeze else "with"
        print(f"  the relay's own timings ({freeze} its gc.freeze()):")
        print(trace.out.read_text(encoding="utf-8"))


def stamped_run(
    bootstrap: str,
    topic: str,
    app: Any,
    commands: list[Any],
    load: tuple[float, float],
    *,
    group: bool,
) -> tuple[Stamps, dict[str, float]]:
    """The writer at the offered load, and a consumer process stamping each event's arrival
    on `topic`; returns when the consumer has sent its stamps (or raises, the consumer
    stopped)."""
    seconds, rate = load
    context = multiprocessing.get_context("spawn")
    ready, stop, out = context.Event(), context.Event(), context.Queue()
    consumer = context.Process(target=stamp_arrivals, args=(bootstrap, topic, ready, stop, out))
    consumer.start()
    try:
        ready.wait(60)
        time.sleep(SETTLE_S)
        write = write_grouped if group else write_singly
        stamps = write(app, commands, rate, seconds)
        time.sleep(DRAIN_S)
        stop.set()
        arrived: dict[str, float] = out.get(timeout=60)
        consumer.join()
        return stamps, arrived
    finally:
        if consumer.is_alive():
            consumer.terminate()
            consumer.join()


@dataclass
class Stamps:
    start: float  # perf_counter when the first command was due
    achieved: float = 0.0  # commands per second the writer stored
    accepted: dict[str, float] = field(default_factory=dict)  # event id -> stored at
    offered: dict[str, float] = field(default_factory=dict)  # event id -> due at


def write_singly(app: Any, commands: list[Any], rate: float, seconds: float) -> Stamps:
    """One `handle` (one transaction) per command, each at its due time."""
    stamps = Stamps(start=time.perf_counter())
    sent = 0
    for index, command in enumerate(commands):
        now = time.perf_counter()
        if now - stamps.start > seconds:
            break  # a writer slower than the offered rate stops on time, short of commands
        due = stamps.start + index / rate
        time.sleep(max(0.0, due - now))
        outcome = app.handle(command)
        sent += 1
        if outcome.event_id:
            stamps.accepted[outcome.event_id] = time.perf_counter()
            stamps.offered[outcome.event_id] = due
    stamps.achieved = sent / (time.perf_counter() - stamps.start)
    return stamps


def due_groups(stamps: Stamps, total: int, rate: float, seconds: float) -> Iterator[range]:
    """The indexes of each next group at the offered `rate`: every item due by now (at
    least one: waits for it when none is), until `total` items or `seconds` have passed.
    `stamps.achieved` is set when the groups end."""
    index = 0
    while index < total:
        now = time.perf_counter()
        if now - stamps.start > seconds:
            break  # a writer slower than the offered rate stops on time, short of items
        due_count = min(total, int((now - stamps.start) * rate) + 1)
        if due_count <= index:
            time.sleep(stamps.start + index / rate - now)
            continue
        yield range(index, due_count)
        index = due_count
    stamps.achieved = index / (time.perf_counter() - stamps.start)


def write_grouped(app: Any, commands: list[Any], rate: float, seconds: float) -> Stamps:
    """Group commit, as the HTTP command endpoints do (services.group_writer): every command
    due by the time the previous group was stored goes into the next `handle_many` (not
    atomic: each keeps its own outcome). At a low rate a group is one command."""
    stamps = Stamps(start=time.perf_counter())
    for group in due_groups(stamps, len(commands), rate, seconds):
        outcomes = app.handle_many([commands[i] for i in group], atomic=False)
        stored = time.perf_counter()
        for index, outcome in zip(group, outcomes, strict=True):
            event_id = getattr(outcome, "event_id", None)
            if event_id:
                stamps.accepted[event_id] = stored
                stamps.offered[event_id] = stamps.start + index / rate
    return stamps


def report(stamps: Stamps, arrived: dict[str, float], rate: float, title: str) -> None:
    accepted, achieved = stamps.accepted, stamps.achieved
    samples = [(arrived[i] - t) * 1000 for i, t in accepted.items() if i in arrived]
    print(f"{title}, {len(accepted)} commands:")
    print(f"  offered {rate:,.0f} commands/s, achieved {achieved:,.0f} commands/s")
    if achieved < 0.95 * rate:
        print(f"  the writer could not sustain {rate:,.0f} commands/s on this machine")
    if not samples:
        print(f"  received 0/{len(accepted)}")
        return
    print(
        f"  received {len(samples)}/{len(accepted)}; p50 {percentile(samples, 0.5):.1f} ms,"
        f" p99 {percentile(samples, 0.99):.1f} ms (goal < 50 ms), max {max(samples):.1f} ms"
    )
    due = [(arrived[i] - t) * 1000 for i, t in stamps.offered.items() if i in arrived]
    print(
        f"  command due -> downstream (with the wait for the writer): p50"
        f" {percentile(due, 0.5):.1f} ms, p99 {percentile(due, 0.99):.1f} ms"
    )


def by_second(accepted: dict[str, float], arrived: dict[str, float], start: float) -> None:
    """p50 / p99 / max per second of the run: a stall shows as one slow second."""
    seconds: dict[int, list[float]] = {}
    for event_id, t in accepted.items():
        if event_id in arrived:
            seconds.setdefault(int(t - start), []).append((arrived[event_id] - t) * 1000)
    print("  per second of the run (second: commands, p50 / p99 / max ms):")
    for second, samples in sorted(seconds.items()):
        print(
            f"    {second:3d}: {len(samples):5d}, {percentile(samples, 0.5):7.1f} /"
            f" {percentile(samples, 0.99):7.1f} / {max(samples):7.1f}"
        )
