"""`journey import`: commands from a JSON Lines file or stdin, by the bulk path (worker
processes) or the plain one. Its modules are imported when the command runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from interfaces.cli_access import cli_actor
from interfaces.cli_errors import EXIT_REJECTED, domain_errors
from interfaces.cli_progress import Progress, count_lines
from interfaces.cli_store import runtime

if TYPE_CHECKING:
    from services.importing import ImportReport


def import_(
    file: Annotated[str, typer.Argument(help="JSON Lines of commands; '-' for stdin")],
    continue_on_error: Annotated[
        bool, typer.Option("--continue-on-error", help="apply the lines that are accepted")
    ] = False,
    actor: Annotated[str | None, typer.Option(help="actor for commands naming none")] = None,
    bulk: Annotated[
        bool | None,
        typer.Option(
            "--bulk/--plain",
            help="--bulk: decide in worker processes, store in large batches; --plain: one"
            " process. Default: --bulk for an atomic import of a file, else --plain",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="worker processes for --bulk", min=0)] = 2,
) -> None:
    """Import commands. Atomic by default: one rejected line and nothing is stored."""
    actor = cli_actor(actor)
    auto = bulk is None  # the bulk path when it can fall back to the plain one
    if auto:
        bulk = file != "-" and not continue_on_error
    path = None if file == "-" else Path(file)
    report = _import_from(path, actor, continue_on_error, workers if bulk else None, auto)
    for rejected in report.rejected:
        typer.echo(str(rejected), err=True)
    typer.echo(report.summary(), err=True)
    if report.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _import_from(
    path: Path | None,
    actor: str | None,
    continue_on_error: bool,
    workers: int | None,
    fallback: bool = False,
) -> ImportReport:
    """Imports the file at `path` (None: stdin) by the bulk path with `workers`, or by the
    plain path (`workers` None). With `fallback`, an atomic bulk import that cannot go on
    (`ScatteredInput`: it stored nothing) is done again by the plain path."""
    from services.importing import decoded_lines, import_lines

    application = runtime().application if workers is None else None
    try:
        stream = sys.stdin.buffer if path is None else path.open("rb")
    except OSError as error:
        message = f"cannot read {path}: {error.strerror}"
        raise typer.BadParameter(message, param_hint="FILE") from None
    total = None if path is None else count_lines(path)
    with stream, domain_errors(), Progress("import", total, "lines") as progress:
        lines = decoded_lines(stream)
        if application is not None:
            return import_lines(
                application,
                lines,
                continue_on_error=continue_on_error,
                actor=actor,
                tick=progress.advance,
                recorded_by=actor,
            )
        from services.bulk.decide import ScatteredInput
        from services.bulk.importer import bulk_import_lines

        try:
            return bulk_import_lines(
                progress.lines_of(lines),
                settings=runtime().settings,
                continue_on_error=continue_on_error,
                actor=actor,
                workers=workers or 0,
                recorded_by=actor,
            )
        except ScatteredInput:
            if not (fallback and not continue_on_error):
                raise
    return _import_from(path, actor, continue_on_error, None)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
