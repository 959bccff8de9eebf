"""Domain errors mapped to CLI messages and exit codes, once for every command.

`domain_errors` maps the domain exceptions a command expects; `GuardedGroup` (the `journey`
command group) maps storage failures of any command, wherever they arise (opening the
store, writing, the access trail), to exit 7 and one line naming the cause."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # each is imported by the function that needs it: `journey --help` does not
    from journey.errors import StorageUnavailable

# The command line's exit codes, for every command.
EXIT_REJECTED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT = 1, 2, 3, 4
EXIT_BROKEN, EXIT_DIFFERENT, EXIT_STORAGE = 5, 6, 7  # integrity, replay, storage


def _unavailable(error: StorageUnavailable) -> typer.Exit:
    typer.echo(f"storage unavailable: {error.message}", err=True)
    return typer.Exit(EXIT_STORAGE)


@contextmanager
def domain_errors() -> Iterator[None]:
    """Maps domain exceptions to a message on stderr and an exit code."""
    from journey.errors import Conflict, JourneyError, StorageUnavailable, UnknownPatient

    try:
        yield
    except UnknownPatient as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except Conflict as error:
        typer.echo(f"conflict: {error}", err=True)
        raise typer.Exit(EXIT_CONFLICT) from None
    except StorageUnavailable as error:
        raise _unavailable(error) from None
    except JourneyError as error:
        typer.echo(f"rejected: {error}", err=True)
        raise typer.Exit(EXIT_REJECTED) from None


@contextmanager
def storage_errors() -> Iterator[None]:
    """Storage failures (disk full, read-only, cannot open or connect) and a store that
    this process's key does not fit -> exit 7."""
    from infrastructure.keys import StoreKeyError
    from infrastructure.storage_errors import storage_exceptions, storage_unavailable

    try:
        yield
    except StoreKeyError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_STORAGE) from None
    except storage_exceptions() as error:  # psycopg's when it is imported
        found = storage_unavailable(error, _database_url())
        if found is None:
            raise
        raise _unavailable(found) from None


def _database_url() -> str | None:
    from config.settings import get_settings
    from journey.errors import JourneyError

    try:
        return get_settings().database_url
    except JourneyError:
        return None


class GuardedGroup(TyperGroup):
    """The command group: every command runs inside `storage_errors`, and what it opened
    (its composition root, a resource of the group's context) is closed inside it too."""

    def invoke(self, ctx: Any) -> Any:  # typer.Context (click vendored by typer)
        with storage_errors():
            try:
                return super().invoke(ctx)
            finally:
                ctx.close()
