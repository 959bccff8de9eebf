"""Tamper evidence for one patient's stream: every event carries `chain_hash`, the SHA-256
of the previous event's hash and of its own canonical content, so editing, deleting,
inserting or reordering a stored event breaks the chain at that place. Which schema version
and fields an event is hashed with across schema changes: `journey.domain_events`
(`hashed_form`)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
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


def _in_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: _in_utc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_in_utc(v) for v in value]
    return value


def canonical_state(value: Any) -> bytes:
    """Canonical bytes of a snapshot's state (or part of it): JSON with sorted keys, no
    spaces, UTF-8, instants in UTC wherever they are nested."""
    return orjson.dumps(_in_utc(value), option=orjson.OPT_SORT_KEYS)


def snapshot_digest(patient_id: str, version: int, topic: str, state: dict[str, Any]) -> str:
    """The SHA-256 a snapshot carries over its identity and content. The state holds
    `chain_head`, the chain hash of the event at the snapshot's version, so the digest also
    ties the snapshot to its place in the chain."""
    document = {"patient_id": patient_id, "version": version, "topic": topic, "state": state}
    return hashlib.sha256(canonical_state(document)).hexdigest()
