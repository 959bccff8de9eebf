"""The instants and time zones the service accepts (SPEC section 4, docs/input-rules.md).

A clinical instant (`occurred_at`) lies between the earliest clinical instant (default
1990-01-01T00:00:00Z, setting `JOURNEY_EARLIEST_OCCURRED_AT`) and 5 minutes after now. An
instant a query names lies in QUERY_RANGE. A time zone is a canonical IANA zone name. Every
comparison here is safe for any instant `datetime` can hold (years 1 and 9999 with an
offset overflow when converted to UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import available_timezones

from journey.errors import violation

EARLIEST_OCCURRED_AT = datetime(1990, 1, 1, tzinfo=UTC)
QUERY_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
QUERY_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(minutes=5)

# Files of the zoneinfo directory that are no zone of their own or no canonical name.
_NOT_ZONES = frozenset({"localtime", "Factory", "posixrules", "leapseconds", "tzdata.zi"})
_NOT_ZONE_PREFIXES = ("posix/", "right/")


def _utc(value: datetime) -> datetime | None:
    """The instant in UTC; None when it lies outside what `datetime` holds in UTC."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


def is_before(value: datetime, bound: datetime) -> bool:
    """`value < bound` for aware datetimes, without overflowing near years 1 and 9999."""
    utc = _utc(value)
    return value.year < bound.year if utc is None else utc < bound


def is_after(value: datetime, bound: datetime) -> bool:
    """`value > bound` for aware datetimes, without overflowing near years 1 and 9999."""
    utc = _utc(value)
    return value.year > bound.year if utc is None else utc > bound


@cache
def canonical_zones() -> frozenset[str]:
    """The IANA zone names of the installed database, without the files that are no zone
    (`localtime`, `Factory`, `posixrules`) and the `posix/` and `right/` copies."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(_NOT_ZONE_PREFIXES)
    ) | {"UTC"}


def is_canonical_zone(name: str) -> bool:
    return name in canonical_zones()


def not_in_future(occurred_at: datetime, now: datetime, field: str = "occurred_at") -> None:
    if is_after(occurred_at, now + FUTURE_TOLERANCE):
        raise violation(field, "not_in_future", "is more than 5 minutes in the future")


def not_before_earliest(occurred_at: datetime | None, earliest: datetime) -> None:
    """A clinical instant before the earliest one (a typo such as 1026, or 0001) is refused:
    it could only be an error, and it would break every calendar computed from it."""
    if occurred_at is not None and is_before(occurred_at, earliest):
        raise violation(
            "occurred_at",
            "not_before_earliest",
            f"is before the earliest clinical instant ({earliest.isoformat()})",
        )
