"""Tamper evidence for one patient's stream: every event carries `chain_hash`, the SHA-256
of the previous event's hash and of its own canonical content, so editing, deleting,
inserting or reordering a stored event breaks the chain at that place. Which schema version
and fields an event is hashed with across schema changes: `journey.domain_events`
(`hashed_form`)."""

from __future__ import annotations

import hashlib
from dataclasses import is_dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import orjson

GENESIS = "0" * 64
NOT_CONTENT = frozenset({"originator_id", "originator_version", "originator_topic", "chain_hash"})


def canonical_content(
    patient_id: str, version: int, event_type: str, schema_version: int, fields: dict[str, Any]
) -> bytes:
    """The bytes hashed for an event: identity, position, type, schema and every attribute
    (recording time, clinical time, actor, payload), as JSON with sorted keys, no spaces,
    UTF-8, and instants in UTC (RFC 3339, `+00:00`)."""
    body = {
        k: v.astimezone(UTC) if isinstance(v, datetime) else v
        for k, v in fields.items()
        if k not in NOT_CONTENT
    }
    document = {
        "fields": body,
        "patient_id": patient_id,
        "schema_version": schema_version,
        "type": event_type,
        "version": version,
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def link(previous: str, content: bytes) -> str:
    """The chain hash of an event, given the previous event's (GENESIS for the first)."""
    return hashlib.sha256(previous.encode() + b"\n" + content).hexdigest()


# orjson walks the value itself and hands back only what `_canonical_part` writes: instants
# (converted to UTC), dates and times (as orjson writes them), dataclasses (written whole, as
# orjson writes them, instants inside unconverted) and tuples that are not plain tuples.
_CANONICAL = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _canonical_part(value: Any) -> Any:
    if isinstance(value, datetime):
        return orjson.Fragment(orjson.dumps(value.astimezone(UTC)))
    if isinstance(value, date | time) or (is_dataclass(value) and not isinstance(value, type)):
        return orjson.Fragment(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    if isinstance(value, tuple):  # a named tuple: its items, as a list
        return list(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def canonical_state(value: Any) -> bytes:
    """Canonical bytes of a snapshot's state (or part of it): JSON with sorted keys, no
    spaces, UTF-8, instants in UTC wherever they are nested in dicts, lists and tuples.
    One orjson pass, which calls back for the instants alone (tests/unit/test_chain.py
    compares it with the walk it replaced)."""
    try:
        return orjson.dumps(value, default=_canonical_part, option=_CANONICAL)
    except orjson.JSONEncodeError as error:  # an instant near year 1 or 9999: as the walk did
        if isinstance(error.__cause__, OverflowError):
            raise error.__cause__ from None
        raise


def snapshot_digest(patient_id: str, version: int, topic: str, state: dict[str, Any]) -> str:
    """The SHA-256 a snapshot carries over its identity and content. The state holds
    `chain_head`, the chain hash of the event at the snapshot's version, so the digest also
    ties the snapshot to its place in the chain."""
    document = {"patient_id": patient_id, "version": version, "topic": topic, "state": state}
    return hashlib.sha256(canonical_state(document)).hexdigest()
