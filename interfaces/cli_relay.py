"""`journey relay`: runs the Kafka publishing relay, or reports its position and lag."""

from __future__ import annotations

import gc
import logging
from typing import Annotated

import typer

from interfaces.cli_errors import EXIT_BROKEN, EXIT_USAGE
from interfaces.cli_signals import stop_on_signals
from interfaces.cli_store import runtime
from publishing.topics import ANCHORS_TOPIC, EVENTS_TOPIC, STATE_TOPIC, TopicNames

EventsTopic = Annotated[
    str, typer.Option(envvar="JOURNEY_RELAY_EVENTS_TOPIC", help="events topic name")
]
StateTopic = Annotated[
    str, typer.Option(envvar="JOURNEY_RELAY_STATE_TOPIC", help="state topic name")
]
AnchorsTopic = Annotated[
    str, typer.Option(envvar="JOURNEY_RELAY_ANCHORS_TOPIC", help="anchor head topic name")
]


def relay(
    *,
    once: Annotated[bool, typer.Option("--once", help="exit when caught up")] = False,
    status: Annotated[bool, typer.Option("--status", help="print position, head, lag")] = False,
    events_topic: EventsTopic = EVENTS_TOPIC,
    state_topic: StateTopic = STATE_TOPIC,
    anchors_topic: AnchorsTopic = ANCHORS_TOPIC,
    batch_size: Annotated[int, typer.Option(min=1, help="notifications per batch")] = 5_000,
    poll_interval: Annotated[float, typer.Option(min=0.001, help="idle poll, s")] = 0.02,
) -> None:
    """Publish the event log to Kafka (care-journey.events.v1, .state.v1, .anchors.v1)."""
    from publishing.relay import Relay, RelayConfig
    from publishing.relay_heads import AnchorMissing
    from publishing.relay_position import RelayPosition

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is per connection
    application = runtime().application
    if status:
        typer.echo(str(RelayPosition(application, events_topic).lag()))
        return
    bootstrap = runtime().settings.kafka_bootstrap_servers
    if not bootstrap:
        typer.echo("error: set JOURNEY_KAFKA_BOOTSTRAP_SERVERS to publish", err=True)
        raise typer.Exit(EXIT_USAGE)  # not configured: a usage error
    config = RelayConfig(
        bootstrap=bootstrap,
        topics=TopicNames(events=events_topic, state=state_topic, anchors=anchors_topic),
        batch_size=batch_size,
        poll_interval_s=poll_interval,
    )
    relay = Relay(application, config, runtime().settings)
    gc.freeze()  # the modules, schemas and store built so far: never scanned again
    try:
        with stop_on_signals() as stop:
            report = relay.run(once=once, stop=stop)
    except AnchorMissing as error:
        typer.echo(f"BROKEN: {error}", err=True)
        raise typer.Exit(EXIT_BROKEN) from None
    typer.echo(f"relay: {report}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(relay)
