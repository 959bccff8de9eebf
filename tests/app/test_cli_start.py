"""Process start of `journey`: a command loads its own module and what it runs, no other
command's. `journey import` loads neither the read side, the API, the relay, Kafka nor the
audit commands; `journey --help` lists every command without loading what they run (the
settings, the application, the stores). Read from Python's own import report
(PYTHONPROFILEIMPORTTIME), as tests/app/test_import_start.py does."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
import typer.main

from interfaces.cli import COMMANDS, LazyGroup, app
from tests.app.test_import_start import import_reports, imported
from tests.cli_support import run_journey

# What `journey import` never runs: other commands' modules, the read side, the web stack,
# Kafka, the demo generator, the audit report and the replay.
NOT_FOR_IMPORT = (
    "fastapi", "starlette", "uvicorn", "kafka", "rich", "devtools", "projections",
    "consumers", "publishing", "audit.report", "audit.verify", "services.replay",
    "services.replay_parallel", "interfaces.api", "interfaces.cli_journey",
    "interfaces.cli_audit", "interfaces.cli_verify", "interfaces.cli_relay",
    "interfaces.cli_project", "interfaces.cli_analytics", "interfaces.cli_erase",
)  # fmt: skip
# What listing the commands never needs: the settings, the application and its stores.
NOT_FOR_HELP = (
    "config", "pydantic", "pydantic_settings", "eventsourcing", "infrastructure",
    "services.runtime", "services.replay_parallel", "journey.application", "journey.events",
    "projections", "consumers", "audit", "publishing.cloudevents", "publishing.anchor_head",
    "fastapi", "uvicorn", "kafka", "devtools",
)  # fmt: skip
WIDE = {"COLUMNS": "250", "PYTHONPROFILEIMPORTTIME": "1"}


def among(modules: Iterable[str], names: Iterable[str]) -> list[str]:
    """The modules that are one of `names` or inside one of them."""
    return sorted(m for m in modules for n in names if m == n or m.startswith(f"{n}."))


def test_journey_import_loads_no_other_commands_modules(tmp_path: Path) -> None:
    for flags, modules in import_reports(tmp_path).items():
        assert {"interfaces.cli", "services.importing"} <= modules  # the report is there
        assert among(modules, NOT_FOR_IMPORT) == [], flags


def test_journey_help_lists_every_command_without_loading_their_work(tmp_path: Path) -> None:
    done = run_journey(f"sqlite:///{tmp_path / 'none.db'}", "--help", env=WIDE)
    assert done.returncode == 0, done.stderr[-2000:]
    group, width = typer.main.get_command(app), max(map(len, COMMANDS))
    with typer.Context(group) as ctx:
        for name in COMMANDS:
            command = group.get_command(ctx, name)
            assert command is not None and command.help, name
            first_line = command.help.splitlines()[0]
            assert f"│ {name:<{width}}  {first_line}" in done.stdout, name
    modules = imported(done.stderr)
    assert "interfaces.cli" in modules
    assert among(modules, NOT_FOR_HELP) == []
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_command_loads_its_own_module_and_no_other_commands(tmp_path: Path, name: str) -> None:
    done = run_journey(f"sqlite:///{tmp_path / 'none.db'}", name, "--help", env=WIDE)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = imported(done.stderr)
    assert COMMANDS[name] in modules
    shared = "interfaces.cli_access"  # the access trail's helpers, which most commands use
    others = set(COMMANDS.values()) - {COMMANDS[name], shared}
    assert among(modules, others) == []


def test_each_module_declares_the_commands_the_group_looks_for_in_it() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, LazyGroup)
    for module in set(COMMANDS.values()):
        declared = group.declared_in(module)
        assert set(declared) == {n for n, m in COMMANDS.items() if m == module}, module
