"""Which store a CLI command works on: read commands never create one, and they say which
one they opened (on stderr, so that --json output stays clean).

Each command runs with one composition root (`services.runtime.Runtime`), opened by the
group's callback and closed when the command ends, whatever its outcome: `runtime()`.

A missing SQLite file is "storage unavailable" (exit 7): the command names the file it
looked for and how to point at another. Settings that do not validate (e.g. an unreadable
JOURNEY_API_KEYS_FILE) stop every command at once with the variable and the reason (exit 2).
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer

from interfaces.cli_errors import EXIT_STORAGE, EXIT_USAGE

if TYPE_CHECKING:  # imported when a command runs (the group's callback): not for --help
    from config.settings import Settings
    from services.runtime import Runtime


def check_settings(ctx: typer.Context) -> None:
    """Typer callback: the settings load, or the command ends with the reasons; then the
    command's composition root, closed with the command's context (`GuardedGroup`)."""
    from pydantic import ValidationError

    from config.settings import get_settings
    from services.runtime import Runtime

    try:
        settings = get_settings()
    except ValidationError as error:
        for issue in error.errors():
            message = issue["msg"].removeprefix("Value error, ")
            if issue["loc"]:
                field = ".".join(str(p) for p in issue["loc"])
                message = f"JOURNEY_{field.upper()}: {message}"
            typer.echo(f"error: configuration: {message}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    _running.set(ctx.with_resource(Runtime(settings)))
    ctx.call_on_close(lambda: _running.set(None))


_running: ContextVar[Runtime | None] = ContextVar("journey_cli_runtime", default=None)


def runtime() -> Runtime:
    """The composition root of the command being run."""
    found = _running.get()
    if found is None:
        raise RuntimeError("no composition root: run the command through the `journey` group")
    return found


def store_label(database_url: str) -> str:
    """The store named without its password: a SQLite file's absolute path or user@host/db."""
    from config.storage import persistence_env

    env = persistence_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return f"sqlite:///{Path(env['SQLITE_DBNAME']).resolve()}"
    url = urlsplit(database_url)
    user = f"{url.username}@" if url.username else ""
    return f"postgresql://{user}{url.hostname}:{url.port or 5432}{url.path}"


_announced: set[str] = set()


def require_store(settings: Settings | None = None) -> Settings:
    """For read commands: the configured store exists (else exit 7); says which it is
    (once per process)."""
    from config.settings import get_settings
    from config.storage import persistence_env

    settings = settings or get_settings()
    url = settings.database_url
    env = persistence_env(url)
    label = store_label(url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        name = env["SQLITE_DBNAME"]
        in_memory = name.startswith((":memory:", "file:"))
        if not in_memory and not Path(name).is_file():
            typer.echo(
                f"error: no store at {label} (nothing was created). Run the command where "
                "the store is, or set JOURNEY_DATABASE_URL=sqlite:////path/to/journey.db "
                "(or a postgresql:// URL).",
                err=True,
            )
            raise typer.Exit(EXIT_STORAGE)
    if label not in _announced:
        _announced.add(label)
        typer.echo(f"store: {label}", err=True)
    return settings
