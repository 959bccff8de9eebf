"""Commands as pydantic v2 models: one JSON object per command (SPEC section 4).

Everything a command can get wrong on its own (unknown fields, catalog values, identifier
syntax, timestamps without an offset) is rejected here, naming the field and the rule.
Rules that depend on the patient's history live in the aggregate."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_validator,
)
from pydantic_core import PydanticCustomError

from journey.catalog import default_catalog
from journey.errors import InvalidCommand, Issue
from journey.timekeeping import is_canonical_zone

IDENTIFIER = r"^[A-Za-z0-9._-]{1,64}$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER, description="1-64 of A-Z a-z 0-9 . _ -")]
FreeText = Annotated[str, Field(min_length=1, max_length=500)]
Actor = Annotated[str, Field(min_length=1, max_length=128)]
Minutes = Annotated[StrictInt, Field(ge=1, le=720)]


def _one_of(kind: str, valid: Callable[[], Iterable[str]]) -> Callable[[str], str]:
    """A validator of catalog values (read from the catalog on first use)."""
    known: set[str] = set()

    def check(value: str) -> str:
        if value in known:
            return value
        options = list(valid())
        known.update(options)
        if value not in known:
            raise PydanticCustomError(
                "catalog_value",
                f"unknown {kind} '{value}'; valid values: {', '.join(options)}",
            )
        return value

    return check


def _level(value: str) -> str:
    catalog = default_catalog()
    level = catalog.resolve_level(value)
    if level is None:
        valid = ", ".join(catalog.level_aliases)
        raise PydanticCustomError(
            "catalog_value",
            f"unknown level '{value}'; valid values (ids or ASAM codes): {valid}",
        )
    return level


def _timezone(value: str) -> str:
    if not is_canonical_zone(value):
        raise PydanticCustomError(
            "iana_timezone",
            f"unknown time zone '{value}'; use a canonical IANA name such as America/Phoenix",
        )
    return value


def _iso_instant(value: Any) -> Any:
    """An instant is ISO-8601 text (or a datetime): a number is not (pydantic would read it
    as seconds since 1970)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("iso8601", "must be an ISO-8601 timestamp with a UTC offset")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "iso8601", f"'{value}' is not an ISO-8601 timestamp with a UTC offset"
        ) from None


LevelId = Annotated[str, AfterValidator(_level)]
Timezone = Annotated[str, AfterValidator(_timezone)]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_instant)]
Approach = Annotated[str, AfterValidator(_one_of("approach", lambda: default_catalog().approaches))]
Format = Annotated[str, AfterValidator(_one_of("format", lambda: default_catalog().formats))]
Delivery = Annotated[str, AfterValidator(_one_of("delivery", lambda: default_catalog().deliveries))]
Status = Annotated[
    str, AfterValidator(_one_of("status", lambda: default_catalog().session_statuses))
]
AgeGroup = Annotated[
    str, AfterValidator(_one_of("age_group", lambda: default_catalog().age_groups))
]
DischargeReason = Annotated[
    str, AfterValidator(_one_of("reason", lambda: default_catalog().discharge_reasons))
]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)

    patient_id: Identifier


class _EntersLevel(_Command):
    """A command that starts a stay: its level field (`level` or `to_level`) is the level id
    (SPEC 2: output always uses the id), and `asam_code` the ASAM code it was entered with
    (the level's default code when entered by id)."""

    _level_field: ClassVar[str]
    _entered_code: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_entered_code(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        command = handler(data)
        entered = data.get(cls._level_field) if isinstance(data, dict) else None
        if isinstance(entered, str) and entered != getattr(command, cls._level_field):
            command._entered_code = entered
        return command

    @property
    def asam_code(self) -> str:
        level: str = getattr(self, self._level_field)
        return self._entered_code or default_catalog().default_code(level)


class Admit(_EntersLevel):
    _level_field = "level"
    command: Literal["admit"] = "admit"
    level: LevelId = Field(description="level id or an ASAM code of its row (kept as entered)")
    occurred_at: Instant
    age_group: AgeGroup = "adult"
    timezone: Timezone | None = Field(default=None, description="IANA name; default from settings")
    actor: Actor | None = None


class Transition(_EntersLevel):
    _level_field = "to_level"
    command: Literal["transition"] = "transition"
    to_level: LevelId = Field(description="level id or an ASAM code of its row (kept as entered)")
    occurred_at: Instant
    reason: FreeText | None = None
    actor: Actor | None = None


class RecordSession(_Command):
    command: Literal["record_session"] = "record_session"
    session_id: Identifier
    format: Format
    approach: Approach
    duration_minutes: Minutes
    occurred_at: Instant
    delivery: Delivery = "in_person"
    status: Status = "attended"
    clinician_id: Identifier | None = None
    actor: Actor | None = None


class CorrectSession(_Command):
    command: Literal["correct_session"] = "correct_session"
    session_id: Identifier
    reason: FreeText
    format: Format | None = None
    approach: Approach | None = None
    duration_minutes: Minutes | None = None
    occurred_at: Instant | None = None
    delivery: Delivery | None = None
    status: Status | None = None
    actor: Actor | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> CorrectSession:
        if not self.changes():
            raise PydanticCustomError(
                "changes_required",
                "a correction names at least one of: format, approach, duration_minutes, "
                "occurred_at, delivery, status",
            )
        return self

    def changes(self) -> dict[str, Any]:
        fields = (
            "format",
            "approach",
            "duration_minutes",
            "occurred_at",
            "delivery",
            "status",
        )
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}


class VoidSession(_Command):
    command: Literal["void_session"] = "void_session"
    session_id: Identifier
    reason: FreeText
    actor: Actor | None = None


class Discharge(_Command):
    command: Literal["discharge"] = "discharge"
    occurred_at: Instant
    reason: DischargeReason
    actor: Actor | None = None


Command = Admit | Transition | RecordSession | CorrectSession | VoidSession | Discharge
COMMAND_TYPES: dict[str, type[_Command]] = {
    "admit": Admit,
    "transition": Transition,
    "record_session": RecordSession,
    "correct_session": CorrectSession,
    "void_session": VoidSession,
    "discharge": Discharge,
}
_ADAPTER: TypeAdapter[Command] = TypeAdapter(Annotated[Command, Field(discriminator="command")])


def issues_from(error: ValidationError) -> list[Issue]:
    """Our Issues for pydantic's errors, with the union tag dropped from field paths."""
    issues = []
    for err in error.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if loc and loc[0] in COMMAND_TYPES:
            loc = loc[1:]
        field = ".".join(loc) or ("json" if err["type"] == "json_invalid" else "command")
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        issues.append(Issue(field, err["type"], message))
    return issues


def parse_command(raw: Any) -> Command:
    """Validate one command object (a dict, as parsed from JSON)."""
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as error:
        raise InvalidCommand(*issues_from(error)) from None


def parse_command_json(text: str | bytes) -> Command:
    """Validate one command from its JSON text."""
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as error:
        raise InvalidCommand(*issues_from(error)) from None
