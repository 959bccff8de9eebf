"""`journey serve`, `show`, `history` and `demo`: the HTTP API, a patient's journey and
history, the demo cohort. What each needs is imported when it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from interfaces.cli_access import cli_actor, recorded
from interfaces.cli_errors import EXIT_REJECTED, EXIT_USAGE, domain_errors
from interfaces.cli_progress import Progress
from interfaces.cli_store import require_store, runtime
from interfaces.render import history_text, journey_text
from interfaces.timeparse import parse_date, parse_instant

ACTOR_HELP = "who is reading (recorded in the access trail); default JOURNEY_ACTOR or the OS user"


def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    project: Annotated[
        bool,
        typer.Option(
            "--project/--no-project",
            help="keep the analyst read models current in a worker thread of this process"
            " (--no-project: a separate `journey project` does)",
        ),
    ] = True,
) -> None:
    """Serve the HTTP API (API keys required unless JOURNEY_AUTH=false)."""
    from contextlib import nullcontext

    import uvicorn

    from interfaces.api.app import create_app
    from interfaces.cli_project import projecting_beside

    settings = runtime().settings
    if settings.auth and not settings.api_keys:
        typer.echo(
            "error: authentication is on but no API keys are configured: set "
            "JOURNEY_API_KEYS='key=principal:role;...' (roles: clinician, service, auditor, "
            "analyst, admin) or JOURNEY_API_KEYS_FILE=/path/to/keys (e.g. a Docker secret), "
            "or JOURNEY_AUTH=false for local development only",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    if not settings.auth:
        typer.echo(
            "warning: authentication is OFF (JOURNEY_AUTH=false): development only", err=True
        )
    api = create_app(settings=settings)  # its lifespan opens and closes its composition root
    typer.echo(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)", err=True)
    with projecting_beside(settings) if project else nullcontext():
        # no uvicorn access log: its lines carry patient ids; the access trail records reads
        uvicorn.run(api, host=host, port=port, log_level="info", access_log=False)


def show(
    patient_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="instant T")] = None,
    known_at: Annotated[str | None, typer.Option("--known-at", help="recorded by K")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the SPEC JSON shape")] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """A patient's journey as of an instant, as known at an instant."""
    from projections.queries import patient_journey

    require_store()
    application = runtime().application
    with (
        domain_errors(),
        recorded("journey.read", patient_id, f"as_of={as_of} known_at={known_at}", actor),
    ):
        view = patient_journey(
            application,
            patient_id,
            as_of=parse_instant(as_of, "as_of"),
            known_at=parse_instant(known_at, "known_at"),
        ).model_dump(mode="json")
    typer.echo(json.dumps(view, indent=2) if as_json else journey_text(view))


def history(
    patient_id: str,
    known_at: Annotated[str | None, typer.Option("--known-at", help="recorded by K")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    actor: Annotated[str | None, typer.Option(help=ACTOR_HELP)] = None,
) -> None:
    """Every stored event of a patient, in order."""
    from projections.queries import patient_history

    require_store()
    application = runtime().application
    with domain_errors(), recorded("history.read", patient_id, f"known_at={known_at}", actor):
        events = patient_history(
            application, patient_id, known_at=parse_instant(known_at, "known_at")
        )
    if as_json:
        body = {"patient_id": patient_id, "events": [e.model_dump(mode="json") for e in events]}
        typer.echo(json.dumps(body, indent=2))
    else:
        typer.echo(history_text(events))


def demo(
    patients: Annotated[int, typer.Option(help="cohort size", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same cohort)")] = 7,
    until: Annotated[str | None, typer.Option(help="last day (YYYY-MM-DD), default today")] = None,
    out: Annotated[Path | None, typer.Option(help="write JSON Lines here instead")] = None,
    force: Annotated[bool, typer.Option(help="load even if the store has data")] = False,
    care: Annotated[
        bool,
        typer.Option(
            "--care/--no-care",
            help="primary therapists, treatment plans and reviews, referrals, weekly"
            " individual sessions with the primary therapist",
        ),
    ] = True,
) -> None:
    """Generate a synthetic, deterministic demo cohort and load it (or write it)."""
    from devtools.demo.care import CareProfile
    from devtools.demo.cohort import CohortProfile, generate_cohort, write_jsonl
    from services.importing import import_lines

    with domain_errors():
        end = parse_date(until, "until") if until else datetime.now(UTC).date()
    profile = CohortProfile(care=CareProfile() if care else None)
    commands = generate_cohort(patients, seed=seed, until=end, profile=profile)
    if out is not None:
        with out.open("w", encoding="utf-8") as sink:
            typer.echo(f"wrote {write_jsonl(commands, sink)} commands to {out}", err=True)
        return
    application = runtime().application
    if application.recorder.max_notification_id() and not force:
        typer.echo("the store already holds events: demo not loaded (use --force)", err=True)
        return
    cohort = [json.dumps(c) for c in commands]
    with domain_errors(), Progress("demo", len(cohort), "commands") as progress:
        report = import_lines(
            application,
            cohort,
            continue_on_error=True,
            actor="demo",
            tick=progress.advance,
            recorded_by=cli_actor(),
        )
    typer.echo(f"demo cohort: {report.summary()}", err=True)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(show)
    app.command()(history)
    app.command()(demo)
