"""The one parser of instants and dates named on the command line or in a query string.

An instant is ISO-8601 text with a UTC offset ('Z' allowed) between 1990-01-01 and
2200-01-01 (`journey.timekeeping.query_range`); a plain number is not an instant. A date is
YYYY-MM-DD in the same range. The CLI gets an `InvalidCommand` naming the option; the HTTP
API gets a pydantic error naming the parameter (a 422 problem)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from journey.errors import invalid
from journey.timekeeping import QUERY_EARLIEST, QUERY_LATEST, is_after, is_before

_RANGE = f"{QUERY_EARLIEST.date()} .. {QUERY_LATEST.date()}"


class BadInstant(ValueError):
    """Why a text is not an instant (or date) a query may name: the rule and a message."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule, self.message = rule, message


def instant(value: str) -> datetime:
    """The instant `value` names; BadInstant when it is none or outside the query range."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInstant("iso8601", f"'{value}' is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise BadInstant("timezone_aware", f"'{value}' needs a UTC offset, e.g. +00:00 or Z")
    if is_before(parsed, QUERY_EARLIEST) or is_after(parsed, QUERY_LATEST):
        raise BadInstant("instant_range", f"'{value}' lies outside {_RANGE}")
    return parsed


def local_date(value: str) -> date:
    """The date `value` names (YYYY-MM-DD); BadInstant when it is none or out of range."""
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadInstant("iso_date", f"'{value}' is not a date (YYYY-MM-DD)") from None
    if not QUERY_EARLIEST.date() <= parsed <= QUERY_LATEST.date():
        raise BadInstant("date_range", f"'{value}' lies outside {_RANGE}")
    return parsed


# -- the command line -----------------------------------------------------------------
def parse_instant(value: str | None, field: str) -> datetime | None:
    """The instant of option `field` (None stays None); InvalidCommand naming it."""
    if value is None:
        return None
    try:
        return instant(value)
    except BadInstant as bad:
        raise invalid(field, bad.rule, bad.message) from None


def parse_date(value: str | None, field: str) -> date:
    """The date of a required option `field`; InvalidCommand naming it."""
    if value is None:
        raise invalid(field, "required", f"--{field} is required (YYYY-MM-DD)")
    try:
        return local_date(value)
    except BadInstant as bad:
        raise invalid(field, bad.rule, bad.message) from None


# -- query strings (pydantic BeforeValidators of the HTTP API's parameters) -------------
def _query_error(rule: str, message: str) -> ValueError:
    """The API's error for a query parameter (pydantic's, loaded by the API, not the CLI)."""
    from pydantic_core import PydanticCustomError  # noqa: PLC0415

    return PydanticCustomError(rule, message)


def query_instant(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise _query_error("iso8601", "must be an ISO-8601 timestamp with a UTC offset")
    try:
        return instant(value)
    except BadInstant as bad:
        raise _query_error(bad.rule, bad.message) from None


def query_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise _query_error("iso_date", "must be a date (YYYY-MM-DD)")
    try:
        return local_date(value)
    except BadInstant as bad:
        raise _query_error(bad.rule, bad.message) from None
