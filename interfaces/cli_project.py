"""`journey project`: keeps the analyst read models (rm_ tables) up to date, from the
notification log or from the events topic; `--rebuild` replays them from scratch, in this
process (`--workers 1`, SQLite's default) or with worker processes into a scratch file
loaded in one transaction (`--workers N`, PostgreSQL's default: `replay_parallel.py`).
The use cases are the read-model service's (`consumers/read_model_service.py`); following
the log is eventsourcing's `ProjectionRunner` on PostgreSQL, the service's poller on
SQLite (`consumers/projection.py`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from interfaces.cli_errors import EXIT_REJECTED, EXIT_USAGE
from interfaces.cli_progress import Progress
from interfaces.cli_signals import stop_on_signals
from interfaces.cli_store import runtime
from publishing.topics import EVENTS_TOPIC

if TYPE_CHECKING:
    from config.settings import Settings
    from consumers.projector_hooks import CrashHook
    from consumers.read_model_service import ReadModelService
    from infrastructure.sql import Database
    from journey.application import JourneyApplication

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


@contextmanager
def read_model_service(
    settings: Settings,
    *,
    application: JourneyApplication | None = None,
    batch_size: int = 500,
    crash: CrashHook | None = None,
) -> Iterator[ReadModelService]:
    """The read-model service on the application of the command's composition root (or
    `application`), its schema prepared (a message on stderr when read models of another
    format are dropped)."""
    from consumers.read_model_service import ReadModelService

    app = application if application is not None else runtime().application
    with ReadModelService(
        app, settings.database_url, batch_size=batch_size, crash=crash
    ) as service:
        note = service.prepare()
        if note:
            typer.echo(note, err=True)
        yield service


def _run_log(run: Run, db: Database, application: JourneyApplication | None = None) -> int:
    with read_model_service(
        run.settings, application=application, batch_size=run.batch_size, crash=run.crash
    ) as service:
        read = _rebuild(run, db, service) if run.rebuild else 0
        if run.rebuild and run.once:
            return read
        if run.once or db.dialect.name != "postgresql":
            return read + service.follow(
                once=run.once, poll_seconds=run.poll_interval, stop=run.stop
            )
        return read + _subscribed(run, service)


def _subscribed(run: Run, service: ReadModelService) -> int:
    """PostgreSQL pushes notifications: eventsourcing's ProjectionRunner follows them."""
    from consumers.projection import MAPPER_TOPIC, run_subscribed
    from services.bootstrap import application_class

    subscribed = application_class(run.settings, MAPPER_TOPIC)
    return run_subscribed(service, subscribed, run.settings.database_url, run.stop)


def _rebuild(run: Run, db: Database, service: ReadModelService) -> int:
    from services.replay_parallel import rebuild_store

    total = service.reader.head()
    with Progress("rebuild", total, "events") as progress:
        if run.workers == 1:
            return service.rebuild(tick=progress.advance)
        return rebuild_store(
            db, run.settings, run.workers, stop=total, tick=progress.advance, say=_say
        )


def _say(line: str) -> None:
    typer.echo(line, err=True)


@contextmanager
def projecting_beside(settings: Settings) -> Iterator[None]:
    """A projection worker thread following the log while the block runs (`journey serve`
    keeps its read models current this way; the HTTP reads never apply anything)."""
    stop = threading.Event()
    worker = threading.Thread(target=_project_until, args=(settings, stop), daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=30)


def _project_until(settings: Settings, stop: threading.Event) -> None:
    from consumers.projector_hooks import CrashHook
    from services.runtime import Runtime

    run = Run(settings, False, False, 1, 500, EVENTS_TOPIC, GROUP_ID, 1.0, CrashHook(), stop)
    with Runtime(settings) as own:  # a thread has no command context: its own root
        _run_log(run, own.database, own.application)


def _rebuild_workers(workers: int | None, rebuild: bool, db: Database) -> int:
    """--workers as given, else 1 on SQLite (the log follower) and 2 or more on PostgreSQL."""
    from services.worker_counts import DEFAULT_WORKERS

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
    from consumers.projector_hooks import CrashHook

    settings = runtime().settings
    chosen = source or (Source.kafka if settings.kafka_bootstrap_servers else Source.log)
    chosen = Source.log if rebuild else chosen
    db, started = runtime().database, time.perf_counter()
    with stop_on_signals() as stop:
        run = Run(
            settings, once, rebuild, _rebuild_workers(workers, rebuild, db), batch_size, topic,
            group, poll_interval, CrashHook(crash_after_batches), stop,
        )  # fmt: skip
        read = _run_log(run, db) if chosen is Source.log else _run_kafka(run, db)
    seconds = time.perf_counter() - started
    rate = f"{read / seconds:,.0f}" if seconds else "-"
    typer.echo(
        f"projected {read} events from the {chosen} in {seconds:.1f}s ({rate} events/s)", err=True
    )


def register(app: typer.Typer) -> None:
    app.command("project")(project)
