"""The bulk import's workers parse a `record_session` line (95% of an intake file) with
`RecordSession`'s own validator, not through the union of every command.

The union (`journey.commands.parse_command_json`) picks the model by the line's `command`
and runs that model's validator, then turns a `ValidationError` into the domain error; for a
session the dispatch and the wrapper are about a quarter of the parse. Validating the line
with the model's validator directly gives the same command (same rules, values and fields
set: it is the same validator) whenever the line names `"command": "record_session"`; any
other line, and a line the model rejects, goes through the union, which names the error
exactly as the plain path does. `FAST` is false, and every line takes the union, should the
union stop dispatching `record_session` to this very model (tests/unit/test_bulk_lines.py
compares both on generated lines)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from journey.commands import _ADAPTER, Command, RecordSession
from journey.errors import JourneyError
from services.importing import parse_entry


def _dispatches_to_the_model(schema: Any) -> bool:
    """The union's schema: tagged by `command`, lax, `record_session` -> RecordSession's."""
    choices = schema.get("choices", {}) if schema.get("type") == "tagged-union" else {}
    return (
        schema.get("discriminator") == "command"
        and not schema.get("strict")
        and choices.get("record_session") == RecordSession.__pydantic_core_schema__
        and RecordSession.model_fields["command"].default == "record_session"
    )


FAST = _dispatches_to_the_model(_ADAPTER.core_schema)
_validate_session = RecordSession.__pydantic_validator__.validate_json
_TAG = '"record_session"'


def parse_line(text: str, actor: str | None) -> Command | JourneyError:
    """`parse_entry(text, actor)`: the same command, or the same error."""
    if FAST and _TAG in text:
        try:
            command: RecordSession = _validate_session(text)
        except ValidationError:
            return parse_entry(text, actor)  # the union names the field and the rule
        if "command" in command.__pydantic_fields_set__:  # the union needs it given
            if actor is not None and command.actor is None:
                return command.model_copy(update={"actor": actor})
            return command
    return parse_entry(text, actor)
