"""The machinery of the command registry (the table itself is `journey.commands.REGISTRY`):
one entry per command, from which the command union's parser, the application's dispatch,
the HTTP resource routes and the contracts are derived.

A command of the union without an entry (or an entry whose command is not in the union)
fails when the table is built, at import: never at runtime."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, get_args

from pydantic import BaseModel, TypeAdapter, ValidationError

from journey.errors import InvalidCommand, Issue

if TYPE_CHECKING:
    from journey.domain_events import PatientEvent
    from journey.patient import Patient

C = TypeVar("C", bound=BaseModel)
C_contra = TypeVar("C_contra", bound=BaseModel, contravariant=True)


class Decide(Protocol[C_contra]):
    """An aggregate method deciding a command: the event it recorded, None for a duplicate
    (nothing recorded); raises the domain error of a rejection, leaving the patient as it
    was."""

    def __call__(
        self, patient: Patient, command: C_contra, /, *, now: datetime, by: str | None = None
    ) -> PatientEvent | None: ...


class Open(Protocol[C_contra]):
    """Decides a command that creates the patient (its first admission)."""

    def __call__(
        self, command: C_contra, /, *, now: datetime, default_timezone: str, by: str | None = None
    ) -> Patient: ...


@dataclass(frozen=True)
class CommandSpec(Generic[C]):
    """One command: its model, the aggregate method deciding it, the events it records, its
    resource (the path under /v1/patients/{patient_id}/ where it is POSTed; a `{field}` of
    the path is a field of the command) and a one-line summary for the API's documentation.
    `opens`: how the command creates a patient not yet known (else it needs one)."""

    model: type[C]
    decide: Decide[C]
    records: tuple[type[PatientEvent], ...]
    resource: str
    summary: str
    opens: Open[C] | None = None

    @cached_property
    def name(self) -> str:
        """The command's name (its `command` literal)."""
        default: str = self.model.model_fields["command"].default
        return default

    @cached_property
    def instants(self) -> tuple[str, ...]:
        """The command's clinical instants (never before the earliest clinical instant)."""
        return tuple(
            n for n in ("occurred_at", "session_occurred_at") if n in self.model.model_fields
        )

    @cached_property
    def path_fields(self) -> tuple[str, ...]:
        """Fields of the command the resource path carries (besides patient_id)."""
        return tuple(re.findall(r"{(\w+)}", self.resource))


class RegistryError(TypeError):
    """The command table does not match the command union."""


def registry_of(union: Any, specs: Sequence[CommandSpec[Any]]) -> dict[str, CommandSpec[Any]]:
    """The table by command name, checked against the union's members: each member has
    exactly one entry with a decide method, each entry's model is a member, and names and
    resources are unique."""
    members = set(get_args(union)) or {union}
    models = [spec.model for spec in specs]
    missing = [m.__name__ for m in members if m not in models]
    if missing:
        raise RegistryError(f"commands without a registry entry: {sorted(missing)}")
    strays = [m.__name__ for m in models if m not in members]
    if strays or len(set(models)) != len(models):
        raise RegistryError(f"entries not in the command union, or twice: {strays or models}")
    for spec in specs:
        if not callable(spec.decide) or not spec.records:
            raise RegistryError(f"{spec.model.__name__}: no decide method or no event")
        unknown = set(spec.path_fields) - set(spec.model.model_fields)
        if unknown:
            raise RegistryError(f"{spec.model.__name__}: path names unknown {sorted(unknown)}")
    table = {spec.name: spec for spec in specs}
    if len(table) != len(specs) or len({s.resource for s in specs}) != len(specs):
        raise RegistryError("two entries share a command name or a resource")
    return table


def issues_from(error: ValidationError, names: Sequence[str]) -> list[Issue]:
    """Our Issues for pydantic's errors, with the union tag (a command name) dropped from
    field paths."""
    issues = []
    for err in error.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in names:
            loc = loc[1:]
        field = ".".join(loc) or ("json" if err["type"] == "json_invalid" else "command")
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        issues.append(Issue(field, err["type"], message))
    return issues


def parse(adapter: TypeAdapter[C], raw: Any, names: Sequence[str], *, text: bool = False) -> C:
    """One command from a dict (as parsed from JSON), or from its JSON `text`."""
    try:
        return adapter.validate_json(raw) if text else adapter.validate_python(raw)
    except ValidationError as error:
        raise InvalidCommand(*issues_from(error, names)) from None
