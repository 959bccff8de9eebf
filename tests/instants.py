"""Histories saved as JSON before issue 12 write instants as pydantic did: UTC with `Z`, and
clinical instants with the offset they were given (`-07:00`). Every output now writes the
same instant in UTC with `+00:00`. `as_written_now` turns a saved document into today's
form, so a test comparing a store's history with one saved earlier compares content."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def as_written_now(value: Any) -> Any:
    if isinstance(value, str) and INSTANT.match(value):
        return datetime.fromisoformat(value).astimezone(UTC).isoformat()
    if isinstance(value, list):
        return [as_written_now(v) for v in value]
    if isinstance(value, dict):
        return {k: as_written_now(v) for k, v in value.items()}
    return value
