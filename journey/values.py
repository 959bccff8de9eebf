"""The value types of clinical facts, declared once: commands, events and their contracts
all use these (SPEC section 4). Catalog values are checked against the catalog (read on
first use) and the error lists the valid values; identifiers, free text, durations and
instants carry their syntax."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    StrictInt,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from journey.catalog import default_catalog
from journey.timekeeping import is_canonical_zone

IDENTIFIER = r"^[A-Za-z0-9._-]{1,64}$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER, description="1-64 of A-Z a-z 0-9 . _ -")]
FreeText = Annotated[str, Field(min_length=1, max_length=500)]
Actor = Annotated[str, Field(min_length=1, max_length=128)]
Minutes = Annotated[StrictInt, Field(ge=1, le=720)]


def one_of(kind: str, valid: Callable[[], Iterable[str]]) -> Callable[[str], str]:
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


@dataclass(frozen=True)
class CatalogValue:
    """A value of the catalog's list `attribute` (read on first use): checked, the error
    naming the valid values, and listed as the JSON Schema `enum` when a schema is made
    (the API's OpenAPI document, the topic contract). For levels, validation is the
    level's own (ids and ASAM codes); this adds the enum. The enum is left out of output
    schemas (the topic contract): an event stays valid when the catalog changes later."""

    kind: str
    attribute: str

    def values(self) -> list[str]:
        return list(getattr(default_catalog(), self.attribute))

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        if self.kind == "level":
            return handler(source)
        check = one_of(self.kind, self.values)
        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        found = handler(schema)
        if handler.mode == "validation":  # what is accepted; output keeps what was accepted
            found["enum"] = self.values()
        return found


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


def _iso_date(value: Any) -> Any:
    """A local date is ISO-8601 text YYYY-MM-DD (or a date): no time, no number."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("iso_date", "must be an ISO-8601 date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError(
            "iso_date", f"'{value}' is not an ISO-8601 date (YYYY-MM-DD)"
        ) from None


LevelId = Annotated[str, AfterValidator(_level), CatalogValue("level", "level_aliases")]
Timezone = Annotated[str, AfterValidator(_timezone)]


def _isoformat(value: datetime) -> str:
    return value.isoformat()


# An instant: read from ISO-8601 text with its offset, written as Python's isoformat (`T`,
# and `+00:00` for UTC, never `Z`: one format in every output).
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_instant),
    PlainSerializer(_isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
LocalDate = Annotated[date, BeforeValidator(_iso_date)]
Approach = Annotated[str, CatalogValue("approach", "approaches")]
Format = Annotated[str, CatalogValue("format", "formats")]
Delivery = Annotated[str, CatalogValue("delivery", "deliveries")]
Status = Annotated[str, CatalogValue("status", "session_statuses")]
AgeGroup = Annotated[str, CatalogValue("age_group", "age_groups")]
DischargeReason = Annotated[str, CatalogValue("reason", "discharge_reasons")]
Dimension = Annotated[str, CatalogValue("dimension", "asam_dimensions")]
Specialty = Annotated[str, CatalogValue("specialty", "referral_specialties")]
ReviewOutcome = Annotated[str, CatalogValue("outcome", "review_outcomes")]
ObjectiveStatus = Annotated[str, CatalogValue("objective status", "objective_statuses")]
ReferralOutcome = Annotated[str, CatalogValue("outcome", "referral_close_outcomes")]
