"""`journey project`: keeps the analyst read models (rm_ tables) up to date, from the
notification log or from the events topic; `--rebuild` replays them from scratch, with the
log follower (`--workers 1`, SQLite's default) or with worker processes into a scratch file
loaded in one transaction (`--workers N`, PostgreSQL's default: `replay_parallel.py`)."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from config.settings import Settings
from publishing.cloudevents import EVENTS_TOPIC

from consumers.projector_hooks import CrashHook
from infrastructure.sql import Database
from interfaces.cli_errors import EXIT_REJECTED, EXIT_USAGE
from interfaces.cli_progress import Progress
from interfaces.cli_store import runtime

if TYPE_CHECKING:
    from consumers.projector_log import LogFollower

GROUP_ID = "care-journey-projector"


class Source(StrEnum):
    log = "log"
    kafka = "kafka"


@dataclass(frozen=True)
class Run:
    """One `journey project` invocation, resolved."""

    settings: Settings
    once: bool
    rebuild: bool
    workers: int
    batch_size: int
    topic: str
    group: str
    poll_interval: float
    crash: CrashHook
    stop: threading.Event


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _run_log(run: Run, db: Database) -> int:
    from consumers.projector_log import LogFollower, follow_log

    application = runtime().application
    follower = LogFollower(application, db, batch_size=run.batch_size, crash=run.crash)
    read = _rebuild(run, db, follower) if run.rebuild else 0
    if run.rebuild and run.once:
        return read
    return read + follow_log(follower, once=run.once, poll_seconds=run.poll_interval, stop=run.stop)


def _rebuild(run: Run, db: Database, follower: LogFollower) -> int:
    from consumers.projector_log import rebuild
    from services.replay_parallel import rebuild_store

    total = follower.app.recorder.max_notification_id() or 0
    with Progress("rebuild", total, "events") as progress:
        if run.workers == 1:
            return rebuild(follower, tick=progress.advance)
        return rebuild_store(
            db, run.settings, run.workers, stop=total, tick=progress.advance, say=_say
        )


def _say(line: str) -> None:
    typer.echo(line, err=True)


def _rebuild_workers(workers: int | None, rebuild: bool, db: Database) -> int:
    """--workers as given, else 1 on SQLite (the log follower) and 2 or more on PostgreSQL."""
    from services.replay_parallel import DEFAULT_WORKERS

    if workers is not None and not rebuild:
        raise typer.BadParameter("--workers goes with --rebuild")
    if workers is not None:
        return workers
    return max(2, DEFAULT_WORKERS) if db.dialect.name == "postgresql" else 1


def _run_kafka(run: Run, db: Database) -> int:
    from consumers.projector import KafkaProjector, ProjectorError, make_consumer, run_projector

    bootstrap = run.settings.kafka_bootstrap_servers
    if not bootstrap:
        typer.echo("error: --source kafka needs JOURNEY_KAFKA_BOOTSTRAP_SERVERS", err=True)
        raise typer.Exit(EXIT_USAGE)
    consumer = make_consumer(bootstrap, run.group)
    try:
        projector = KafkaProjector(
            consumer, db, run.topic, run.group, run.batch_size, run.crash,
            cipher_key=run.settings.cipher_key,
        )  # fmt: skip
        return run_projector(projector, once=run.once, stop=run.stop)
    except ProjectorError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_REJECTED) from None
    finally:
        consumer.close()


Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="--rebuild: 1 = the log follower, N = N worker processes into a scratch file,"
        " then one load; default 1 on SQLite, 2 or more on PostgreSQL",
    ),
]


def project(
    *,
    source: Annotated[
        Source | None,
        typer.Option(
            help="log or kafka; default kafka when JOURNEY_KAFKA_BOOTSTRAP_SERVERS is set"
        ),
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="exit when caught up")] = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="drop the rm_ tables and replay the log from 0")
    ] = False,
    workers: Workers = None,
    batch_size: Annotated[int, typer.Option(help="events per transaction", min=1)] = 500,
    topic: Annotated[
        str, typer.Option(envvar="JOURNEY_RELAY_EVENTS_TOPIC", help="events topic (kafka)")
    ] = EVENTS_TOPIC,
    group: Annotated[
        str, typer.Option(envvar="JOURNEY_PROJECTOR_GROUP", help="consumer group (kafka)")
    ] = GROUP_ID,
    poll_interval: Annotated[float, typer.Option(help="seconds between log polls")] = 1.0,
    crash_after_batches: Annotated[
        int | None,
        typer.Option(envvar="JOURNEY_PROJECTOR_CRASH_AFTER_BATCHES", hidden=True),  # test hook
    ] = None,
) -> None:
    """Project events into the analyst read models (rm_ tables) of the store."""
    settings = runtime().settings
    chosen = source or (Source.kafka if settings.kafka_bootstrap_servers else Source.log)
    chosen = Source.log if rebuild else chosen
    db, started = runtime().database, time.perf_counter()
    run = Run(
        settings, once, rebuild, _rebuild_workers(workers, rebuild, db), batch_size, topic,
        group, poll_interval, CrashHook(crash_after_batches), _stop_on_signals(),
    )  # fmt: skip
    read = _run_log(run, db) if chosen is Source.log else _run_kafka(run, db)
    seconds = time.perf_counter() - started
    rate = f"{read / seconds:,.0f}" if seconds else "-"
    typer.echo(
        f"projected {read} events from the {chosen} in {seconds:.1f}s ({rate} events/s)", err=True
    )


def register_project(app: typer.Typer) -> None:
    app.command("project")(project)
