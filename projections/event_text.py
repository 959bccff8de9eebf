"""Events and instants as text for people (CLI history, audit report): one format for every
instant, ISO-8601 with `T` and UTC as `+00:00`, as the JSON outputs write them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from journey.events import EventEnvelope


def instant_text(value: datetime) -> str:
    """`2026-10-12T09:00:00+00:00`: never `Z`, never a space."""
    return value.astimezone(UTC).isoformat()


def value_text(value: object) -> str:
    """A payload value as text: instants as above, dates ISO-8601, nested values (a plan's
    goals, a review's objectives) as compact JSON."""
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=value_text, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def details_text(envelope: EventEnvelope, separator: str = " ") -> str:
    """The payload's set fields as `field=value` (its `type` left out)."""
    found = envelope.payload.model_dump(exclude={"type"}, exclude_none=True)
    return separator.join(f"{k}={value_text(v)}" for k, v in found.items())
