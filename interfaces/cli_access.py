"""The CLI side of the access trail: who is acting, recording reads, and `journey access-log`."""

from __future__ import annotations

import getpass
import json
import socket
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from interfaces.cli_errors import domain_errors
from interfaces.cli_store import require_store, runtime
from interfaces.render import table
from interfaces.timeparse import parse_instant

if TYPE_CHECKING:
    from audit.access_log import AccessLog


def cli_actor(explicit: str | None = None) -> str:
    """--actor, else JOURNEY_ACTOR, else the operating-system account running the command."""
    return explicit or runtime().settings.actor or f"os:{getpass.getuser()}"


def access_log() -> AccessLog:
    """The access trail of the command's store (its composition root's); only on a store
    that exists (the trail is written by reads, which never create a store)."""
    require_store()
    return runtime().access_log


def recorded(
    action: str, patient_id: str | None, detail: str, actor: str | None
) -> AbstractContextManager[None]:
    """Records a CLI read or export of patient-level data, with its outcome."""
    from audit.access_log import Access, recording

    source = f"{getpass.getuser()}@{socket.gethostname()}"
    access = Access(
        datetime.now(UTC), cli_actor(actor), "cli", "cli", source, action, patient_id, detail, "ok"
    )
    return recording(access_log(), access)


def show_access_log(
    actor: Annotated[str | None, typer.Option(help="only this actor")] = None,
    patient: Annotated[str | None, typer.Option(help="only this patient")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. journey.read, history.read")] = None,
    since: Annotated[str | None, typer.Option(help="from this instant (ISO-8601, offset)")] = None,
    until: Annotated[str | None, typer.Option(help="to this instant")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 1_000,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    by: Annotated[str | None, typer.Option("--as", help="who is reading the trail")] = None,
) -> None:
    """The access trail: reads and exports of patient-level data, newest first."""
    with (
        domain_errors(),
        recorded("access_log.read", patient, f"actor={actor} action={action}", by),
    ):
        rows = access_log().query(
            actor=actor,
            patient_id=patient,
            action=action,
            limit=limit,
            since=parse_instant(since, "since"),
            until=parse_instant(until, "until"),
        )
    if as_json:
        typer.echo(json.dumps([{**asdict(r), "at": r.at.isoformat()} for r in rows], indent=2))
        return
    headers = ["at", "actor", "role", "channel", "source", "action", "patient", "outcome"]
    typer.echo(
        table(
            headers,
            [
                (
                    r.at.isoformat(),
                    r.actor,
                    r.role,
                    r.channel,
                    r.source,
                    r.action,
                    r.patient_id,
                    r.outcome,
                )
                for r in rows
            ],
        )
    )


def register(app: typer.Typer) -> None:
    app.command("access-log")(show_access_log)
