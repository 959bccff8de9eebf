"""Domain errors mapped to CLI messages and exit codes, once for every command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from journey.errors import Conflict, JourneyError, UnknownPatient

EXIT_REJECTED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 1, 2, 3, 4


@contextmanager
def domain_errors() -> Iterator[None]:
    """Maps domain exceptions to a message on stderr and an exit code."""
    try:
        yield
    except UnknownPatient as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except Conflict as error:
        typer.echo(f"conflict: {error}", err=True)
        raise typer.Exit(EXIT_CONFLICT) from None
    except JourneyError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(EXIT_REJECTED) from None
