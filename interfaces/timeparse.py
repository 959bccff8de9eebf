"""Parsing of instants given on the command line or in a query string."""

from __future__ import annotations

from datetime import datetime

from journey.errors import invalid


def parse_instant(value: str | None, field: str) -> datetime | None:
    """An ISO-8601 instant with a UTC offset ('Z' allowed); None stays None."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, "iso8601", f"'{value}' is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise invalid(field, "timezone_aware", f"'{value}' needs a UTC offset, e.g. +00:00 or Z")
    return parsed
