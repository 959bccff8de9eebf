"""Fingerprints of recorded facts: canonical digests of their content that tell a retry
of a command (accepted once, reported as a duplicate) from a different command with the
same id (a conflict). Instants compare as instants, whatever their UTC offset."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from journey.chain import canonical_state

SESSION_FIELDS = ("format", "approach", "duration_minutes", "delivery", "status", "clinician_id")
CORRECTABLE_VALUES = ("format", "approach", "duration_minutes", "delivery", "status")


def session_content(source: Any) -> dict[str, Any]:
    """A session's recorded content (its start and SESSION_FIELDS), from the command that
    records it or from the event that recorded it."""
    return {"occurred_at": source.occurred_at, **{n: getattr(source, n) for n in SESSION_FIELDS}}


def fingerprint(*content: Any) -> str:
    """A digest of a fact's content (instants as instants, whatever their offset), to tell
    a retry of a plan, review, referral or close from a different one with the same id."""
    return hashlib.sha256(canonical_state(list(content))).hexdigest()


def session_fingerprint(content: dict[str, Any]) -> str:
    """A canonical text of a session's recorded content, to tell a retry from a clash."""
    return (
        f"{content['occurred_at'].timestamp()}|{content['format']}|{content['approach']}|"
        f"{content['duration_minutes']}|{content['delivery']}|{content['status']}|"
        f"{content['clinician_id']}"
    )


def correction_fingerprint(changes: dict[str, Any], reason: str) -> str:
    """A canonical text of a correction (its fields, values and reason), to tell a retry of
    the last correction of a session from a new one; instants compare as instants."""
    parts = [
        f"{name}={value.timestamp() if isinstance(value, datetime) else value}"
        for name, value in sorted(changes.items())
    ]
    return "|".join([*parts, f"reason={reason}"])
