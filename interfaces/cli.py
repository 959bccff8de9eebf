"""The `journey` command line (SPEC section 7). It only translates between the terminal and
the application; domain errors are mapped to messages and exit codes here, once.

Each command is declared in the module named in `COMMANDS` and is loaded when it is run
(or when `journey --help` lists it): `journey import` loads no module of the read side,
the API, the relay or the audit commands, and builds no other command's options. The
modules keep the implementation of a command out of their top level (it is imported by
the command function), so that listing the commands stays cheap too."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
import typer.main
from typer import _click  # the click that typer vendors (its commands are these)

from interfaces.cli_errors import GuardedGroup
from interfaces.cli_store import check_settings

# Every command: its name -> the module whose `register(app)` declares it, in the order
# `journey --help` lists them (the groups, `export`, after the commands, as Typer does).
COMMANDS = {
    "serve": "interfaces.cli_journey",
    "import": "interfaces.cli_import",
    "show": "interfaces.cli_journey",
    "history": "interfaces.cli_journey",
    "demo": "interfaces.cli_journey",
    "relay": "interfaces.cli_relay",
    "project": "interfaces.cli_project",
    "verify": "interfaces.cli_verify",
    "anchors": "interfaces.cli_audit",
    "audit-report": "interfaces.cli_audit",
    "replay": "interfaces.cli_audit",
    "access-log": "interfaces.cli_access",
    "census": "interfaces.cli_analytics",
    "los": "interfaces.cli_analytics",
    "transitions": "interfaces.cli_analytics",
    "retention": "interfaces.cli_analytics",
    "intensity": "interfaces.cli_analytics",
    "care-standards": "interfaces.cli_analytics",
    "erase": "interfaces.cli_erase",
    "rotate-key": "interfaces.cli_erase",
    "export": "interfaces.cli_analytics",
}


class LazyCommands(MutableMapping[str, _click.Command]):
    """The group's commands by name, each built from its module on first use: the names
    are known at once (usage errors and their suggestions name them all)."""

    def __init__(self, modules: dict[str, str], group: LazyGroup) -> None:
        self._modules, self._group = dict(modules), group
        self._built: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built:
            self._built.update(self._group.declared_in(self._modules[name]))  # KeyError: none
        return self._built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._modules.setdefault(name, "")
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._modules[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


class LazyGroup(GuardedGroup):
    """`GuardedGroup` whose commands are those of `COMMANDS`, loaded on demand; each is
    built by Typer as it would be on the `journey` app itself (same markup, suggestions)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        lazy = LazyCommands(COMMANDS, self)
        lazy.update(self.commands)  # any command registered on `app` itself, already built
        self.commands = lazy

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # the names: a command is built only when it is looked at

    def declared_in(self, module: str) -> dict[str, _click.Command]:
        """The commands `module` declares, built as click commands."""
        declared = typer.Typer(
            rich_markup_mode=self.rich_markup_mode, suggest_commands=self.suggest_commands
        )
        # the import statement's machinery (importlib.import_module bypasses the part
        # that `python -X importtime` reports from)
        __import__(module, fromlist=["register"]).register(declared)
        return dict(typer.main.get_group(declared).commands)


app = typer.Typer(
    help="Care-journey service: event-sourced addiction-treatment journeys.",
    callback=check_settings,
    cls=LazyGroup,
)


def main() -> None:
    """The console entry point (a store that this process's key does not fit is exit 7,
    mapped with the storage failures by `GuardedGroup`)."""
    app()
